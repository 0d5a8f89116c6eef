//! `vi [FILE]`: the kibi editor (a small, kept-up editor crate with WASI support; its keys are
//! kibi's, not vi's). kibi's WASI port expects the terminal to be raw already and reads its size
//! from `/dev/tty`; here Porthole's TTY call makes the terminal raw for the editor's lifetime
//! (with the `porthole` feature; without it keys arrive a line at a time).

use std::ffi::OsString;
use std::io;

use crate::sys;

pub fn vi(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let file = match args.as_slice() {
        [v] if v == "--version" => {
            println!("vi (kibi 0.3)");
            return 0;
        }
        [h] if h == "--help" || h == "-h" => {
            println!(
                "Usage: vi [FILE]\nkibi keys: Ctrl-S save, Ctrl-Q quit, Ctrl-F find, Ctrl-G go to line, Ctrl-D duplicate, Ctrl-E execute"
            );
            return 0;
        }
        [] => None,
        [f] => Some(f.as_str()),
        _ => {
            eprintln!("vi: too many arguments\nUsage: vi [FILE]");
            return 1;
        }
    };
    // kibi's WASI port asks the terminal its size through /dev/tty, as a Linux container with
    // `-t` has it; say so plainly rather than with kibi's bare I/O error.
    if let Err(e) = std::fs::File::open("/dev/tty") {
        eprintln!("vi: /dev/tty: {}: vi needs the container's terminal (docker run -it)", sys::describe(&e));
        return 1;
    }
    let raw = sys::raw_tty(0, true).is_ok();
    let result = kibi::run(file, &mut io::stdin().lock());
    if raw {
        let _ = sys::raw_tty(0, false);
    }
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("vi: {e:?}");
            1
        }
    }
}
