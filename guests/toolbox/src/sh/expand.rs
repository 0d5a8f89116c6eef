//! Word expansion: tilde, parameters (`$X`, `${X:-…}`, `"$@"`), command substitution,
//! arithmetic, then field splitting of unquoted results on `$IFS` and filename expansion of
//! unquoted wildcards (a pattern that matches nothing stays as written).

use super::arith;
use super::ast::List;
use super::ast::{ParamOp, Part, Replace, Word};
use super::exec::Shell;
use super::parser::is_name;
use crate::glob;
use crate::stream::{Io, Output};

/// Why a word could not be expanded (busybox's message without the `sh: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError(pub String);

type Result<T> = std::result::Result<T, ExpandError>;

/// One field being built: its text, the same as a glob pattern (quoted characters escaped),
/// whether it has active wildcards, and whether anything quoted went in (which keeps an empty
/// field, as `""` is an argument).
#[derive(Debug, Default)]
struct Field {
    text: String,
    pattern: String,
    glob: bool,
    quoted: bool,
}

struct Fields {
    done: Vec<Field>,
    current: Field,
    /// Split unquoted expansions on these characters (`None` in assignments and the like).
    ifs: Option<String>,
}

impl Fields {
    fn quoted(&mut self, s: &str) {
        self.current.text.push_str(s);
        self.current.pattern.push_str(&glob::escape(s));
        self.current.quoted = true;
    }

    fn unquoted(&mut self, s: &str) {
        self.current.text.push_str(s);
        self.current.pattern.push_str(s);
        self.current.glob |= glob::has_wildcards(s);
    }

    /// The result of an unquoted expansion: split into fields at `$IFS` characters (POSIX
    /// 2.6.5: runs of IFS white space separate fields and vanish at either end; every other IFS
    /// character ends a field, empty or not, with the white space around it).
    fn expansion(&mut self, s: &str) {
        let Some(ifs) = self.ifs.clone() else {
            self.unquoted(s);
            return;
        };
        let white = |c: char| ifs.contains(c) && " \t\n".contains(c);
        let other = |c: char| ifs.contains(c) && !white(c);
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if white(c) || other(c) {
                rest = rest.trim_start_matches(white);
                match rest.chars().next() {
                    Some(d) if other(d) => {
                        self.done.push(std::mem::take(&mut self.current));
                        rest = rest[d.len_utf8()..].trim_start_matches(white);
                    }
                    _ => self.end_field(),
                }
                continue;
            }
            let end = rest.find(|c: char| ifs.contains(c)).unwrap_or(rest.len());
            self.unquoted(&rest[..end]);
            rest = &rest[end..];
        }
    }

    /// Ends the current field; it is kept if it has text or was quoted.
    fn end_field(&mut self) {
        let field = std::mem::take(&mut self.current);
        if !field.text.is_empty() || field.quoted {
            self.done.push(field);
        }
    }

    fn finish(mut self) -> Vec<Field> {
        self.end_field();
        self.done
    }
}

impl Shell {
    /// Expands command words into arguments: splitting and filename expansion included.
    pub fn expand_words(&mut self, words: &[Word], io: &Io) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for word in words {
            for field in self.fields(word, io, true)? {
                if field.glob && !self.options.noglob {
                    let matches = glob::expand(&field.pattern);
                    if !matches.is_empty() {
                        out.extend(matches);
                        continue;
                    }
                }
                out.push(field.text);
            }
        }
        Ok(out)
    }

    /// Expands a word to one string, without splitting or filename expansion (assignments,
    /// redirection targets, here-documents, `case` subjects).
    pub fn expand_string(&mut self, word: &Word, io: &Io) -> Result<String> {
        Ok(self.fields(word, io, false)?.into_iter().map(|f| f.text).collect())
    }

    /// Expands a word to a wildcard pattern, its quoted characters escaped (`case`, `${X%…}`).
    pub fn expand_pattern(&mut self, word: &Word, io: &Io) -> Result<String> {
        Ok(self.fields(word, io, false)?.into_iter().map(|f| f.pattern).collect())
    }

    fn fields(&mut self, word: &Word, io: &Io, split: bool) -> Result<Vec<Field>> {
        let ifs = split.then(|| self.vars.get("IFS").unwrap_or(" \t\n").to_string());
        let mut f = Fields { done: Vec::new(), current: Field::default(), ifs };
        for (i, part) in word.parts.iter().enumerate() {
            match part {
                // The tilde-prefix runs to the first unquoted `/`: quoted text in it stops the
                // expansion (`~"/x"` stays).
                Part::Lit(s) if i == 0 && s.starts_with('~') && (s.contains('/') || word.parts.len() == 1) => {
                    let (home, rest) = self.tilde(s);
                    f.quoted(&home);
                    f.unquoted(rest);
                }
                Part::Lit(s) => f.unquoted(s),
                Part::Quoted(s) => f.quoted(s),
                Part::Param { name, op: ParamOp::Get, quoted } if name == "@" || name == "*" => {
                    self.all_params(&mut f, name == "@", *quoted);
                }
                Part::Param { name, op, quoted } => {
                    let value = self.param_value(name, op, io)?;
                    push(&mut f, &value, *quoted);
                }
                Part::Command { list, quoted } => {
                    let output = self.command_output(list, io);
                    push(&mut f, &output, *quoted);
                }
                Part::Arith { expr, quoted } => {
                    let text = self.expand_string(expr, io)?;
                    let value = arith::eval(&text, &mut self.vars).map_err(ExpandError)?;
                    push(&mut f, &value.to_string(), *quoted);
                }
            }
        }
        Ok(f.finish())
    }

    /// `~` or `~/…` at the start of a word: `$HOME`; `~USER` is that user's home in
    /// /etc/passwd (left as written for an unknown user), and the rest.
    fn tilde<'s>(&self, s: &'s str) -> (String, &'s str) {
        let end = s.find('/').unwrap_or(s.len());
        let home = match &s[1..end] {
            "" => self.vars.get("HOME").unwrap_or("/").to_string(),
            user => match std::fs::read_to_string("/etc/passwd").ok().and_then(|p| home_of(&p, user)) {
                Some(home) => home,
                None => return (String::new(), s),
            },
        };
        (home, &s[end..])
    }

    /// `$@` and `$*`: `"$@"` gives one field per parameter, `"$*"` one field joined by the
    /// first `$IFS` character; unquoted, each parameter is split.
    fn all_params(&self, f: &mut Fields, at: bool, quoted: bool) {
        let params = self.positional.clone();
        if quoted && !at {
            let sep = self.vars.get("IFS").and_then(|s| s.chars().next()).map(String::from).unwrap_or_default();
            f.quoted(&params.join(&sep));
            return;
        }
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                match (f.ifs.is_some(), quoted) {
                    (true, _) => f.end_field(),
                    (false, true) => f.quoted(" "),
                    (false, false) => f.unquoted(" "),
                }
            }
            push(f, p, quoted);
        }
    }

    /// A special or named parameter's value; `None` when unset.
    pub fn param(&mut self, name: &str) -> Option<String> {
        match name {
            "RANDOM" => Some(self.next_random().to_string()),
            "?" => Some(self.status.to_string()),
            "#" => Some(self.positional.len().to_string()),
            "$" => Some(self.pid.to_string()),
            "!" => self.last_background.map(|p| p.to_string()),
            "-" => {
                let o = &self.options;
                let flags = [(o.errexit, 'e'), (o.noglob, 'f'), (self.interactive, 'i'), (o.xtrace, 'x')];
                Some(flags.iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect())
            }
            "0" => Some(self.arg0.clone()),
            "@" | "*" => Some(self.positional.join(" ")),
            _ if name.chars().all(|c| c.is_ascii_digit()) => {
                name.parse::<usize>().ok().and_then(|n| self.positional.get(n.checked_sub(1)?)).cloned()
            }
            _ => self.vars.get(name).map(str::to_string),
        }
    }

    fn param_value(&mut self, name: &str, op: &ParamOp, io: &Io) -> Result<String> {
        let value = self.param(name);
        let missing = |colon: bool| value.as_deref().is_none_or(|v| colon && v.is_empty());
        match op {
            ParamOp::Get => Ok(value.unwrap_or_default()),
            ParamOp::Length => Ok(value.unwrap_or_default().chars().count().to_string()),
            ParamOp::Default { colon, word } if missing(*colon) => self.expand_string(word, io),
            ParamOp::Assign { colon, word } if missing(*colon) => {
                if !is_name(name) {
                    return Err(ExpandError(format!("{name}: bad variable name")));
                }
                let v = self.expand_string(word, io)?;
                self.vars.set(name, &v);
                Ok(v)
            }
            ParamOp::Alternative { colon, word } => {
                if missing(*colon) {
                    Ok(String::new())
                } else {
                    self.expand_string(word, io)
                }
            }
            ParamOp::Error { colon, word } if missing(*colon) => {
                let msg = self.expand_string(word, io)?;
                Err(ExpandError(format!("{name}: {}", if msg.is_empty() { "parameter not set" } else { &msg })))
            }
            ParamOp::TrimSuffix { longest, pattern } => {
                let p = self.expand_pattern(pattern, io)?;
                Ok(trim(&value.unwrap_or_default(), &p, *longest, true))
            }
            ParamOp::TrimPrefix { longest, pattern } => {
                let p = self.expand_pattern(pattern, io)?;
                Ok(trim(&value.unwrap_or_default(), &p, *longest, false))
            }
            ParamOp::Replace { mode, pattern, with } => {
                let p = self.expand_pattern(pattern, io)?;
                let with = self.expand_string(with, io)?;
                Ok(replace(&value.unwrap_or_default(), &p, &with, *mode))
            }
            ParamOp::Substring { offset, length } => {
                let mut number = |w: &Word| -> Result<i64> {
                    let text = self.expand_string(w, io)?;
                    arith::eval(&text, &mut self.vars).map_err(ExpandError)
                };
                let offset = number(offset)?;
                let length = length.as_ref().map(&mut number).transpose()?;
                substring(&value.unwrap_or_default(), offset, length).map_err(|e| ExpandError(format!("{name}: {e}")))
            }
            ParamOp::Default { .. } | ParamOp::Assign { .. } | ParamOp::Error { .. } => Ok(value.unwrap_or_default()),
        }
    }

    /// `$(…)`: its output without trailing newlines, run in a subshell of this shell; the
    /// programs it starts write into pipes the shell drains into the capture.
    fn command_output(&mut self, list: &List, io: &Io) -> String {
        let output = Output::capture();
        // The buffer itself, which an `exec >&2` inside cannot take away.
        let collected = output.dup();
        let sub = Io { stdin: io.stdin.clone(), stdout: output, stderr: io.stderr.clone() };
        let status = self.subshell(|sh| sh.run_list(list, &sub));
        self.substitution_status = Some(status);
        let mut text = String::from_utf8_lossy(&collected.take()).into_owned();
        while text.ends_with('\n') {
            text.pop();
        }
        text
    }

    /// `$RANDOM`: 0 to 32767 (xorshift, seeded from the pid and the clock).
    fn next_random(&mut self) -> u32 {
        let mut x = self.random.max(1);
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.random = x;
        (x >> 8) % 32768
    }
}

/// `user`'s home directory in /etc/passwd's text.
fn home_of(passwd: &str, user: &str) -> Option<String> {
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 5 && f[0] == user)
        .map(|f| f[5].to_string())
}

/// Adds an expansion's value, quoted or subject to splitting.
fn push(f: &mut Fields, value: &str, quoted: bool) {
    if quoted { f.quoted(value) } else { f.expansion(value) }
}

/// `${X/p/s}` and its forms: the longest match of `pattern` at the first place it matches
/// (every place, with `All`; only the start or the end, with `Prefix`/`Suffix`) becomes `with`.
fn replace(value: &str, pattern: &str, with: &str, mode: Replace) -> String {
    if pattern.is_empty() {
        return value.to_string();
    }
    let chars: Vec<char> = value.chars().collect();
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    // The longest match starting at `start` (ending at the end, for a suffix), if any.
    let longest_at = |start: usize, to_end: bool| -> Option<usize> {
        if to_end {
            return glob::matches(pattern, &text(start, chars.len())).then_some(chars.len());
        }
        (start..=chars.len()).rev().find(|&end| glob::matches(pattern, &text(start, end)))
    };
    match mode {
        Replace::Prefix => match longest_at(0, false) {
            Some(end) => format!("{with}{}", text(end, chars.len())),
            None => value.to_string(),
        },
        Replace::Suffix => match (0..=chars.len()).find(|&start| longest_at(start, true).is_some()) {
            Some(start) => format!("{}{with}", text(0, start)),
            None => value.to_string(),
        },
        Replace::First | Replace::All => {
            let (mut out, mut i, mut replaced) = (String::new(), 0, false);
            while i < chars.len() {
                match longest_at(i, false).filter(|&end| end > i && !(replaced && mode == Replace::First)) {
                    Some(end) => {
                        out.push_str(with);
                        i = end;
                        replaced = true;
                    }
                    None => {
                        out.push(chars[i]);
                        i += 1;
                    }
                }
            }
            out
        }
    }
}

/// `${X:offset:length}` on characters: a negative offset counts from the end; a negative
/// length leaves that many characters off the end (bash's rules).
fn substring(value: &str, offset: i64, length: Option<i64>) -> std::result::Result<String, String> {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len() as i64;
    let start = if offset < 0 { (n + offset).max(0) } else { offset.min(n) };
    let end = match length {
        None => n,
        Some(l) if l >= 0 => (start + l).min(n),
        Some(l) => {
            let end = n + l;
            if end < start {
                return Err(format!("{l}: substring expression < 0"));
            }
            end
        }
    };
    Ok(chars[start as usize..end as usize].iter().collect())
}

/// `${X%p}`, `${X%%p}` (`suffix`) and `${X#p}`, `${X##p}`: removes the shortest or longest
/// matching suffix or prefix.
fn trim(value: &str, pattern: &str, longest: bool, suffix: bool) -> String {
    let mut cuts: Vec<usize> = value.char_indices().map(|(i, _)| i).chain([value.len()]).collect();
    // Try the cut points from the one that removes least (shortest) or most (longest).
    if suffix != longest {
        cuts.reverse();
    }
    for cut in cuts {
        let (removed, kept) = if suffix { (&value[cut..], &value[..cut]) } else { (&value[..cut], &value[cut..]) };
        if glob::matches(pattern, removed) {
            return kept.to_string();
        }
    }
    value.to_string()
}
