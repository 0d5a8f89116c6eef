//! The shell's syntax tree: words made of parts (literal, quoted, expansions), simple and
//! compound commands, pipelines, and-or lists.

use std::rc::Rc;

/// A word as written, before expansion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Word {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Unquoted text: wildcards in it are active.
    Lit(String),
    /// Quoted or backslash-escaped text: taken literally, never split.
    Quoted(String),
    /// `$NAME`, `${NAME…}`, `$1`, `$?` …
    Param { name: String, op: ParamOp, quoted: bool },
    /// `$(…)` or `` `…` ``: parsed with the word (never re-lexed when it runs).
    Command { list: Rc<List>, quoted: bool },
    /// `$((…))`: the expression, itself expanded before it is evaluated.
    Arith { expr: Word, quoted: bool },
}

/// What `${NAME…}` does with the value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamOp {
    Get,
    /// `${#NAME}`
    Length,
    /// `${NAME:-word}` (`colon`: empty counts as unset) and `${NAME-word}`.
    Default {
        colon: bool,
        word: Word,
    },
    /// `${NAME:=word}`
    Assign {
        colon: bool,
        word: Word,
    },
    /// `${NAME:+word}`
    Alternative {
        colon: bool,
        word: Word,
    },
    /// `${NAME:?message}`
    Error {
        colon: bool,
        word: Word,
    },
    /// `${NAME%pattern}` and `${NAME%%pattern}` (`longest`).
    TrimSuffix {
        longest: bool,
        pattern: Word,
    },
    /// `${NAME#pattern}` and `${NAME##pattern}`.
    TrimPrefix {
        longest: bool,
        pattern: Word,
    },
    /// `${NAME/pattern/string}` and its `//`, `/#`, `/%` forms.
    Replace {
        mode: Replace,
        pattern: Word,
        with: Word,
    },
    /// `${NAME:offset}`, `${NAME:offset:length}`: characters, arithmetic offsets (negative
    /// ones count from the end).
    Substring {
        offset: Word,
        length: Option<Word>,
    },
}

/// Which matches `${NAME/…}` replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    First,
    All,
    Prefix,
    Suffix,
}

impl Word {
    /// The text when the word is one unquoted literal (how keywords and names are recognized).
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirKind {
    /// `<`
    In,
    /// `>` and `>|`
    Out,
    /// `>>`
    Append,
    /// `>&N`
    DupOut,
    /// `<&N`
    DupIn,
    /// `<<` and `<<-`: the target is the body.
    HereDoc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redir {
    /// The descriptor redirected: 0 for input kinds, 1 for output kinds unless given.
    pub fd: u32,
    pub kind: RedirKind,
    pub target: Word,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Simple { assigns: Vec<(String, Word)>, words: Vec<Word>, redirs: Vec<Redir> },
    Compound { body: Compound, redirs: Vec<Redir> },
    Function { name: String, body: Rc<Command> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Compound {
    /// `{ …; }`
    Group(List),
    /// `( … )`: runs on a copy of the shell's state.
    Subshell(List),
    If {
        branches: Vec<(List, List)>,
        otherwise: Option<List>,
    },
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: List,
    },
    /// `while` and, with `until`, `until`.
    While {
        cond: List,
        body: List,
        until: bool,
    },
    Case {
        word: Word,
        arms: Vec<(Vec<Word>, List)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub negate: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
    /// Ended by `&`: runs as a background job.
    pub background: bool,
}

/// Commands separated by `;`, `&` or newlines.
pub type List = Vec<AndOr>;
