//! A misbehaving guest, for the limit tests: `hog spin` loops forever without a host call,
//! `hog eat` allocates until memory runs out, `hog sleep SECS` blocks in poll_oneoff,
//! `hog fds` opens files until the host refuses, `hog exit N` exits with code N, `hog cat` copies stdin to stdout.

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("spin") => {
            println!("spinning");
            let mut x: u64 = 0;
            loop {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        Some("eat") => {
            println!("eating");
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                chunk[0] = 1;
                hoard.push(black_box(chunk));
            }
        }
        Some("sleep") => {
            let secs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3600);
            println!("sleeping");
            std::thread::sleep(std::time::Duration::from_secs(secs));
            println!("woke");
        }
        Some("fds") => {
            let dir = args.get(2).cloned().unwrap_or_else(|| "/".into());
            let mut open = Vec::new();
            loop {
                match std::fs::File::open(&dir) {
                    Ok(f) => open.push(f),
                    Err(e) => {
                        println!("opened {} then {:?} errno={:?}", open.len(), e.kind(), e.raw_os_error());
                        // Holding them a while, so guests run side by side compete.
                        let hold = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
                        std::thread::sleep(std::time::Duration::from_millis(hold));
                        break;
                    }
                }
            }
        }
        Some("cat") => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).unwrap();
            print!("{input}");
        }
        Some("exit") => std::process::exit(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0)),
        _ => {
            eprintln!("usage: hog spin|eat|sleep SECS|fds DIR [HOLD_MS]|exit N");
            std::process::exit(2);
        }
    }
}
