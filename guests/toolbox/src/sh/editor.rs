//! The interactive line editor, as pure logic: bytes typed on a raw-mode terminal go in, the
//! editor's state changes, and [`Editor::render`] says what the terminal should show. The REPL
//! does the I/O. Keys are busybox's and readline's: arrows, Home/End, Delete, Backspace,
//! Ctrl-A/E/B/F (move), Ctrl-U/K/W (kill to start, to end, a word back), Ctrl-P/N and up/down
//! (history), Ctrl-C (drop the line), Ctrl-D (end of input on an empty line, else delete).

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Still editing: redraw.
    Edit,
    /// Enter: the line to run.
    Line(String),
    /// Ctrl-C: the line is dropped.
    Cancel,
    /// Ctrl-D on an empty line.
    Eof,
}

#[derive(Debug, Default)]
pub struct Editor {
    line: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// While browsing history: the entry shown, and the line being typed before.
    browsing: Option<(usize, Vec<char>)>,
    /// An escape sequence read so far (from ESC on).
    escape: Vec<u8>,
    /// The bytes of a UTF-8 character read so far.
    partial: Vec<u8>,
}

impl Editor {
    pub fn new(history: Vec<String>) -> Editor {
        Editor { history, ..Editor::default() }
    }

    #[cfg(test)]
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Takes one typed byte.
    pub fn key(&mut self, byte: u8) -> Step {
        if !self.escape.is_empty() || byte == 0x1b {
            self.escape.push(byte);
            return self.escape_sequence();
        }
        if byte >= 0x80 || !self.partial.is_empty() {
            self.partial.push(byte);
            match std::str::from_utf8(&self.partial) {
                Ok(s) => {
                    let c = s.chars().next().unwrap_or('\u{fffd}');
                    self.partial.clear();
                    self.insert(c);
                }
                Err(e) if e.error_len().is_some() || self.partial.len() >= 4 => {
                    self.partial.clear();
                    self.insert('\u{fffd}');
                }
                Err(_) => {}
            }
            return Step::Edit;
        }
        match byte {
            b'\r' | b'\n' => return self.submit(),
            0x7f | 0x08 if self.cursor > 0 => {
                self.cursor -= 1;
                self.line.remove(self.cursor);
            }
            0x7f | 0x08 => {}
            0x01 => self.cursor = 0,
            0x05 => self.cursor = self.line.len(),
            0x02 => self.cursor = self.cursor.saturating_sub(1),
            0x06 => self.cursor = (self.cursor + 1).min(self.line.len()),
            0x15 => {
                self.line.drain(..self.cursor);
                self.cursor = 0;
            }
            0x0b => self.line.truncate(self.cursor),
            0x17 => {
                let mut start = self.cursor;
                while start > 0 && self.line[start - 1] == ' ' {
                    start -= 1;
                }
                while start > 0 && self.line[start - 1] != ' ' {
                    start -= 1;
                }
                self.line.drain(start..self.cursor);
                self.cursor = start;
            }
            0x10 => self.older(),
            0x0e => self.newer(),
            0x03 => {
                self.reset();
                return Step::Cancel;
            }
            0x04 if self.line.is_empty() => return Step::Eof,
            0x04 => self.delete(),
            b'\t' => self.insert(' '),
            b if b >= 0x20 => self.insert(b as char),
            _ => {}
        }
        Step::Edit
    }

    /// What to write to redraw the line after `prompt`: back to the line's start, the prompt
    /// and the text, clear the rest, and move the cursor back to where it is.
    pub fn render(&self, prompt: &str) -> String {
        let text: String = self.line.iter().collect();
        let back = self.line.len() - self.cursor;
        let mut out = format!("\r{prompt}{text}\x1b[K");
        if back > 0 {
            out.push_str(&format!("\x1b[{back}D"));
        }
        out
    }

    fn insert(&mut self, c: char) {
        self.line.insert(self.cursor, c);
        self.cursor += 1;
    }

    fn delete(&mut self) {
        if self.cursor < self.line.len() {
            self.line.remove(self.cursor);
        }
    }

    fn reset(&mut self) {
        self.line.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    fn submit(&mut self) -> Step {
        let text: String = self.line.iter().collect();
        self.reset();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        Step::Line(text)
    }

    fn show(&mut self, line: Vec<char>) {
        self.cursor = line.len();
        self.line = line;
    }

    fn older(&mut self) {
        let index = match &self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.browsing = Some((self.history.len(), self.line.clone()));
                self.history.len() - 1
            }
            Some((0, _)) => return,
            Some((i, _)) => i - 1,
        };
        if let Some((shown, _)) = &mut self.browsing {
            *shown = index;
        }
        self.show(self.history[index].chars().collect());
    }

    fn newer(&mut self) {
        let Some((shown, draft)) = self.browsing.take() else { return };
        if shown + 1 < self.history.len() {
            self.browsing = Some((shown + 1, draft));
            self.show(self.history[shown + 1].chars().collect());
        } else {
            self.show(draft);
        }
    }

    /// An escape sequence so far: acts once it is complete (`ESC [ A`, `ESC [ 3 ~`, `ESC O H`).
    fn escape_sequence(&mut self) -> Step {
        let seq = self.escape.clone();
        let complete = match seq.as_slice() {
            [0x1b] | [0x1b, b'[' | b'O'] => false,
            [0x1b, b'[', rest @ ..] => rest.last().is_some_and(|b| (0x40..=0x7e).contains(b)),
            _ => true,
        };
        if !complete {
            return Step::Edit;
        }
        self.escape.clear();
        let key = match seq.as_slice() {
            [0x1b, b'[' | b'O', rest @ ..] => rest,
            _ => return Step::Edit,
        };
        match key {
            b"A" => self.older(),
            b"B" => self.newer(),
            b"C" => self.cursor = (self.cursor + 1).min(self.line.len()),
            b"D" => self.cursor = self.cursor.saturating_sub(1),
            b"H" | b"1~" | b"7~" => self.cursor = 0,
            b"F" | b"4~" | b"8~" => self.cursor = self.line.len(),
            b"3~" => self.delete(),
            _ => {}
        }
        Step::Edit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Types `keys` into an editor with `history`; gives each non-`Edit` step and then the
    /// line as shown, `|` at the cursor.
    fn typed(history: &[&str], keys: &[u8]) -> String {
        let mut e = Editor::new(history.iter().map(|s| s.to_string()).collect());
        let mut out = Vec::new();
        for &b in keys {
            match e.key(b) {
                Step::Edit => {}
                step => out.push(format!("{step:?}")),
            }
        }
        let mut line: String = e.line[..e.cursor].iter().collect();
        line.push('|');
        line.extend(&e.line[e.cursor..]);
        out.push(line);
        out.join(" ")
    }

    #[test]
    fn keys_edit_the_line() {
        let cases: &[(&[&str], &[u8], &str)] = &[
            (&[], b"echo hi\r", "Line(\"echo hi\") |"),
            (&[], b"abc\x7f\x7fd", "ad|"),
            (&[], b"abc\x1b[D\x1b[Dx", "ax|bc"),
            (&[], b"abc\x01X\x05Y", "XabcY|"),
            (&[], b"abc\x1b[HX\x1b[FY", "XabcY|"),
            (&[], b"abc\x1b[1~X\x1b[4~Y", "XabcY|"),
            (&[], b"abcd\x02\x02\x0b", "ab|"),
            (&[], b"abcd\x02\x02\x15", "|cd"),
            (&[], b"ls -l  /tmp\x17", "ls -l  |"),
            (&[], b"ls -l /tmp\x17\x17", "ls |"),
            (&[], b"abc\x01\x1b[3~", "|bc"),
            (&[], b"abc\x01\x04", "|bc"),
            (&[], b"\x04", "Eof |"),
            (&[], b"abc\x03", "Cancel |"),
            (&[], "é€x".as_bytes(), "é€x|"),
            (&[], b"a\x1b[Cb\x1b[5~c", "abc|"),
        ];
        for (history, keys, want) in cases {
            assert_eq!(typed(history, keys), *want, "{keys:?}");
        }
    }

    #[test]
    fn up_and_down_walk_the_history() {
        let h: &[&str] = &["one", "two"];
        let cases: &[(&[u8], &str)] = &[
            (b"\x1b[A", "two|"),
            (b"\x1b[A\x1b[A", "one|"),
            (b"\x1b[A\x1b[A\x1b[A", "one|"),
            (b"dr\x1b[A\x1b[B", "dr|"),
            (b"\x10\x10\x0e", "two|"),
            (b"\x1bOA\r", "Line(\"two\") |"),
            (b"\x1b[A!\r\x1b[A", "Line(\"two!\") two!|"),
        ];
        for (keys, want) in cases {
            assert_eq!(typed(h, keys), *want, "{keys:?}");
        }
        let mut e = Editor::new(vec!["same".into()]);
        for &b in b"same\r \r" {
            e.key(b);
        }
        assert_eq!(e.history(), ["same"], "repeats and blank lines are not kept");
    }

    #[test]
    fn render_redraws_the_line_and_places_the_cursor() {
        let mut e = Editor::new(Vec::new());
        for &b in b"echo hi\x1b[D\x1b[D" {
            e.key(b);
        }
        assert_eq!(e.render("/ # "), "\r/ # echo hi\x1b[K\x1b[2D");
        e.key(0x05);
        assert_eq!(e.render("$ "), "\r$ echo hi\x1b[K");
    }
}
