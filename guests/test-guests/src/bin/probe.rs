//! The probe: performs a scripted list of file operations, one per argument, and prints one
//! line per operation (`<op> => ok ...` or `=> err ENAME`). The same script runs under
//! Porthole's host and under wasmtime-wasi, and the outputs are compared.
//!
//! Arguments are words separated by spaces; `%XX` in a word is a raw byte (so `%00` is NUL).

use std::ffi::CString;
use std::fs;
use std::io::{self, Read, Write};

fn main() {
    let mut out = io::stdout().lock();
    for line in std::env::args().skip(1) {
        let words: Vec<Vec<u8>> = line.split(' ').filter(|w| !w.is_empty()).map(decode).collect();
        let result = run(&words);
        let shown = match result {
            Ok(s) if s.is_empty() => "ok".to_string(),
            Ok(s) => format!("ok {s}"),
            Err(e) => format!("err {}", errno_name(&e)),
        };
        writeln!(out, "{line} => {shown}").unwrap();
    }
}

fn decode(word: &str) -> Vec<u8> {
    let b = word.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&word[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn arg(words: &[Vec<u8>], i: usize) -> io::Result<String> {
    words.get(i).map(|w| s(w)).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))
}

fn cstr(p: &str) -> io::Result<CString> {
    CString::new(p).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(rc: i32) -> io::Result<()> {
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn run(words: &[Vec<u8>]) -> io::Result<String> {
    let op = arg(words, 0)?;
    let a = || arg(words, 1);
    let b = || arg(words, 2);
    match op.as_str() {
        "write" => fs::write(a()?, b().unwrap_or_default()).map(|_| String::new()),
        "append" => {
            let mut f = fs::OpenOptions::new().append(true).create(true).open(a()?)?;
            f.write_all(b().unwrap_or_default().as_bytes())?;
            Ok(String::new())
        }
        "read" => {
            let mut text = String::new();
            fs::File::open(a()?)?.read_to_string(&mut text)?;
            Ok(format!("{text:?}"))
        }
        "create-new" => fs::OpenOptions::new().write(true).create_new(true).open(a()?).map(|_| String::new()),
        "mkdir" => fs::create_dir(a()?).map(|_| String::new()),
        "mkdirp" => fs::create_dir_all(a()?).map(|_| String::new()),
        "rmdir" => fs::remove_dir(a()?).map(|_| String::new()),
        "rm" => fs::remove_file(a()?).map(|_| String::new()),
        "rmrf" => fs::remove_dir_all(a()?).map(|_| String::new()),
        "symlink" => {
            let (t, l) = (cstr(&a()?)?, cstr(&b()?)?);
            check(unsafe { libc::symlink(t.as_ptr(), l.as_ptr()) }).map(|_| String::new())
        }
        "link" => {
            let (t, l) = (cstr(&a()?)?, cstr(&b()?)?);
            check(unsafe { libc::link(t.as_ptr(), l.as_ptr()) }).map(|_| String::new())
        }
        "readlink" => fs::read_link(a()?).map(|p| format!("{:?}", p.display().to_string())),
        "rename" => fs::rename(a()?, b()?).map(|_| String::new()),
        "ls" => {
            let mut names: Vec<String> = fs::read_dir(a()?)?
                .map(|e| {
                    let e = e?;
                    let t = e.file_type()?;
                    let kind = if t.is_dir() {
                        "/"
                    } else if t.is_symlink() {
                        "@"
                    } else {
                        ""
                    };
                    Ok(format!("{}{kind}", e.file_name().to_string_lossy()))
                })
                .collect::<io::Result<_>>()?;
            names.sort();
            Ok(names.join(" "))
        }
        "stat" | "lstat" => {
            let m = if op == "stat" { fs::metadata(a()?)? } else { fs::symlink_metadata(a()?)? };
            let t = m.file_type();
            let kind = if t.is_dir() {
                "dir"
            } else if t.is_symlink() {
                "symlink"
            } else {
                "file"
            };
            let size = if t.is_dir() { String::new() } else { format!(" size={}", m.len()) };
            Ok(format!("{kind}{size}"))
        }
        "samedev" => Ok(format!("{}", dev(&a()?)? == dev(&b()?)?)),
        "truncate" => {
            let f = fs::OpenOptions::new().write(true).open(a()?)?;
            f.set_len(b()?.parse().map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?)?;
            Ok(String::new())
        }
        // Reads the file N times; prints how often each distinct outcome occurred.
        "readloop" => {
            let (p, n) = (a()?, b()?.parse::<usize>().unwrap_or(1));
            let mut seen = std::collections::BTreeMap::<String, usize>::new();
            for _ in 0..n {
                let outcome = match fs::read(&p) {
                    Ok(bytes) => format!("{:?}", String::from_utf8_lossy(&bytes)),
                    Err(e) => errno_name(&e),
                };
                *seen.entry(outcome).or_default() += 1;
            }
            Ok(seen.into_iter().map(|(k, v)| format!("{k}x{v}")).collect::<Vec<_>>().join(" "))
        }
        "preopens" => Ok(raw::preopens().join(" ")),
        "rawopen" => raw::open(&a()?.parse().unwrap_or(3), words.get(2).cloned().unwrap_or_default()),
        "rawsymlink" => raw::symlink(
            words.get(1).cloned().unwrap_or_default(),
            &b()?.parse().unwrap_or(3),
            words.get(3).cloned().unwrap_or_default(),
        ),
        _ => Err(io::Error::from_raw_os_error(libc::ENOSYS)),
    }
}

fn dev(p: &str) -> io::Result<u64> {
    let c = cstr(p)?;
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    check(unsafe { libc::stat(c.as_ptr(), &mut st) })?;
    Ok(st.st_dev as u64)
}

fn errno_name(e: &io::Error) -> String {
    let n = match e.raw_os_error() {
        Some(n) => n,
        None => return format!("{:?}", e.kind()),
    };
    let names = [
        (libc::ENOENT, "ENOENT"),
        (libc::EEXIST, "EEXIST"),
        (libc::ENOTDIR, "ENOTDIR"),
        (libc::EISDIR, "EISDIR"),
        (libc::EROFS, "EROFS"),
        (libc::EXDEV, "EXDEV"),
        (libc::ELOOP, "ELOOP"),
        (libc::EPERM, "EPERM"),
        (libc::EACCES, "EACCES"),
        (libc::ENOTEMPTY, "ENOTEMPTY"),
        (libc::EINVAL, "EINVAL"),
        (libc::EBADF, "EBADF"),
        (libc::ENAMETOOLONG, "ENAMETOOLONG"),
        (libc::ENOTCAPABLE, "ENOTCAPABLE"),
        (libc::ENOSYS, "ENOSYS"),
        (libc::EILSEQ, "EILSEQ"),
        (libc::EMFILE, "EMFILE"),
        (libc::ENOSPC, "ENOSPC"),
        (libc::ENOTSUP, "ENOTSUP"),
        (libc::EFAULT, "EFAULT"),
        (libc::EBUSY, "EBUSY"),
    ];
    names.iter().find(|(v, _)| *v == n).map(|(_, s)| s.to_string()).unwrap_or_else(|| format!("errno{n}"))
}

/// Direct `wasi_snapshot_preview1` calls, for inputs libc would refuse before the host sees them.
mod raw {
    use std::io;

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn fd_prestat_get(fd: i32, out: *mut u32) -> i32;
        fn fd_prestat_dir_name(fd: i32, buf: *mut u8, len: usize) -> i32;
        fn path_open(
            fd: i32,
            dirflags: i32,
            path: *const u8,
            len: usize,
            oflags: i32,
            base: u64,
            inh: u64,
            fdflags: i32,
            out: *mut i32,
        ) -> i32;
        fn path_symlink(old: *const u8, old_len: usize, fd: i32, new: *const u8, new_len: usize) -> i32;
        fn fd_read(fd: i32, iovs: *const u32, n: usize, nread: *mut usize) -> i32;
        fn fd_close(fd: i32) -> i32;
    }

    fn errno(n: i32) -> io::Error {
        io::Error::from_raw_os_error(n)
    }

    pub fn preopens() -> Vec<String> {
        let mut names = Vec::new();
        for fd in 3..64 {
            let mut stat = [0u32; 2];
            if unsafe { fd_prestat_get(fd, stat.as_mut_ptr()) } != 0 {
                break;
            }
            let mut buf = vec![0u8; stat[1] as usize];
            unsafe { fd_prestat_dir_name(fd, buf.as_mut_ptr(), buf.len()) };
            names.push(format!("{fd}:{}", String::from_utf8_lossy(&buf)));
        }
        names
    }

    /// Opens `path` relative to `dirfd` (following symlinks) and returns its first 64 bytes.
    pub fn open(dirfd: &i32, path: Vec<u8>) -> io::Result<String> {
        let mut fd = -1;
        let rc = unsafe { path_open(*dirfd, 1, path.as_ptr(), path.len(), 0, u64::MAX, u64::MAX, 0, &mut fd) };
        if rc != 0 {
            return Err(errno(rc));
        }
        let mut buf = [0u8; 64];
        let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
        let mut n = 0usize;
        let rc = unsafe { fd_read(fd, iov.as_ptr(), 1, &mut n) };
        unsafe { fd_close(fd) };
        if rc != 0 {
            return Err(errno(rc));
        }
        Ok(format!("{:?}", String::from_utf8_lossy(&buf[..n])))
    }

    pub fn symlink(target: Vec<u8>, dirfd: &i32, link: Vec<u8>) -> io::Result<String> {
        let rc = unsafe { path_symlink(target.as_ptr(), target.len(), *dirfd, link.as_ptr(), link.len()) };
        if rc != 0 { Err(errno(rc)) } else { Ok(String::new()) }
    }
}
