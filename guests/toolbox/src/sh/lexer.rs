//! The shell's lexer: source text to tokens. Words keep their quoting as parts (see
//! [`Part`]), since expansion depends on it; `$(…)` is parsed here, into the word, so it runs
//! as any other command list; here-document bodies are read at the newline after their operator and attached to it.

use std::fmt;
use std::rc::Rc;

use super::ast::{ParamOp, Part, RedirKind, Replace, Word};
use super::parser::parse;

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Word(Word),
    Op(Op),
    /// A redirection operator; a here-document carries its body.
    Redir {
        fd: Option<u32>,
        kind: RedirKind,
        body: Option<Word>,
    },
    Newline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    And,
    Or,
    Pipe,
    Semi,
    DoubleSemi,
    Amp,
    LParen,
    RParen,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::And => "&&",
            Op::Or => "||",
            Op::Pipe => "|",
            Op::Semi => ";",
            Op::DoubleSemi => ";;",
            Op::Amp => "&",
            Op::LParen => "(",
            Op::RParen => ")",
        })
    }
}

/// Why text is not a (complete) script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxError {
    /// The text ends inside a construct; more lines may complete it.
    Incomplete(String),
    Invalid(String),
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxError::Incomplete(what) => write!(f, "syntax error: {what}"),
            SyntaxError::Invalid(what) => write!(f, "syntax error: {what}"),
        }
    }
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Where a run of parts ends and which characters are special in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A shell word: ends at a blank or an operator; quotes are active.
    Word,
    /// Inside `"…"`: ends at the closing quote.
    DoubleQuoted,
    /// The word in `${NAME-word}`: ends at the `}` (and at a `/` with `slash`: the pattern of
    /// `${NAME/pattern/string}`); `quoted` when inside double quotes.
    Brace { quoted: bool, slash: bool },
    /// Here-document bodies and arithmetic: literal except `$`, `` ` `` and `\`.
    Expanding,
}

impl Mode {
    fn quotes_active(self) -> bool {
        matches!(self, Mode::Word | Mode::Brace { quoted: false, .. })
    }
}

struct PendingHereDoc {
    token: usize,
    delimiter: String,
    strip_tabs: bool,
    literal: bool,
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    pending: Vec<PendingHereDoc>,
}

/// Splits `src` into tokens.
pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    Lexer::new(src).run()
}

/// Parses `text` with here-document rules (for bodies and arithmetic).
fn expanding_word(text: &str) -> Result<Word> {
    Ok(Word { parts: Lexer::new(text).parts(Mode::Expanding)? })
}

/// Joins neighbouring quoted texts (`'a'\b"c"` is one quoted `abc`), so that a word has one
/// tree however its quoting was spelled (the printer's output parses to the tree it printed).
fn merge_quoted(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    for part in parts {
        match (out.last_mut(), part) {
            (Some(Part::Quoted(a)), Part::Quoted(b)) => a.push_str(&b),
            (_, part) => out.push(part),
        }
    }
    out
}

fn incomplete(what: &str) -> SyntaxError {
    SyntaxError::Incomplete(what.to_string())
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

impl Lexer {
    fn new(src: &str) -> Lexer {
        Lexer { s: src.chars().collect(), i: 0, pending: Vec::new() }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn at(&self, n: usize) -> Option<char> {
        self.s.get(self.i + n).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn run(&mut self) -> Result<Vec<Token>> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            let token = match c {
                ' ' | '\t' => {
                    self.i += 1;
                    continue;
                }
                '\\' if self.at(1) == Some('\n') => {
                    self.i += 2;
                    continue;
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                    continue;
                }
                '\n' => {
                    self.i += 1;
                    out.push(Token::Newline);
                    self.read_heredocs(&mut out)?;
                    continue;
                }
                ';' | '&' | '|' | '(' | ')' => Token::Op(self.operator(c)),
                '<' | '>' => self.redirection(None, out.len())?,
                c if c.is_ascii_digit() && self.digits_before_redirection() => {
                    let mut fd = 0u32;
                    while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                        fd = fd.saturating_mul(10).saturating_add(d);
                        self.i += 1;
                    }
                    self.redirection(Some(fd), out.len())?
                }
                _ => Token::Word(Word { parts: self.parts(Mode::Word)? }),
            };
            out.push(token);
        }
        if !self.pending.is_empty() {
            return Err(incomplete("unexpected end of file (expecting here-document end)"));
        }
        Ok(out)
    }

    fn operator(&mut self, c: char) -> Op {
        self.i += 1;
        match c {
            ';' if self.eat(';') => Op::DoubleSemi,
            ';' => Op::Semi,
            '&' if self.eat('&') => Op::And,
            '&' => Op::Amp,
            '|' if self.eat('|') => Op::Or,
            '|' => Op::Pipe,
            '(' => Op::LParen,
            _ => Op::RParen,
        }
    }

    fn digits_before_redirection(&self) -> bool {
        let mut j = self.i;
        while self.s.get(j).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
        matches!(self.s.get(j), Some('<' | '>'))
    }

    /// A redirection operator at `<` or `>`; `index` is where its token will be.
    fn redirection(&mut self, fd: Option<u32>, index: usize) -> Result<Token> {
        let c = self.peek();
        self.i += 1;
        let kind = if c == Some('<') {
            if self.eat('<') {
                return self.heredoc(fd, index);
            }
            if self.eat('&') {
                RedirKind::DupIn
            } else {
                // `<>` (read-write) is treated as reading.
                self.eat('>');
                RedirKind::In
            }
        } else if self.eat('>') {
            RedirKind::Append
        } else if self.eat('&') {
            RedirKind::DupOut
        } else {
            self.eat('|');
            RedirKind::Out
        };
        Ok(Token::Redir { fd, kind, body: None })
    }

    /// `<<WORD` or `<<-WORD`: notes the delimiter; the body follows the next newline.
    fn heredoc(&mut self, fd: Option<u32>, index: usize) -> Result<Token> {
        let strip_tabs = self.eat('-');
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.i += 1;
        }
        let parts = self.parts(Mode::Word)?;
        if parts.is_empty() {
            return Err(SyntaxError::Invalid("unexpected redirection".into()));
        }
        let literal = parts.iter().any(|p| !matches!(p, Part::Lit(_)));
        let delimiter: String = parts
            .iter()
            .map(|p| match p {
                Part::Lit(s) | Part::Quoted(s) => s.clone(),
                _ => String::new(),
            })
            .collect();
        self.pending.push(PendingHereDoc { token: index, delimiter, strip_tabs, literal });
        Ok(Token::Redir { fd, kind: RedirKind::HereDoc, body: None })
    }

    /// Reads the bodies of the here-documents opened on the line just ended.
    fn read_heredocs(&mut self, out: &mut [Token]) -> Result<()> {
        for doc in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            loop {
                if self.peek().is_none() {
                    return Err(incomplete(&format!("unexpected end of file (expecting \"{}\")", doc.delimiter)));
                }
                let start = self.i;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let mut line: String = self.s[start..self.i].iter().collect();
                self.eat('\n');
                if doc.strip_tabs {
                    line = line.trim_start_matches('\t').to_string();
                }
                if line == doc.delimiter {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            let word = if doc.literal { Word { parts: vec![Part::Quoted(body)] } } else { expanding_word(&body)? };
            if let Some(Token::Redir { body, .. }) = out.get_mut(doc.token) {
                *body = Some(word);
            }
        }
        Ok(())
    }

    /// Reads parts until `mode` says the run ends.
    fn parts(&mut self, mode: Mode) -> Result<Vec<Part>> {
        // Text is quoted everywhere except in a word outside quotes.
        let quoted = !mode.quotes_active();
        let mut parts = Vec::new();
        let mut text = String::new();
        let flush = |parts: &mut Vec<Part>, text: &mut String| {
            if !text.is_empty() {
                let t = std::mem::take(text);
                parts.push(if quoted { Part::Quoted(t) } else { Part::Lit(t) });
            }
        };
        loop {
            let Some(c) = self.peek() else {
                match mode {
                    Mode::Word | Mode::Expanding => break,
                    Mode::DoubleQuoted => return Err(incomplete("unterminated quoted string")),
                    Mode::Brace { .. } => return Err(incomplete("missing '}'")),
                }
            };
            match (mode, c) {
                (Mode::Word, ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>') => break,
                (Mode::DoubleQuoted, '"') => {
                    self.i += 1;
                    break;
                }
                (Mode::Brace { .. }, '}') => break,
                (Mode::Brace { slash: true, .. }, '/') => break,
                _ => {}
            }
            match c {
                '\\' => {
                    let next = self.at(1);
                    let escapable = match mode {
                        Mode::Word | Mode::Brace { quoted: false, .. } => next.is_some(),
                        Mode::DoubleQuoted => matches!(next, Some('$' | '`' | '"' | '\\')),
                        Mode::Brace { quoted: true, .. } => matches!(next, Some('$' | '`' | '"' | '\\' | '}' | '/')),
                        Mode::Expanding => matches!(next, Some('$' | '`' | '\\')),
                    };
                    if next == Some('\n') {
                        self.i += 2;
                    } else if let (true, Some(n)) = (escapable, next) {
                        flush(&mut parts, &mut text);
                        parts.push(Part::Quoted(n.to_string()));
                        self.i += 2;
                    } else {
                        text.push('\\');
                        self.i += 1;
                    }
                }
                '\'' if mode.quotes_active() => {
                    flush(&mut parts, &mut text);
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                    if self.peek().is_none() {
                        return Err(incomplete("unterminated quoted string"));
                    }
                    parts.push(Part::Quoted(self.s[start..self.i].iter().collect()));
                    self.i += 1;
                }
                '"' if mode.quotes_active() => {
                    flush(&mut parts, &mut text);
                    self.i += 1;
                    let inner = self.parts(Mode::DoubleQuoted)?;
                    if inner.is_empty() {
                        parts.push(Part::Quoted(String::new()));
                    }
                    parts.extend(inner);
                }
                '$' => {
                    flush(&mut parts, &mut text);
                    let part = self.dollar(quoted)?;
                    parts.push(part);
                }
                '`' => {
                    flush(&mut parts, &mut text);
                    let part = self.backtick(quoted)?;
                    parts.push(part);
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut parts, &mut text);
        Ok(merge_quoted(parts))
    }

    /// `$…` at the `$`: a parameter, `$(…)`, `$((…))`, or a literal `$`.
    fn dollar(&mut self, quoted: bool) -> Result<Part> {
        self.i += 1;
        let param = |name: String| Part::Param { name, op: ParamOp::Get, quoted };
        Ok(match self.peek() {
            Some('{') => {
                self.i += 1;
                self.braced(quoted)?
            }
            Some('(') if self.at(1) == Some('(') => {
                self.i += 2;
                let text = self.arith_text()?;
                Part::Arith { expr: expanding_word(&text)?, quoted }
            }
            Some('(') => {
                self.i += 1;
                let script = self.paren_script()?;
                Part::Command { list: Rc::new(parse(&script)?), quoted }
            }
            Some(c) if is_name_start(c) => param(self.name()),
            Some(c) if c.is_ascii_digit() || "?#@*$!-".contains(c) => {
                self.i += 1;
                param(c.to_string())
            }
            _ if quoted => Part::Quoted("$".into()),
            _ => Part::Lit("$".into()),
        })
    }

    fn name(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(is_name_char) {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    /// `${…}` after the `{`.
    fn braced(&mut self, quoted: bool) -> Result<Part> {
        let bad = || SyntaxError::Invalid("bad substitution".into());
        if self.peek() == Some('#') && self.at(1).is_some_and(|c| c != '}') {
            self.i += 1;
            let name = self.param_name().ok_or_else(bad)?;
            if !self.eat('}') {
                return Err(bad());
            }
            return Ok(Part::Param { name, op: ParamOp::Length, quoted });
        }
        let name = self.param_name().ok_or_else(bad)?;
        if self.eat('}') {
            return Ok(Part::Param { name, op: ParamOp::Get, quoted });
        }
        if self.eat('/') {
            return self.replacement(name, quoted);
        }
        let colon = self.eat(':');
        let op_char = self.peek().ok_or_else(|| incomplete("missing '}'"))?;
        if colon && !"-=+?".contains(op_char) {
            return self.substring(name, quoted);
        }
        self.i += 1;
        let doubled = matches!(op_char, '%' | '#') && !colon && self.eat(op_char);
        // A trim's pattern is a pattern even inside double quotes ("${p##*/}"): only quotes
        // written inside the braces quote it.
        let trims = matches!(op_char, '%' | '#') && !colon;
        let word = Word { parts: self.parts(Mode::Brace { quoted: quoted && !trims, slash: false })? };
        self.i += 1; // the `}`
        let op = match (op_char, colon) {
            ('-', _) => ParamOp::Default { colon, word },
            ('=', _) => ParamOp::Assign { colon, word },
            ('+', _) => ParamOp::Alternative { colon, word },
            ('?', _) => ParamOp::Error { colon, word },
            ('%', false) => ParamOp::TrimSuffix { longest: doubled, pattern: word },
            ('#', false) => ParamOp::TrimPrefix { longest: doubled, pattern: word },
            _ => return Err(bad()),
        };
        Ok(Part::Param { name, op, quoted })
    }

    /// `${NAME/pattern/string}` after the first `/`: `//` replaces every match, `/#` a match
    /// at the start, `/%` one at the end (bash's forms).
    fn replacement(&mut self, name: String, quoted: bool) -> Result<Part> {
        let mode = if self.eat('/') {
            Replace::All
        } else if self.eat('#') {
            Replace::Prefix
        } else if self.eat('%') {
            Replace::Suffix
        } else {
            Replace::First
        };
        let pattern = Word { parts: self.parts(Mode::Brace { quoted: false, slash: true })? };
        let with = if self.eat('/') {
            Word { parts: self.parts(Mode::Brace { quoted, slash: false })? }
        } else {
            Word::default()
        };
        if !self.eat('}') {
            return Err(incomplete("missing '}'"));
        }
        Ok(Part::Param { name, op: ParamOp::Replace { mode, pattern, with }, quoted })
    }

    /// `${NAME:offset}` and `${NAME:offset:length}` after the `:`: arithmetic, each.
    fn substring(&mut self, name: String, quoted: bool) -> Result<Part> {
        let offset = self.arith_until(&[':', '}'])?;
        let length = if self.eat(':') { Some(self.arith_until(&['}'])?) } else { None };
        if !self.eat('}') {
            return Err(incomplete("missing '}'"));
        }
        Ok(Part::Param { name, op: ParamOp::Substring { offset, length }, quoted })
    }

    /// Text up to one of `ends` outside parentheses, as an arithmetic word.
    fn arith_until(&mut self, ends: &[char]) -> Result<Word> {
        let start = self.i;
        let mut depth = 0;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                c if depth == 0 && ends.contains(&c) => break,
                _ => {}
            }
            self.i += 1;
        }
        let text: String = self.s[start..self.i].iter().collect();
        expanding_word(&text)
    }

    fn param_name(&mut self) -> Option<String> {
        match self.peek()? {
            c if is_name_start(c) => Some(self.name()),
            c if c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                Some(self.s[start..self.i].iter().collect())
            }
            c if "?#@*$!-".contains(c) => {
                self.i += 1;
                Some(c.to_string())
            }
            _ => None,
        }
    }

    /// The text of `$(…)` after the `(`, up to the `)` that ends it: the first one at which the
    /// text is a complete script.
    fn paren_script(&mut self) -> Result<String> {
        let start = self.i;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            match c {
                '\\' => self.i += 1,
                '\'' | '"' => {
                    self.i += 1;
                    while self.peek().is_some_and(|q| q != c) {
                        if c == '"' && self.peek() == Some('\\') {
                            self.i += 1;
                        }
                        self.i += 1;
                    }
                }
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        let text: String = self.s[start..self.i].iter().collect();
                        // A `case` arm's `)` closes nothing: the script goes on until it parses.
                        if !matches!(parse(&text), Err(SyntaxError::Incomplete(_))) {
                            self.i += 1;
                            return Ok(text);
                        }
                        depth = 1;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        Err(incomplete("unexpected end of file (expecting \")\")"))
    }

    /// The text of `$((…))` after the `((`, up to the matching `))`.
    fn arith_text(&mut self) -> Result<String> {
        let start = self.i;
        let mut depth = 0;
        while let Some(c) = self.peek() {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                ')' if self.at(1) == Some(')') => {
                    let text = self.s[start..self.i].iter().collect();
                    self.i += 2;
                    return Ok(text);
                }
                ')' => return Err(SyntaxError::Invalid("missing '))'".into())),
                _ => {}
            }
            self.i += 1;
        }
        Err(incomplete("unexpected end of file (expecting \"))\")"))
    }

    /// `` `…` ``: backslash keeps its meaning only before `$`, `` ` `` and `\`.
    fn backtick(&mut self, quoted: bool) -> Result<Part> {
        self.i += 1;
        let mut script = String::new();
        loop {
            match self.peek() {
                None => return Err(incomplete("unterminated quoted string")),
                Some('`') => {
                    self.i += 1;
                    return Ok(Part::Command { list: Rc::new(parse(&script)?), quoted });
                }
                Some('\\') if matches!(self.at(1), Some('$' | '`' | '\\')) => {
                    script.extend(self.at(1));
                    self.i += 2;
                }
                Some(c) => {
                    script.push(c);
                    self.i += 1;
                }
            }
        }
    }
}
