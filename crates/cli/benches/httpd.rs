//! Web server benchmark: requests per second and p50/p99 latency for a 1 KiB and a 10 MiB file
//! served by the Pulp `httpd` guest under a real `porthole serve` (image `pulp-apache` built
//! with the docker CLI, the files in a volume, the port published with `-p 127.0.0.1::80`),
//! against the same files in the same directory served natively on loopback by nginx. Both are
//! driven by the same keep-alive client here, in alternating rounds so machine noise hits both,
//! and printed with the ratios Porthole/nginx. Figures only, no assertions.
//!
//! Run with `cargo bench -p porthole-cli --bench httpd` (a release build of `porthole`). Needs
//! the docker CLI (scripts/setup.sh) and Debian's nginx, which CI does not install:
//! `sudo apt-get install nginx`. Knobs: `PORTHOLE_BENCH_CONNS` (client connections, 4),
//! `PORTHOLE_BENCH_ROUNDS` (rounds per case and server, 3).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::Daemon;
use common::pulp::build;

struct Case {
    label: &'static str,
    file: &'static str,
    size: usize,
    round: Duration,
}

const CASES: [Case; 2] = [
    Case { label: "1 KiB", file: "small.bin", size: 1024, round: Duration::from_secs(3) },
    Case { label: "10 MiB", file: "big.bin", size: 10 << 20, round: Duration::from_secs(5) },
];
const WARMUP: Duration = Duration::from_secs(1);

/// What one server did over the rounds of one case.
#[derive(Default)]
struct Tally {
    elapsed: Duration,
    errors: u64,
    latencies: Vec<Duration>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.elapsed += other.elapsed;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`th percentile (nearest rank) of the latencies; `latencies` must be sorted.
    fn percentile(&self, p: usize) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        self.latencies[((n * p).div_ceil(100)).clamp(1, n) - 1]
    }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if !common::docker_available() {
        return;
    }
    let Some(nginx_version) = nginx_version() else {
        eprintln!("skipping: no nginx on this machine (sudo apt-get install nginx)");
        return;
    };
    let conns = env_number("PORTHOLE_BENCH_CONNS", 4).max(1);
    let rounds = env_number("PORTHOLE_BENCH_ROUNDS", 3).max(1);

    let d = Daemon::start();
    build(&d, "pulp-base", "base");
    build(&d, "pulp-apache", "apache");
    d.ok(&["volume", "create", "bench-www"]);
    let docroot = d.ok(&["volume", "inspect", "--format", "{{.Mountpoint}}", "bench-www"]);
    let docroot = Path::new(docroot.trim());
    for case in &CASES {
        std::fs::write(docroot.join(case.file), pattern(case.size)).unwrap();
    }
    d.ok(&["run", "-d", "--name", "web", "-v", "bench-www:/var/www", "-p", "127.0.0.1::80", "pulp-apache"]);
    let porthole: SocketAddr = d.ok(&["port", "web", "80"]).lines().next().expect("a published port").parse().unwrap();
    let nginx = Nginx::start(docroot);

    for case in &CASES {
        let path = format!("/{}", case.file);
        let want = pattern(case.size);
        for addr in [porthole, nginx.addr] {
            let a = common::http_get(&addr.to_string(), &path);
            assert!(a.status == 200 && a.body == want, "{addr}{path}: {} with {} bytes", a.status, a.body.len());
        }
    }

    println!(
        "httpd bench: {conns} keep-alive connections, {rounds} alternating rounds per case and server \
         ({} build of porthole; {nginx_version}, 1 worker, sendfile on, access log on)",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    println!(
        "the client runs on the same {} cores as the servers and competes with them for CPU",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<8} {:<16} {:>9} {:>10} {:>10} {:>10} {:>7}",
        "file", "server", "requests", "req/s", "p50", "p99", "errors"
    );
    for case in &CASES {
        let path = format!("/{}", case.file);
        for addr in [porthole, nginx.addr] {
            drive(addr, &path, case.size, conns, WARMUP);
        }
        let (mut ours, mut theirs) = (Tally::default(), Tally::default());
        for _ in 0..rounds {
            ours.add(drive(porthole, &path, case.size, conns, case.round));
            theirs.add(drive(nginx.addr, &path, case.size, conns, case.round));
        }
        for (name, t) in [("porthole httpd", &mut ours), ("nginx", &mut theirs)] {
            t.latencies.sort();
            println!(
                "{:<8} {:<16} {:>9} {:>10.0} {:>10} {:>10} {:>7}",
                case.label,
                name,
                t.latencies.len(),
                t.rate(),
                ms(t.percentile(50)),
                ms(t.percentile(99)),
                t.errors
            );
        }
        println!(
            "{:<8} {:<16} {:>9} {:>9.3}x {:>9.3}x {:>9.3}x",
            case.label,
            "porthole/nginx",
            "",
            ours.rate() / theirs.rate(),
            ratio(ours.percentile(50), theirs.percentile(50)),
            ratio(ours.percentile(99), theirs.percentile(99)),
        );
    }
    println!("goal: porthole's 1 KiB rate at least 0.5x nginx's");
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// File contents that are not all one byte, so a wrong offset shows in the check.
fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// `conns` clients, each on one keep-alive connection, asking for `path` until `length` has
/// passed; a failed request is counted and its connection opened again.
fn drive(addr: SocketAddr, path: &str, size: usize, conns: usize, length: Duration) -> Tally {
    let start = Arc::new(Barrier::new(conns + 1));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let clients: Vec<_> = (0..conns)
        .map(|_| {
            let start = start.clone();
            let request = request.clone();
            std::thread::spawn(move || {
                let mut t = Tally::default();
                let mut conn = None;
                start.wait();
                let end = Instant::now() + length;
                while Instant::now() < end {
                    let began = Instant::now();
                    let c = match conn.take() {
                        Some(c) => c,
                        None => match connect(addr) {
                            Ok(c) => c,
                            Err(_) => {
                                t.errors += 1;
                                continue;
                            }
                        },
                    };
                    match exchange(c, request.as_bytes(), size) {
                        Ok(c) => {
                            t.latencies.push(began.elapsed());
                            conn = Some(c);
                        }
                        Err(_) => t.errors += 1,
                    }
                }
                t
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut total = Tally::default();
    for c in clients {
        total.add(c.join().unwrap());
    }
    total.elapsed = began.elapsed();
    total
}

fn connect(addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(BufReader::with_capacity(64 * 1024, s))
}

/// One request on a kept-alive connection: a 200 with a `size`-byte body, read to the end;
/// gives the connection back for the next request.
fn exchange(mut c: BufReader<TcpStream>, request: &[u8], size: usize) -> std::io::Result<BufReader<TcpStream>> {
    c.get_mut().write_all(request)?;
    let mut line = String::new();
    c.read_line(&mut line)?;
    if line.split(' ').nth(1) != Some("200") {
        return Err(std::io::Error::other(format!("status line {line:?}")));
    }
    let mut length = None;
    loop {
        line.clear();
        if c.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let Some((name, value)) = line.split_once(':') else { break };
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    if length != Some(size) {
        return Err(std::io::Error::other(format!("content-length {length:?}")));
    }
    let mut left = size as u64;
    let copied = std::io::copy(&mut c.by_ref().take(left), &mut std::io::sink())?;
    left -= copied;
    if left > 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(c)
}

fn nginx_version() -> Option<String> {
    let out = Command::new("nginx").arg("-v").output().ok()?;
    // `nginx version: nginx/1.22.1`, on stderr.
    let text = common::text(&out.stderr);
    Some(text.trim().strip_prefix("nginx version: ").unwrap_or(text.trim()).to_string())
}

/// nginx in the foreground with its own prefix, config and logs in a temporary directory,
/// serving `docroot` on a free loopback port; stopped when dropped.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    fn start(docroot: &Path) -> Nginx {
        let prefix = tempfile::tempdir().unwrap();
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let p = prefix.path().display();
        // Run as root (as here), the workers would be `nobody`, who cannot read the controller's
        // 0700 root where the volume lives; otherwise nginx stays the invoking user.
        let user = if rustix::process::geteuid().is_root() { "user root;" } else { "" };
        let conf = format!(
            "{user}
daemon off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {{
        listen {addr};
        root {};
    }}
}}
",
            docroot.display()
        );
        let conf_path = prefix.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(prefix.path())
            .arg("-e")
            .arg(prefix.path().join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Nginx { child, addr, _prefix: prefix };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::QUIT);
        let _ = self.child.wait();
    }
}
