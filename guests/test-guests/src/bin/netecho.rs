//! Accepts one connection on the listening socket the host handed in (its fd number in
//! `LISTEN_FD`), reads a line and answers it in upper case: the `sock_accept` path that
//! published ports use.
//!
//! `netecho flood`: instead, makes the accepted socket non-blocking and writes 64 KiB chunks
//! until the socket takes no more, then prints how many bytes the writes reported and closes:
//! a reader of the other end must receive exactly that many.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpListener;
use std::os::fd::FromRawFd;

fn main() {
    let fd: i32 = std::env::var("LISTEN_FD").expect("LISTEN_FD").parse().unwrap();
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    let (mut stream, _) = listener.accept().expect("accept");
    if std::env::args().nth(1).as_deref() == Some("flood") {
        stream.set_nonblocking(true).expect("set_nonblocking");
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match stream.write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("write after {sent} bytes: {e}"),
            }
        }
        println!("sent {sent}");
        return;
    }
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    stream.write_all(line.to_uppercase().as_bytes()).unwrap();
    println!("served {}", line.trim());
}
