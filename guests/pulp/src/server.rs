//! The event loop of `httpd`: one WASI instance serving every connection, with non-blocking
//! sockets and `poll_oneoff`.
//!
//! Why poll-based rather than prefork: a preview 1 guest has one thread, so a blocking server
//! would serve one client at a time, and a slow client or a 10 MiB download would stall every
//! other request. A prefork server (several instances accepting on one socket) would need the
//! controller to start and supervise N instances, each with its own linear memory, and would
//! still stall once N slow clients arrive. One instance that waits on all its sockets at once
//! costs one memory and holds any number of connections; the price, that the loop must never
//! block, is paid here: sockets are non-blocking, file bodies go out in chunks as the socket
//! takes them, and files are local so reading a chunk does not wait on anyone.
//!
//! A connection reads one request head, answers it (the answer is decided by `serve`), then
//! reads the next (keep-alive, pipelining). Every connection has a deadline: an idle or slow
//! client (a head not complete within the timeout, a reader that takes nothing) is answered
//! 408 or closed, so it only ever costs its own socket.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::FromRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::clf;
use crate::http::{self, Status};
use crate::serve::{self, Body, Reply};
use crate::sys::{self, Interest, Subscription};

/// Bytes read from a socket or a file at a time.
const CHUNK: usize = 64 * 1024;
/// Connections held at once; beyond it, new ones wait in the listener's backlog.
const MAX_CONNECTIONS: usize = 1024;
/// How long, and how much, to keep reading after answering a connection that will close: a
/// client still sending (a 1 MiB request line) would otherwise get a reset instead of the answer.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 4 * 1024 * 1024;

/// How long listeners rest after a failed accept.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

const LISTENER_TAG: u64 = 1 << 63;
const TIMER_TAG: u64 = 1 << 62;

pub struct Config {
    pub root: PathBuf,
    pub timeout: Duration,
}

/// Serves forever on `listeners` (descriptor numbers handed in by the host).
pub fn run(listeners: &[u32], config: Config) -> io::Result<()> {
    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut next_id = 0u64;
    // After a failed accept (out of descriptors), listeners rest a while instead of waking the
    // loop again at once for a connection that cannot be taken.
    let mut accept_paused_until: Option<Instant> = None;
    loop {
        let now = Instant::now();
        accept_paused_until = accept_paused_until.filter(|t| *t > now);
        let mut subs = Vec::with_capacity(conns.len() + listeners.len() + 1);
        if conns.len() < MAX_CONNECTIONS && accept_paused_until.is_none() {
            subs.extend(
                listeners
                    .iter()
                    .enumerate()
                    .map(|(i, fd)| Subscription::new(LISTENER_TAG | i as u64, Interest::Read(*fd))),
            );
        }
        subs.extend(conns.iter().map(|(id, c)| Subscription::new(*id, c.interest())));
        if let Some(first) = conns.values().map(|c| c.deadline).chain(accept_paused_until).min() {
            let wait = first.saturating_duration_since(now).max(Duration::from_millis(1));
            subs.push(Subscription::new(TIMER_TAG, Interest::Timeout(wait)));
        }
        for ready in sys::poll(&subs)? {
            if ready & LISTENER_TAG != 0 {
                let fd = listeners[(ready & !LISTENER_TAG) as usize];
                if accept_all(fd, &mut conns, &mut next_id, &config).is_err() {
                    accept_paused_until = Some(Instant::now() + ACCEPT_PAUSE);
                }
            } else if ready != TIMER_TAG {
                let flow = match conns.get_mut(&ready) {
                    Some(c) => c.on_ready(&config),
                    None => continue,
                };
                if flow == Flow::Close {
                    conns.remove(&ready);
                }
            }
        }
        let now = Instant::now();
        conns.retain(|_, c| c.deadline > now || c.on_deadline(&config) == Flow::Keep);
    }
}

/// Takes every pending connection on `fd`; an error (out of descriptors) is logged and returned.
fn accept_all(fd: u32, conns: &mut HashMap<u64, Conn>, next_id: &mut u64, config: &Config) -> io::Result<()> {
    while conns.len() < MAX_CONNECTIONS {
        match sys::accept_nonblocking(fd) {
            Ok(Some(new_fd)) => {
                // SAFETY: the descriptor was just made by sock_accept and nothing else owns it.
                let stream = unsafe { TcpStream::from_raw_fd(new_fd as i32) };
                conns.insert(*next_id, Conn::new(stream, new_fd, config));
                *next_id += 1;
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                eprintln!("httpd: accept on fd {fd}: {e}");
                return Err(e);
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Keep,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head.
    Reading,
    /// Sending an answer.
    Writing,
    /// Answered, write side shut; discarding what the client still sends before closing.
    Draining,
}

struct Conn {
    stream: TcpStream,
    fd: u32,
    phase: Phase,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    /// The rest of a file body: the file, positioned, and how many bytes are still to send.
    file: Option<(File, u64)>,
    close_after: bool,
    peer_closed: bool,
    deadline: Instant,
    drained: usize,
}

impl Conn {
    fn new(stream: TcpStream, fd: u32, config: &Config) -> Conn {
        Conn {
            stream,
            fd,
            phase: Phase::Reading,
            inbuf: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            file: None,
            close_after: false,
            peer_closed: false,
            deadline: Instant::now() + config.timeout,
            drained: 0,
        }
    }

    fn interest(&self) -> Interest {
        match self.phase {
            Phase::Writing => Interest::Write(self.fd),
            Phase::Reading | Phase::Draining => Interest::Read(self.fd),
        }
    }

    fn on_ready(&mut self, config: &Config) -> Flow {
        match self.phase {
            Phase::Reading => {
                if self.fill(config) == Flow::Close {
                    return Flow::Close;
                }
                self.advance(config)
            }
            Phase::Writing => self.advance(config),
            Phase::Draining => self.drain(),
        }
    }

    /// Past the deadline: a half-received request is answered 408, anything else closed.
    fn on_deadline(&mut self, config: &Config) -> Flow {
        match self.phase {
            Phase::Reading if !self.inbuf.is_empty() => {
                let line = http::request_line(&self.inbuf).to_vec();
                self.inbuf.clear();
                self.answer(Reply::error(Status::RequestTimeout), false, &line, config);
                self.advance(config)
            }
            Phase::Writing => {
                eprintln!("httpd: closing a connection that took nothing for {:?}", config.timeout);
                Flow::Close
            }
            Phase::Reading | Phase::Draining => Flow::Close,
        }
    }

    /// Reads what the socket has into `inbuf`, up to a little more than the largest head, so
    /// an endless request line costs a bounded buffer.
    fn fill(&mut self, config: &Config) -> Flow {
        let mut chunk = [0u8; CHUNK];
        while self.inbuf.len() <= http::MAX_HEAD {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.peer_closed = true;
                    break;
                }
                Ok(n) => {
                    if self.inbuf.is_empty() {
                        // A new request starts: its whole head must arrive within the timeout.
                        self.deadline = Instant::now() + config.timeout;
                    }
                    self.inbuf.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Flow::Close,
            }
        }
        Flow::Keep
    }

    /// Moves the connection on until it would block: parse and answer requests, write answers.
    fn advance(&mut self, config: &Config) -> Flow {
        loop {
            match self.phase {
                Phase::Reading => match http::parse(&self.inbuf) {
                    Ok(Some((req, used))) => {
                        let line = http::request_line(&self.inbuf).to_vec();
                        self.inbuf.drain(..used);
                        let keep = req.keep_alive() && !self.peer_closed;
                        self.answer(serve::respond(&config.root, &req), keep, &line, config);
                    }
                    Ok(None) if self.peer_closed => return Flow::Close,
                    Ok(None) => return Flow::Keep,
                    Err(e) => {
                        let line = http::request_line(&self.inbuf).to_vec();
                        self.inbuf.clear();
                        eprintln!("httpd: refused a request: {}", e.why);
                        self.answer(Reply::error(e.status), false, &line, config);
                    }
                },
                Phase::Writing => match self.flush(config) {
                    Ok(true) => self.finish(config),
                    Ok(false) => return Flow::Keep,
                    Err(_) => return Flow::Close,
                },
                Phase::Draining if self.peer_closed => return Flow::Close,
                Phase::Draining => return Flow::Keep,
            }
        }
    }

    /// Queues `reply` and logs it.
    fn answer(&mut self, reply: Reply, keep_alive: bool, request_line: &[u8], config: &Config) {
        let now = SystemTime::now();
        let mut headers: Vec<(&str, String)> =
            vec![("Date", httpdate::fmt_http_date(now)), ("Server", "porthole-httpd".to_string())];
        headers.extend(reply.headers.iter().map(|(n, v)| (*n, v.clone())));
        headers.push(("Connection", if keep_alive { "keep-alive" } else { "close" }.to_string()));
        println!("{}", clf::line(request_line, reply.status.code(), reply.body.len(), now));
        self.out = http::response_head(reply.status, &headers).into_bytes();
        self.out_pos = 0;
        match reply.body {
            Body::Empty => {}
            Body::Bytes(b) => self.out.extend_from_slice(&b),
            Body::File { mut file, start, len } => match file.seek(SeekFrom::Start(start)) {
                Ok(_) => self.file = Some((file, len)),
                Err(e) => {
                    // The head promised a body that cannot come: close after what was sent.
                    eprintln!("httpd: seeking a file: {e}");
                    self.file = None;
                    self.close_after = true;
                }
            },
        }
        self.close_after |= !keep_alive;
        self.phase = Phase::Writing;
        self.deadline = Instant::now() + config.timeout;
    }

    /// Writes queued bytes and file chunks while the socket takes them; `Ok(true)` once the
    /// whole answer is sent.
    fn flush(&mut self, config: &Config) -> io::Result<bool> {
        loop {
            self.top_up()?;
            if self.out_pos == self.out.len() {
                return Ok(true);
            }
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out_pos += n;
                    self.deadline = Instant::now() + config.timeout;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Queues the file body's next bytes behind what is still unsent, up to `CHUNK` of them.
    /// The head and the start of the body thus leave in one write, and a small answer in one
    /// segment: written apart, the body would meet Nagle's algorithm and wait for the client to
    /// acknowledge the head, which it delays by up to 40 ms.
    fn top_up(&mut self) -> io::Result<()> {
        let Some((file, left)) = &mut self.file else { return Ok(()) };
        if *left == 0 {
            self.file = None;
            return Ok(());
        }
        let queued = self.out.len() - self.out_pos;
        if queued >= CHUNK {
            return Ok(());
        }
        self.out.drain(..self.out_pos);
        self.out_pos = 0;
        let want = (CHUNK - queued).min(usize::try_from(*left).unwrap_or(usize::MAX));
        self.out.resize(queued + want, 0);
        let n = file.read(&mut self.out[queued..])?;
        self.out.truncate(queued + n);
        if n == 0 {
            // The file shrank under us; the promised length cannot be kept.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        *left -= n as u64;
        Ok(())
    }

    /// After a complete answer: the next request, or a closing drain.
    fn finish(&mut self, config: &Config) {
        self.out = Vec::new();
        self.out_pos = 0;
        if self.close_after || self.peer_closed {
            let _ = self.stream.shutdown(Shutdown::Write);
            self.phase = Phase::Draining;
            self.deadline = Instant::now() + DRAIN_TIME.min(config.timeout);
        } else {
            self.phase = Phase::Reading;
            self.deadline = Instant::now() + config.timeout;
        }
    }

    fn drain(&mut self) -> Flow {
        let mut chunk = [0u8; CHUNK];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Flow::Close,
                Ok(n) => {
                    self.drained += n;
                    if self.drained > DRAIN_BYTES {
                        return Flow::Close;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flow::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Flow::Close,
            }
        }
    }
}
