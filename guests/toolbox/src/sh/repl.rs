//! Running commands as lines arrive on stdin: a script piped in, or an interactive session
//! with a prompt. Lines accumulate until they parse (a multi-line `if` or an open quote asks
//! for more), then run.

use std::io::{self, Read};

use super::exec::{Shell, Unwind};
use super::lexer::SyntaxError;
use super::parser::parse;
use crate::fsx;
use crate::stream::{Input, Io};

/// Reads and runs commands until end of input or `exit`; gives the exit status.
pub fn run_lines(sh: &mut Shell, io: &Io) -> i32 {
    let mut reader = LineReader::new(sh.interactive);
    let mut pending = String::new();
    loop {
        if sh.interactive {
            io.stdout.note(&if pending.is_empty() { prompt(sh) } else { "> ".to_string() });
        }
        let line = match reader.read(&io.stdin) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                sh.report(io, &format!("read error: {}", crate::sys::describe(&e)));
                break;
            }
        };
        pending.push_str(&line);
        pending.push('\n');
        match parse(&pending) {
            Err(SyntaxError::Incomplete(_)) => continue,
            Err(e) => {
                sh.report(io, &e.to_string());
                pending.clear();
                sh.status = 2;
                if !sh.interactive {
                    return 2;
                }
            }
            Ok(list) => {
                pending.clear();
                if let Err(Unwind::Exit(status)) = sh.run_list(&list, io) {
                    return status;
                }
            }
        }
    }
    if let Err(e) = parse(&pending) {
        sh.report(io, &e.to_string());
        return 2;
    }
    sh.status
}

/// busybox's root prompt: the current directory (`~` for `$HOME`), then ` # `.
fn prompt(sh: &Shell) -> String {
    let cwd = fsx::cwd();
    let shown = match sh.vars.get("HOME").filter(|h| *h != "/") {
        Some(home) if cwd == home => "~".to_string(),
        Some(home) if cwd.starts_with(&format!("{home}/")) => format!("~{}", &cwd[home.len()..]),
        _ => cwd,
    };
    format!("{shown} # ")
}

/// Reads lines (without their ending). From a terminal — which the host leaves in raw mode, so no line discipline
/// helps — a line also ends at `\r`, backspace and Ctrl-U edit it, Ctrl-C drops it and Ctrl-D
/// on an empty line is end of input. Typed characters are not echoed here: the client's
/// terminal does that.
pub(super) struct LineReader {
    terminal: bool,
    /// The last line ended at `\r`; a `\n` right after it belongs to it.
    after_cr: bool,
}

impl LineReader {
    /// A reader doing the terminal's line editing when `terminal`.
    pub(super) fn new(terminal: bool) -> LineReader {
        LineReader { terminal, after_cr: false }
    }

    /// The next line; `None` at end of input.
    pub(super) fn read(&mut self, input: &Input) -> io::Result<Option<String>> {
        let lossy = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        if !self.terminal {
            let mut line = Vec::new();
            if input.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            return Ok(Some(lossy(line)));
        }
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        let mut input = input.clone();
        loop {
            if input.read(&mut byte)? == 0 {
                return Ok((!line.is_empty()).then(|| lossy(line)));
            }
            let b = byte[0];
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' => break,
                b'\r' => {
                    self.after_cr = true;
                    break;
                }
                0x7f | 0x08 => {
                    // Drop one whole UTF-8 character.
                    while line.pop().is_some_and(|c| c & 0xc0 == 0x80) {}
                }
                0x15 => line.clear(),
                0x03 => {
                    line.clear();
                    break;
                }
                0x04 if line.is_empty() => return Ok(None),
                _ => line.push(b),
            }
        }
        Ok(Some(lossy(line)))
    }
}
