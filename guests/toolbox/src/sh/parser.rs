//! The shell's parser: tokens to a [`List`] by recursive descent over POSIX's grammar. Errors
//! say whether more input could complete the text (an interactive shell then asks for another
//! line) and use busybox's wording (`unexpected "fi"`).

use std::rc::Rc;

use super::ast::{AndOr, Command, Compound, Connector, List, Part, Pipeline, Redir, RedirKind, Word};
use super::lexer::{Op, SyntaxError, Token, tokenize};

type Result<T> = std::result::Result<T, SyntaxError>;

/// Words that are keywords where a command starts.
const RESERVED: &[&str] =
    &["if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case", "esac", "{", "}", "!"];

/// Parses a whole script.
pub fn parse(src: &str) -> Result<List> {
    let mut p = Parser { tokens: tokenize(src)?, at: 0 };
    let list = p.list(&[])?;
    match p.peek() {
        None => Ok(list),
        Some(_) => Err(p.unexpected()),
    }
}

/// Whether `s` can name a variable.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn is_op(&self, op: Op) -> bool {
        self.peek() == Some(&Token::Op(op))
    }

    /// The keyword at the current token, if it is one.
    fn keyword(&self) -> Option<&str> {
        match self.peek() {
            Some(Token::Word(w)) => w.as_literal().filter(|s| RESERVED.contains(s)),
            _ => None,
        }
    }

    fn skip_newlines(&mut self) {
        while self.peek() == Some(&Token::Newline) {
            self.at += 1;
        }
    }

    fn unexpected(&self) -> SyntaxError {
        let what = match self.peek() {
            None => return SyntaxError::Incomplete("unexpected end of file".into()),
            Some(Token::Word(w)) => format!("\"{}\"", w.as_literal().unwrap_or("word")),
            Some(Token::Op(op)) => format!("\"{op}\""),
            Some(Token::Redir { .. }) => "redirection".into(),
            Some(Token::Newline) => "newline".into(),
        };
        SyntaxError::Invalid(format!("unexpected {what}"))
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<()> {
        match self.peek() {
            None => Err(SyntaxError::Incomplete(format!("unexpected end of file (expecting \"{kw}\")"))),
            Some(_) if self.keyword() == Some(kw) => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err(self.unexpected()),
        }
    }

    fn expect_op(&mut self, op: Op) -> Result<()> {
        match self.peek() {
            None => Err(SyntaxError::Incomplete(format!("unexpected end of file (expecting \"{op}\")"))),
            Some(_) if self.is_op(op) => {
                self.at += 1;
                Ok(())
            }
            Some(_) => Err(self.unexpected()),
        }
    }

    /// And-or lists separated by `;`, `&` or newlines, up to (not including) one of the
    /// keywords in `stops`, a `)`, a `;;`, or the end.
    fn list(&mut self, stops: &[&str]) -> Result<List> {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                None | Some(Token::Op(Op::RParen | Op::DoubleSemi)) => break,
                _ if self.keyword().is_some_and(|k| stops.contains(&k)) => break,
                _ => {}
            }
            let mut item = self.and_or()?;
            item.background = self.is_op(Op::Amp);
            items.push(item);
            match self.peek() {
                Some(Token::Op(Op::Semi | Op::Amp) | Token::Newline) => self.at += 1,
                _ => break,
            }
        }
        Ok(items)
    }

    /// A list that must not be empty, followed by keyword `end`.
    fn body(&mut self, stops: &[&str], end: &str) -> Result<List> {
        let list = self.list(stops)?;
        if list.is_empty() {
            return Err(match self.peek() {
                None => SyntaxError::Incomplete(format!("unexpected end of file (expecting \"{end}\")")),
                Some(_) => self.unexpected(),
            });
        }
        Ok(list)
    }

    fn and_or(&mut self) -> Result<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let connector = match self.peek() {
                Some(Token::Op(Op::And)) => Connector::And,
                Some(Token::Op(Op::Or)) => Connector::Or,
                _ => break,
            };
            self.at += 1;
            self.skip_newlines();
            rest.push((connector, self.pipeline()?));
        }
        Ok(AndOr { first, rest, background: false })
    }

    fn pipeline(&mut self) -> Result<Pipeline> {
        let negate = self.keyword() == Some("!");
        if negate {
            self.at += 1;
        }
        let mut commands = vec![self.command()?];
        while self.is_op(Op::Pipe) {
            self.at += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { negate, commands })
    }

    fn command(&mut self) -> Result<Command> {
        let body = match self.peek() {
            None => return Err(self.unexpected()),
            Some(Token::Op(Op::LParen)) => {
                self.at += 1;
                let list = self.list(&[])?;
                self.expect_op(Op::RParen)?;
                Compound::Subshell(list)
            }
            Some(Token::Word(_)) => match self.keyword() {
                Some("if") => self.if_clause()?,
                Some("for") => self.for_clause()?,
                Some(kw @ ("while" | "until")) => {
                    let until = kw == "until";
                    self.at += 1;
                    let cond = self.body(&["do"], "do")?;
                    self.expect_keyword("do")?;
                    let body = self.body(&["done"], "done")?;
                    self.expect_keyword("done")?;
                    Compound::While { cond, body, until }
                }
                Some("case") => self.case_clause()?,
                Some("{") => {
                    self.at += 1;
                    let list = self.body(&["}"], "}")?;
                    self.expect_keyword("}")?;
                    Compound::Group(list)
                }
                Some(_) => return Err(self.unexpected()),
                None if self.function_ahead() => return self.function(),
                None => return self.simple(),
            },
            Some(Token::Redir { .. }) => return self.simple(),
            Some(_) => return Err(self.unexpected()),
        };
        let redirs = self.redirections()?;
        Ok(Command::Compound { body, redirs })
    }

    fn if_clause(&mut self) -> Result<Compound> {
        let mut branches = Vec::new();
        let mut otherwise = None;
        self.at += 1;
        loop {
            let cond = self.body(&["then"], "then")?;
            self.expect_keyword("then")?;
            let then = self.body(&["elif", "else", "fi"], "fi")?;
            branches.push((cond, then));
            match self.keyword() {
                Some("elif") => self.at += 1,
                Some("else") => {
                    self.at += 1;
                    otherwise = Some(self.body(&["fi"], "fi")?);
                    self.expect_keyword("fi")?;
                    break;
                }
                _ => {
                    self.expect_keyword("fi")?;
                    break;
                }
            }
        }
        Ok(Compound::If { branches, otherwise })
    }

    fn for_clause(&mut self) -> Result<Compound> {
        self.at += 1;
        let var = match self.peek() {
            Some(Token::Word(w)) if w.as_literal().is_some_and(is_name) => {
                w.as_literal().unwrap_or_default().to_string()
            }
            _ => return Err(SyntaxError::Invalid("bad for loop variable".into())),
        };
        self.at += 1;
        self.skip_newlines();
        let items = if self.keyword() == Some("in") {
            self.at += 1;
            let mut items = Vec::new();
            while let Some(Token::Word(w)) = self.peek() {
                items.push(w.clone());
                self.at += 1;
            }
            Some(items)
        } else {
            None
        };
        if self.is_op(Op::Semi) {
            self.at += 1;
        }
        self.skip_newlines();
        self.expect_keyword("do")?;
        let body = self.body(&["done"], "done")?;
        self.expect_keyword("done")?;
        Ok(Compound::For { var, items, body })
    }

    fn case_clause(&mut self) -> Result<Compound> {
        self.at += 1;
        let word = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            _ => return Err(self.unexpected()),
        };
        self.at += 1;
        self.skip_newlines();
        self.expect_keyword("in")?;
        let mut arms = Vec::new();
        loop {
            self.skip_newlines();
            if self.keyword() == Some("esac") {
                self.at += 1;
                break;
            }
            if self.is_op(Op::LParen) {
                self.at += 1;
            }
            let mut patterns = vec![self.word()?];
            while self.is_op(Op::Pipe) {
                self.at += 1;
                patterns.push(self.word()?);
            }
            self.expect_op(Op::RParen)?;
            let body = self.list(&["esac"])?;
            if self.is_op(Op::DoubleSemi) {
                self.at += 1;
            } else if self.keyword() != Some("esac") {
                return Err(match self.peek() {
                    None => SyntaxError::Incomplete("unexpected end of file (expecting \"esac\")".into()),
                    Some(_) => self.unexpected(),
                });
            }
            arms.push((patterns, body));
        }
        Ok(Compound::Case { word, arms })
    }

    fn word(&mut self) -> Result<Word> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `NAME ( )` starts a function definition.
    fn function_ahead(&self) -> bool {
        let name_ok = matches!(self.peek(), Some(Token::Word(w)) if w.as_literal().is_some_and(is_name));
        name_ok
            && self.tokens.get(self.at + 1) == Some(&Token::Op(Op::LParen))
            && self.tokens.get(self.at + 2) == Some(&Token::Op(Op::RParen))
    }

    fn function(&mut self) -> Result<Command> {
        let name = self.word()?.as_literal().unwrap_or_default().to_string();
        self.at += 2;
        self.skip_newlines();
        let body = self.command()?;
        Ok(Command::Function { name, body: Rc::new(body) })
    }

    fn simple(&mut self) -> Result<Command> {
        let (mut assigns, mut words, mut redirs) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            match self.peek() {
                Some(Token::Redir { .. }) => redirs.push(self.redirection()?),
                Some(Token::Word(w)) => {
                    match assignment(w).filter(|_| words.is_empty()) {
                        Some(a) => assigns.push(a),
                        None => words.push(w.clone()),
                    }
                    self.at += 1;
                }
                _ => break,
            }
        }
        if assigns.is_empty() && words.is_empty() && redirs.is_empty() {
            return Err(self.unexpected());
        }
        Ok(Command::Simple { assigns, words, redirs })
    }

    fn redirections(&mut self) -> Result<Vec<Redir>> {
        let mut redirs = Vec::new();
        while let Some(Token::Redir { .. }) = self.peek() {
            redirs.push(self.redirection()?);
        }
        Ok(redirs)
    }

    fn redirection(&mut self) -> Result<Redir> {
        let Some(Token::Redir { fd, kind, body }) = self.peek().cloned() else { return Err(self.unexpected()) };
        self.at += 1;
        let fd = fd.unwrap_or(match kind {
            RedirKind::In | RedirKind::DupIn | RedirKind::HereDoc => 0,
            RedirKind::Out | RedirKind::Append | RedirKind::DupOut => 1,
        });
        let target = match body {
            Some(body) => body,
            None => self.word()?,
        };
        Ok(Redir { fd, kind, target })
    }
}

/// `NAME=value` as an assignment: the name and the value's word.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first)) = w.parts.first() else { return None };
    let (name, value) = first.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    let mut parts = Vec::new();
    if !value.is_empty() {
        parts.push(Part::Lit(value.to_string()));
    }
    parts.extend(w.parts[1..].iter().cloned());
    Some((name.to_string(), Word { parts }))
}
