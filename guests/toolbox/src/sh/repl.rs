//! Running commands as lines arrive on stdin: a script piped in, or an interactive session
//! with a prompt. Lines accumulate until they parse (a multi-line `if` or an open quote asks
//! for more), then run. On a terminal the shell edits lines itself (see `editor`) with the TTY
//! in raw mode, and gives the TTY back in canonical mode to the commands it runs.

use std::io::{self, Read, Write};

use porthole_sys::{self as ps, TtyMode};

use super::editor::{Editor, Step};
use super::exec::{Shell, Unwind};
use super::lexer::SyntaxError;
use super::parser::parse;
use super::process::INTERRUPTED;
use crate::fsx;
use crate::stream::{Input, Io};
use crate::sys::read_byte;

/// Where lines come from.
enum Lines {
    Editor(Editor),
    Reader(LineReader),
}

/// Reads and runs commands until end of input or `exit`; gives the exit status.
pub fn run_lines(sh: &mut Shell, io: &Io) -> i32 {
    let terminal = sh.interactive && io.stdin.is_stdin() && crate::sys::isatty(0);
    let mut lines = match terminal && ps::set_tty_mode(0, TtyMode::Raw).is_ok() {
        true => Lines::Editor(Editor::new(load_history(sh))),
        false => Lines::Reader(LineReader::new(sh.interactive)),
    };
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { prompt(sh) } else { "> ".to_string() };
        let line = match &mut lines {
            Lines::Editor(editor) => {
                sh.report_finished_jobs(io);
                let _ = ps::set_tty_mode(0, TtyMode::Raw);
                let line = edit_line(editor, &prompt, io);
                let _ = ps::set_tty_mode(0, TtyMode::Canonical);
                match line {
                    Ok(Some(Edited::Line(line))) => {
                        save_history(sh, &line);
                        Ok(Some(line))
                    }
                    Ok(Some(Edited::Cancelled)) => {
                        pending.clear();
                        sh.status = INTERRUPTED;
                        continue;
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Lines::Reader(reader) => {
                if sh.interactive {
                    sh.report_finished_jobs(io);
                    io.stdout.note(&prompt);
                }
                reader.read(&io.stdin)
            }
        };
        let line = match line {
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
                match sh.run_list(&list, io) {
                    Err(Unwind::Exit(status)) => return status,
                    Err(Unwind::Interrupt) => sh.status = INTERRUPTED,
                    _ => {}
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

enum Edited {
    Line(String),
    Cancelled,
}

/// One line from the terminal through the editor; `None` at Ctrl-D on an empty line or end of
/// input. Ctrl-C arrives as a signal the shell holds (it interrupts the read) or as a byte.
fn edit_line(editor: &mut Editor, prompt: &str, io: &Io) -> io::Result<Option<Edited>> {
    let mut out = io.stdout.clone();
    let _ = out.write_all(editor.render(prompt).as_bytes()).and_then(|_| out.flush());
    loop {
        let step = match read_byte(0) {
            Ok(Some(b)) => editor.key(b),
            Ok(None) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                let _ = ps::take_pending();
                editor.key(0x03)
            }
            Err(e) => return Err(e),
        };
        let shown = match &step {
            Step::Edit => editor.render(prompt),
            Step::Cancel => "^C\r\n".to_string(),
            Step::Line(_) | Step::Eof => "\r\n".to_string(),
        };
        let _ = out.write_all(shown.as_bytes()).and_then(|_| out.flush());
        match step {
            Step::Edit => {}
            Step::Line(line) => return Ok(Some(Edited::Line(line))),
            Step::Cancel => return Ok(Some(Edited::Cancelled)),
            Step::Eof => return Ok(None),
        }
    }
}

/// `$HOME/.ash_history`, busybox's file.
fn history_file(sh: &Shell) -> Option<String> {
    sh.vars.get("HOME").map(|home| format!("{}/.ash_history", home.trim_end_matches('/')))
}

fn load_history(sh: &Shell) -> Vec<String> {
    let text = history_file(sh).and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default();
    text.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

/// Appends a line to the history file when it can be written (a read-only root is fine).
fn save_history(sh: &Shell, line: &str) {
    if line.trim().is_empty() {
        return;
    }
    if let Some(path) = history_file(sh) {
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    }
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

/// Reads lines (without their ending). From a terminal the editor could not take over (no
/// raw mode) a line also ends at `\r`, backspace and Ctrl-U edit it, Ctrl-C drops it and
/// Ctrl-D on an empty line is end of input.
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
        if let (false, Some(fd)) = (self.terminal, input.fd()) {
            // A descriptor (a script on stdin, `read` in `while read … done <file`): byte by
            // byte, so the programs the shell starts on it read the rest, as POSIX asks.
            let mut line = Vec::new();
            loop {
                match read_byte(fd)? {
                    None if line.is_empty() => return Ok(None),
                    None | Some(b'\n') => break,
                    Some(b) => line.push(b),
                }
            }
            return Ok(Some(lossy(line)));
        }
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
            // Unbuffered from a descriptor, as above.
            let next = match input.fd() {
                Some(fd) => read_byte(fd)?,
                None => (input.read(&mut byte)? == 1).then_some(byte[0]),
            };
            let Some(b) = next else { return Ok((!line.is_empty()).then(|| lossy(line))) };
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
