//! The syntax tree back to shell text, for the parts of a script that run in a child shell (a
//! pipeline stage that is a builtin or compound command, a background job, a `$(…)` that runs
//! programs): the child gets this text and parses it to the same tree. Every parameter is
//! braced and every quoted text single-quoted, so the text need not look like what was written;
//! list items end at newlines so that here-document bodies can follow them.

use super::ast::{AndOr, Command, Compound, Connector, List, ParamOp, Part, Pipeline, Redir, RedirKind, Replace, Word};

/// The text of a list; it parses back to `list`.
#[cfg(test)]
pub fn list(list: &List) -> String {
    let mut p = Printer::default();
    p.list(list);
    p.out
}

/// The text of one and-or list (without its `&`).
pub fn and_or(item: &AndOr) -> String {
    let mut p = Printer::default();
    p.and_or(item);
    p.newline();
    p.out
}

/// The text of one command.
pub fn command(command: &Command) -> String {
    let mut p = Printer::default();
    p.command(command);
    p.newline();
    p.out
}

/// `value` as one single-quoted shell word.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// Where a part is printed, which decides how its text must be quoted (the lexer's modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A shell word, quotes active.
    Word,
    /// The word inside `${…}`, quotes active (`quoted: false` in the lexer).
    Brace,
    /// The word inside `"${…}"` (not a trim pattern).
    BraceQuoted,
    /// Here-document bodies and arithmetic.
    Expanding,
}

#[derive(Default)]
struct Printer {
    out: String,
    /// Here-document bodies (with their delimiter line) to write after the next newline.
    heredocs: Vec<String>,
}

impl Printer {
    fn newline(&mut self) {
        self.out.push('\n');
        for body in std::mem::take(&mut self.heredocs) {
            self.out.push_str(&body);
        }
    }

    fn list(&mut self, list: &List) {
        for item in list {
            self.and_or(item);
            if item.background {
                self.out.push_str(" &");
            }
            self.newline();
        }
    }

    fn and_or(&mut self, item: &AndOr) {
        self.pipeline(&item.first);
        for (connector, pipeline) in &item.rest {
            self.out.push_str(match connector {
                Connector::And => " && ",
                Connector::Or => " || ",
            });
            self.pipeline(pipeline);
        }
    }

    fn pipeline(&mut self, pipeline: &Pipeline) {
        if pipeline.negate {
            self.out.push_str("! ");
        }
        for (i, command) in pipeline.commands.iter().enumerate() {
            if i > 0 {
                self.out.push_str(" | ");
            }
            self.command(command);
        }
    }

    fn command(&mut self, command: &Command) {
        match command {
            Command::Simple { assigns, words, redirs } => {
                let mut first = true;
                let mut gap = |p: &mut Printer| {
                    if !std::mem::take(&mut first) {
                        p.out.push(' ');
                    }
                };
                for (name, value) in assigns {
                    gap(self);
                    self.out.push_str(name);
                    self.out.push('=');
                    self.word(value, Place::Word);
                }
                for word in words {
                    gap(self);
                    self.word(word, Place::Word);
                }
                for redir in redirs {
                    gap(self);
                    self.redir(redir);
                }
            }
            Command::Compound { body, redirs } => {
                self.compound(body);
                for redir in redirs {
                    self.out.push(' ');
                    self.redir(redir);
                }
            }
            Command::Function { name, body } => {
                self.out.push_str(name);
                self.out.push_str("() ");
                self.command(body);
            }
        }
    }

    fn compound(&mut self, body: &Compound) {
        match body {
            Compound::Group(list) => {
                self.out.push_str("{\n");
                self.list(list);
                self.out.push('}');
            }
            Compound::Subshell(list) => {
                self.out.push_str("( \n");
                self.list(list);
                self.out.push(')');
            }
            Compound::If { branches, otherwise } => {
                for (i, (cond, then)) in branches.iter().enumerate() {
                    self.out.push_str(if i == 0 { "if\n" } else { "elif\n" });
                    self.list(cond);
                    self.out.push_str("then\n");
                    self.list(then);
                }
                if let Some(list) = otherwise {
                    self.out.push_str("else\n");
                    self.list(list);
                }
                self.out.push_str("fi");
            }
            Compound::For { var, items, body } => {
                self.out.push_str("for ");
                self.out.push_str(var);
                if let Some(items) = items {
                    self.out.push_str(" in");
                    for item in items {
                        self.out.push(' ');
                        self.word(item, Place::Word);
                    }
                }
                self.out.push_str("\ndo\n");
                self.list(body);
                self.out.push_str("done");
            }
            Compound::While { cond, body, until } => {
                self.out.push_str(if *until { "until\n" } else { "while\n" });
                self.list(cond);
                self.out.push_str("do\n");
                self.list(body);
                self.out.push_str("done");
            }
            Compound::Case { word, arms } => {
                self.out.push_str("case ");
                self.word(word, Place::Word);
                self.out.push_str(" in\n");
                for (patterns, body) in arms {
                    // The opening `(` keeps the parentheses balanced inside `$(…)`.
                    self.out.push('(');
                    for (i, pattern) in patterns.iter().enumerate() {
                        if i > 0 {
                            self.out.push('|');
                        }
                        self.word(pattern, Place::Word);
                    }
                    self.out.push_str(")\n");
                    self.list(body);
                    self.out.push_str(";;\n");
                }
                self.out.push_str("esac");
            }
        }
    }

    fn redir(&mut self, redir: &Redir) {
        self.out.push_str(&redir.fd.to_string());
        let op = match redir.kind {
            RedirKind::In => "<",
            RedirKind::Out => ">",
            RedirKind::Append => ">>",
            RedirKind::DupOut => ">&",
            RedirKind::DupIn => "<&",
            RedirKind::HereDoc => return self.heredoc(&redir.target),
        };
        self.out.push_str(op);
        self.word(&redir.target, Place::Word);
    }

    /// `<<DELIM`, the body following the next newline. A body without expansions gets a
    /// quoted delimiter and its text as is.
    fn heredoc(&mut self, body: &Word) {
        let mut text = Printer::default();
        let literal = body.parts.iter().all(|p| matches!(p, Part::Quoted(_)));
        for part in &body.parts {
            match part {
                Part::Quoted(s) if literal => text.out.push_str(s),
                _ => text.part(part, Place::Expanding),
            }
        }
        let mut delimiter = "PORTHOLE_EOF".to_string();
        while text.out.lines().any(|l| l == delimiter) {
            delimiter.push('_');
        }
        self.out.push_str(&if literal { format!("<<'{delimiter}'") } else { format!("<<{delimiter}") });
        self.heredocs.push(format!("{}{delimiter}\n", text.out));
    }

    fn word(&mut self, word: &Word, place: Place) {
        for part in &word.parts {
            self.part(part, place);
        }
    }

    fn part(&mut self, part: &Part, place: Place) {
        // A quoted expansion in a place where quotes are active gets its own double quotes.
        let wrap = |quoted: bool| quoted && matches!(place, Place::Word | Place::Brace);
        match part {
            Part::Lit(s) => self.out.push_str(s),
            Part::Quoted(s) => match place {
                Place::Word | Place::Brace => self.out.push_str(&quote(s)),
                Place::BraceQuoted => self.escaped(s, "$`\"\\}"),
                Place::Expanding => self.escaped(s, "$`\\"),
            },
            Part::Param { name, op, quoted } => {
                let wrap = wrap(*quoted);
                if wrap {
                    self.out.push('"');
                }
                self.param(name, op, *quoted);
                if wrap {
                    self.out.push('"');
                }
            }
            Part::Command { list, quoted } => {
                let wrap = wrap(*quoted);
                self.out.push_str(if wrap { "\"$( " } else { "$( " });
                let mut inner = Printer::default();
                inner.list(list);
                self.out.push_str(&inner.out);
                self.out.push_str(if wrap { ")\"" } else { ")" });
            }
            Part::Arith { expr, quoted } => {
                let wrap = wrap(*quoted);
                self.out.push_str(if wrap { "\"$((" } else { "$((" });
                self.word(expr, Place::Expanding);
                self.out.push_str(if wrap { "))\"" } else { "))" });
            }
        }
    }

    fn escaped(&mut self, s: &str, special: &str) {
        for c in s.chars() {
            if special.contains(c) {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }

    fn param(&mut self, name: &str, op: &ParamOp, quoted: bool) {
        // The word of `"${X:-word}"` is read as if double-quoted; a trim pattern never is.
        let inner = if quoted { Place::BraceQuoted } else { Place::Brace };
        let with_word = |p: &mut Printer, op: &str, word: &Word, place: Place| {
            p.out.push_str(op);
            p.word(word, place);
        };
        self.out.push_str("${");
        let pick = |yes: bool, long: &'static str| if yes { long } else { &long[1..] };
        // The operators that are followed by one word: the operator and where the word goes.
        let with_one = match op {
            ParamOp::Default { colon, word } => Some((pick(*colon, ":-"), word, inner)),
            ParamOp::Assign { colon, word } => Some((pick(*colon, ":="), word, inner)),
            ParamOp::Alternative { colon, word } => Some((pick(*colon, ":+"), word, inner)),
            ParamOp::Error { colon, word } => Some((pick(*colon, ":?"), word, inner)),
            ParamOp::TrimSuffix { longest, pattern } => Some((pick(*longest, "%%"), pattern, Place::Brace)),
            ParamOp::TrimPrefix { longest, pattern } => Some((pick(*longest, "##"), pattern, Place::Brace)),
            _ => None,
        };
        if let Some((op, word, place)) = with_one {
            self.out.push_str(name);
            with_word(self, op, word, place);
            self.out.push('}');
            return;
        }
        match op {
            ParamOp::Get => self.out.push_str(name),
            ParamOp::Length => {
                self.out.push('#');
                self.out.push_str(name);
            }
            ParamOp::Replace { mode, pattern, with } => {
                self.out.push_str(name);
                let op = match mode {
                    Replace::First => "/",
                    Replace::All => "//",
                    Replace::Prefix => "/#",
                    Replace::Suffix => "/%",
                };
                with_word(self, op, pattern, Place::Brace);
                with_word(self, "/", with, inner);
            }
            ParamOp::Substring { offset, length } => {
                self.out.push_str(name);
                self.out.push(':');
                // `${X:-1}` would be a default: bash's space keeps it an offset.
                if matches!(offset.parts.first(), Some(Part::Quoted(s) | Part::Lit(s)) if s.starts_with('-')) {
                    self.out.push(' ');
                }
                self.word(offset, Place::Expanding);
                if let Some(length) = length {
                    self.out.push(':');
                    self.word(length, Place::Expanding);
                }
            }
            _ => {}
        }
        self.out.push('}');
    }
}
