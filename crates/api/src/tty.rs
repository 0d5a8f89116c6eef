//! The terminal line discipline a kernel pty would apply, for `-t` sessions. The client's
//! terminal is raw and the guest reads a pipe, so nobody else echoes typed keys or edits the
//! line: this does, like canonical mode (`ICANON`, `ECHO`, `ECHOE`, `ICRNL`, `ONLCR`).

/// What one chunk of typed input produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Typed {
    /// Bytes to show on the client's terminal.
    pub echo: Vec<u8>,
    /// Complete lines (or a line flushed by Ctrl-D) for the guest's stdin.
    pub to_guest: Vec<u8>,
    /// Ctrl-D at the start of a line: the guest's stdin must be closed.
    pub end_of_input: bool,
}

/// The line being edited.
#[derive(Debug, Default)]
pub struct LineDiscipline {
    line: Vec<u8>,
}

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const BACKSPACE: u8 = 0x08;
const CTRL_U: u8 = 0x15;
const DEL: u8 = 0x7f;

impl LineDiscipline {
    pub fn feed(&mut self, input: &[u8]) -> Typed {
        let mut out = Typed::default();
        for &b in input {
            match b {
                // Echoed as `\n`: output processing (`onlcr`) shows it as `\r\n`.
                b'\r' | b'\n' => {
                    out.echo.push(b'\n');
                    out.to_guest.append(&mut self.line);
                    out.to_guest.push(b'\n');
                }
                DEL | BACKSPACE => {
                    if self.erase_char() {
                        out.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                CTRL_U => {
                    while self.erase_char() {
                        out.echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                CTRL_D if self.line.is_empty() => {
                    out.end_of_input = true;
                    return out;
                }
                CTRL_D => out.to_guest.append(&mut self.line),
                // No signals reach a guest: drop the line and give the program an empty one,
                // so a shell prints a fresh prompt as it would after SIGINT.
                CTRL_C => {
                    self.line.clear();
                    out.echo.extend_from_slice(b"^C\n");
                    out.to_guest.push(b'\n');
                }
                b'\t' => {
                    self.line.push(b);
                    out.echo.push(b);
                }
                c if c < 0x20 => {
                    self.line.push(c);
                    out.echo.extend_from_slice(&[b'^', c + 0x40]);
                }
                c => {
                    self.line.push(c);
                    out.echo.push(c);
                }
            }
        }
        out
    }

    /// Removes the last character (all bytes of a UTF-8 sequence); false on an empty line.
    fn erase_char(&mut self) -> bool {
        while let Some(b) = self.line.pop() {
            if b & 0xc0 != 0x80 {
                return true;
            }
        }
        false
    }
}

/// Output post-processing of a terminal (`ONLCR`): each `\n` is shown as `\r\n`.
pub fn onlcr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(input: &[u8]) -> Typed {
        LineDiscipline::default().feed(input)
    }

    #[test]
    fn canonical_mode() {
        let t = feed(b"ls\r");
        assert_eq!((t.echo.as_slice(), t.to_guest.as_slice(), t.end_of_input), (&b"ls\n"[..], &b"ls\n"[..], false));
        let t = feed(b"lx\x7fs\r");
        assert_eq!(t.to_guest, b"ls\n");
        assert_eq!(t.echo, b"lx\x08 \x08s\n");
        assert_eq!(feed(b"\x7f").echo, b"");
        assert_eq!(feed("é\x7f\r".as_bytes()).to_guest, b"\n");
        assert!(feed(b"\x04").end_of_input);
        let t = feed(b"ab\x04");
        assert_eq!((t.to_guest.as_slice(), t.end_of_input), (&b"ab"[..], false));
        assert_eq!(feed(b"ab\x03").to_guest, b"\n");
        assert_eq!(feed(b"abc\x15x\r").to_guest, b"x\n");
    }

    #[test]
    fn lines_survive_chunking() {
        let mut d = LineDiscipline::default();
        assert_eq!(d.feed(b"ec").to_guest, b"");
        assert_eq!(d.feed(b"ho\r").to_guest, b"echo\n");
    }

    #[test]
    fn output_newlines() {
        assert_eq!(onlcr(b"a\nb\n"), b"a\r\nb\r\n");
    }
}
