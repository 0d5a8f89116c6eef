//! Exercises Porthole's process interface for the runtime's tests: each subcommand is one
//! scenario (spawn, pipes, wait, kill, signals, the process limit) and prints what it saw, one
//! `key value` line per fact, so a test compares text. Children are this same program
//! (`/bin/spawner`) with another subcommand.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;

use porthole_sys::{CLOSED, Command, signal};

const ME: &str = "/bin/spawner";

fn env() -> Vec<String> {
    std::env::vars().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Starts `spawner args…` with descriptors `fds`.
fn child(args: &[&str], fds: &[u32]) -> std::io::Result<u32> {
    child_of(ME, args, fds)
}

fn child_of(program: &str, args: &[&str], fds: &[u32]) -> std::io::Result<u32> {
    let argv: Vec<String> = std::iter::once("spawner").chain(args.iter().copied()).map(String::from).collect();
    porthole_sys::spawn(&Command { program, argv: &argv, env: &env(), cwd: "/", fds })
}

fn status(pid: u32) -> u32 {
    let f = porthole_sys::wait(Some(pid), false).expect("wait").expect("a finished child");
    assert_eq!(f.pid, pid);
    f.status
}

fn close(fd: u32) {
    drop(unsafe { File::from_raw_fd(fd as i32) });
}

/// Copies stdin to stdout, counting; prints the count on stderr.
fn count() {
    let mut total = 0u64;
    let mut buf = vec![0u8; 8192];
    let mut stdin = std::io::stdin().lock();
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n as u64,
            Err(e) => panic!("read: {e}"),
        }
    }
    println!("counted {total}");
}

fn produce(n: u64) {
    let chunk = vec![b'x'; 4096];
    let mut out = std::io::stdout().lock();
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..k]).expect("write");
        left -= k as u64;
    }
}

/// The state letter of `pid` in the process table.
fn state_of(pid: u32) -> Option<char> {
    let table = porthole_sys::process_table().expect("proc_list");
    table.lines().find_map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f[0] == pid.to_string()).then(|| f[2].chars().next().unwrap())
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "produce" => produce(arg(2).parse().unwrap()),
        "count" => count(),
        "exit" => std::process::exit(arg(2).parse().unwrap()),
        "sleep" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "spin" => {
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "kill" => porthole_sys::kill(arg(2).parse().unwrap(), arg(3).parse().unwrap()).expect("kill"),
        "write" => std::fs::write(arg(2), arg(3)).expect("write"),
        "eat" => {
            let mb: usize = arg(2).parse().unwrap();
            let v = vec![1u8; mb << 20];
            println!("ate {}", std::hint::black_box(v).len() >> 20);
        }
        // `produce N | count`, both children, through a host pipe.
        "pipeline" => {
            let (r, w) = porthole_sys::pipe().unwrap();
            let a = child(&["produce", arg(2)], &[CLOSED, w, 2]).unwrap();
            let b = child(&["count"], &[r, 1, 2]).unwrap();
            close(r);
            close(w);
            let (sa, sb) = (status(a), status(b));
            println!("statuses {sa} {sb}");
        }
        // The producer blocks on the full pipe until this process reads it.
        "backpressure" => {
            let (r, w) = porthole_sys::pipe().unwrap();
            let a = child(&["produce", arg(2)], &[CLOSED, w, 2]).unwrap();
            close(w);
            while state_of(a) != Some('S') {
                std::thread::yield_now();
            }
            let pending = porthole_sys::wait(Some(a), true).unwrap();
            println!("blocked {}", pending.is_none());
            let mut total = 0usize;
            let mut f = unsafe { File::from_raw_fd(r as i32) };
            let mut buf = vec![0u8; 65536];
            loop {
                match f.read(&mut buf).unwrap() {
                    0 => break,
                    n => total += n,
                }
            }
            println!("read {total} status {}", status(a));
        }
        // A writer whose reader is gone ends with SIGPIPE.
        "sigpipe" => {
            let (r, w) = porthole_sys::pipe().unwrap();
            let a = child(&["produce", "1000000"], &[CLOSED, w, 2]).unwrap();
            close(w);
            close(r);
            println!("status {}", status(a));
        }
        "statuses" => {
            let e = child(&["exit", "3"], &[0, 1, 2]).unwrap();
            println!("exit {}", status(e));
            for (sig, what) in [(signal::TERM, "term"), (signal::INT, "int"), (signal::KILL, "kill")] {
                let s = child(&["sleep"], &[0, 1, 2]).unwrap();
                porthole_sys::kill(s, sig).unwrap();
                println!("{what} {}", status(s));
            }
            let s = child(&["spin"], &[0, 1, 2]).unwrap();
            porthole_sys::kill(s, signal::TERM).unwrap();
            println!("spin {}", status(s));
            println!("nochild {}", porthole_sys::wait(None, true).unwrap_err().raw_os_error().unwrap());
            println!("nosuch {}", porthole_sys::kill(999, signal::TERM).unwrap_err().raw_os_error().unwrap());
        }
        "notfound" => {
            let err = |p: &str| child_of(p, &[], &[0, 1, 2]).unwrap_err().raw_os_error().unwrap();
            println!("missing {}", err("no-such-program"));
            println!("missing-path {}", err("/bin/nope"));
            println!("not-wasm {}", err("/notwasm"));
        }
        // Spawns sleepers until the process limit refuses one.
        "limit" => {
            let mut pids = Vec::new();
            let err = loop {
                match child(&["sleep"], &[0, 1, 2]) {
                    Ok(p) => pids.push(p),
                    Err(e) => break e,
                }
            };
            println!("spawned {} then {}", pids.len(), err.raw_os_error().unwrap());
            for p in &pids {
                porthole_sys::kill(*p, signal::KILL).unwrap();
                status(*p);
            }
        }
        // A child's file is the parent's: one mount namespace.
        "namespace" => {
            let c = child(&["write", "/data/from-child", "hello"], &[0, 1, 2]).unwrap();
            println!("status {}", status(c));
            println!("read {}", std::fs::read_to_string("/data/from-child").unwrap());
        }
        // The memory cap is the container's: what this process holds counts for its child.
        "memory" => {
            let mine = vec![1u8; arg(2).parse::<usize>().unwrap() << 20];
            let c = child(&["eat", arg(3)], &[0, 1, 2]).unwrap();
            println!("child {}", status(c));
            std::hint::black_box(mine);
        }
        // A caught INT interrupts a blocking pipe read with EINTR and is pending.
        "caught" => {
            porthole_sys::set_sigmask(1 << signal::INT).unwrap();
            let (r, w) = porthole_sys::pipe().unwrap();
            let me = porthole_sys::self_pid().unwrap().to_string();
            let k = child(&["kill", &me, "2"], &[0, 1, 2]).unwrap();
            let mut f = unsafe { File::from_raw_fd(r as i32) };
            let e = f.read(&mut [0u8; 8]).unwrap_err();
            println!("read {}", e.raw_os_error().unwrap());
            println!("pending {}", porthole_sys::take_pending().unwrap());
            println!("killer {}", status(k));
            close(w);
        }
        // A sleeping child, then this process sleeps too: the test stops the container.
        "family" => {
            let c = child(&["sleep"], &[0, 1, 2]).unwrap();
            println!("child {c}");
            std::io::stdout().flush().unwrap();
            status(c);
            println!("unreachable");
        }
        // On a TTY: Ctrl-C ends the foreground child, not this process; Ctrl-D ends only the
        // child reading; this process then reads the terminal on.
        "tty" => {
            porthole_sys::set_sigmask(1 << signal::INT).unwrap();
            let me = porthole_sys::self_pid().unwrap();
            let c = child(&["sleep"], &[0, 1, 2]).unwrap();
            porthole_sys::set_foreground(&[c]).unwrap();
            println!("sleeping {c}");
            std::io::stdout().flush().unwrap();
            let s = status(c);
            porthole_sys::set_foreground(&[me]).unwrap();
            println!("child {s}");
            let c = child(&["count"], &[0, 1, 2]).unwrap();
            porthole_sys::set_foreground(&[c]).unwrap();
            println!("counting");
            std::io::stdout().flush().unwrap();
            let s = status(c);
            porthole_sys::set_foreground(&[me]).unwrap();
            println!("reader {s}");
            std::io::stdout().flush().unwrap();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            println!("main read {}", line.trim());
        }
        // File modes kept by the host: set, read back, refused on a read-only mount.
        "modes" => {
            std::fs::write("/data/f", "x").unwrap();
            std::fs::create_dir_all("/data/d").unwrap();
            for (path, mode) in [("/data/f", 0o4750), ("/data/f", 0o644), ("/data/f", 0o000), ("/data/d", 0o555)] {
                porthole_sys::chmod(path, mode, true).unwrap();
                println!("{path} {:o}", porthole_sys::mode(path, true).unwrap());
            }
            println!("ro {}", porthole_sys::chmod("/ro", 0o700, true).unwrap_err().raw_os_error().unwrap());
        }
        other => {
            eprintln!("spawner: unknown scenario {other:?}");
            std::process::exit(2);
        }
    }
}
