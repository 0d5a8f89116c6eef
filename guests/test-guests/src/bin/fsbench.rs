//! File-system benchmark guest: `fsbench big PATH MIB` writes then reads a MIB-MiB file in
//! 1 MiB blocks; `fsbench small DIR N` does N create/stat/unlink cycles. Prints nothing on
//! success: the host times the whole run, so guest and native runs are measured the same way.

use std::fs;
use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("big") => big(&args[2], args[3].parse().unwrap()),
        Some("small") => small(&args[2], args[3].parse().unwrap()),
        _ => panic!("usage: fsbench big PATH MIB | small DIR N"),
    }
}

fn big(path: &str, mib: usize) {
    let block = vec![0x5au8; 1 << 20];
    let mut f = fs::File::create(path).unwrap();
    for _ in 0..mib {
        f.write_all(&block).unwrap();
    }
    drop(f);
    let mut f = fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, mib << 20);
}

fn small(dir: &str, n: usize) {
    for i in 0..n {
        let p = format!("{dir}/f{i}");
        fs::File::create(&p).unwrap();
        fs::metadata(&p).unwrap();
        fs::remove_file(&p).unwrap();
    }
}
