//! Accepts one connection on the listening socket the host handed in (its fd number in
//! `LISTEN_FD`), reads a line and answers it in upper case: the `sock_accept` path that
//! published ports use.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::fd::FromRawFd;

fn main() {
    let fd: i32 = std::env::var("LISTEN_FD").expect("LISTEN_FD").parse().unwrap();
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    let (stream, _) = listener.accept().expect("accept");
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    (&stream).write_all(line.to_uppercase().as_bytes()).unwrap();
    println!("served {}", line.trim());
}
