//! grep's regular expressions, small and backtracking: basic (`.`, `*`, `^`, `$`, `[...]`,
//! GNU's `\+ \? \| \( \)`), extended (`+ ? | ( ) {n,m}`) or fixed strings. Both syntaxes are
//! first turned into the same tokens, then parsed into one tree.

use crate::glob::Class;

/// Which dialect a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Basic,
    Extended,
    Fixed,
}

#[derive(Debug, Clone)]
enum Token {
    Lit(char),
    Any,
    Class(Class),
    Start,
    End,
    Bar,
    Open,
    Close,
    Repeat(u32, u32),
}

#[derive(Debug, Clone)]
enum Node {
    Lit(char),
    Any,
    Class(Class),
    Start,
    End,
    Group(Vec<Vec<Piece>>),
}

#[derive(Debug, Clone)]
struct Piece {
    node: Node,
    min: u32,
    max: u32,
}

const MANY: u32 = u32::MAX;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    alternatives: Vec<Vec<Piece>>,
    icase: bool,
}

impl Regex {
    pub fn new(pattern: &str, syntax: Syntax, icase: bool) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let tokens = match syntax {
            Syntax::Fixed => chars.iter().map(|&c| Token::Lit(c)).collect(),
            Syntax::Basic => tokenize(&chars, false)?,
            Syntax::Extended => tokenize(&chars, true)?,
        };
        let mut parser = Parser { tokens, at: 0, icase };
        let alternatives = parser.alternatives()?;
        if parser.at < parser.tokens.len() {
            return Err("unmatched ) or \\)".into());
        }
        Ok(Regex { alternatives, icase })
    }

    /// Whether the pattern matches somewhere in `line`; `accept(start, end)` may reject a match
    /// (grep's -w and -x), and then other matches are tried.
    pub fn find(&self, line: &str, accept: &dyn Fn(&[char], usize, usize) -> bool) -> bool {
        let text: Vec<char> =
            if self.icase { line.chars().map(|c| c.to_ascii_lowercase()).collect() } else { line.chars().collect() };
        let m = Matcher { text: &text };
        (0..=text.len())
            .any(|start| self.alternatives.iter().any(|alt| m.seq(alt, start, &|end| accept(&text, start, end))))
    }
}

impl Regex {
    /// The non-overlapping matches in `line`, left to right, as char ranges; each is the longest
    /// match at the leftmost start (grep -o).
    pub fn matches(&self, line: &str) -> Vec<(usize, usize)> {
        let text: Vec<char> =
            if self.icase { line.chars().map(|c| c.to_ascii_lowercase()).collect() } else { line.chars().collect() };
        let m = Matcher { text: &text };
        let mut found = Vec::new();
        let mut pos = 0;
        while pos <= text.len() {
            let hit = (pos..=text.len()).find_map(|start| {
                let best = std::cell::Cell::new(None::<usize>);
                // Rejecting every end makes the matcher try them all; the longest is kept.
                let record = |end: usize| {
                    best.set(Some(best.get().map_or(end, |b| b.max(end))));
                    false
                };
                for alt in &self.alternatives {
                    m.seq(alt, start, &record);
                }
                best.get().map(|end| (start, end))
            });
            let Some((start, end)) = hit else { break };
            found.push((start, end));
            pos = if end > start { end } else { start + 1 };
        }
        found
    }
}

struct Matcher<'t> {
    text: &'t [char],
}

impl Matcher<'_> {
    /// Matches `pieces` at `pos`, then asks the continuation `k` about the end position.
    fn seq(&self, pieces: &[Piece], pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
        match pieces.split_first() {
            None => k(pos),
            Some((first, rest)) => self.repeat(first, 0, pos, &|p| self.seq(rest, p, k)),
        }
    }

    /// Greedy repetition: one more copy if allowed (and it consumed something, so empty groups
    /// cannot loop), else stop if the minimum is reached.
    fn repeat(&self, piece: &Piece, count: u32, pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
        if count < piece.max
            && self.one(&piece.node, pos, &|p| (p > pos || count < piece.min) && self.repeat(piece, count + 1, p, k))
        {
            return true;
        }
        count >= piece.min && k(pos)
    }

    fn one(&self, node: &Node, pos: usize, k: &dyn Fn(usize) -> bool) -> bool {
        let here = self.text.get(pos).copied();
        match node {
            Node::Lit(c) => here == Some(*c) && k(pos + 1),
            Node::Any => here.is_some() && k(pos + 1),
            Node::Class(class) => here.is_some_and(|c| class.contains(c)) && k(pos + 1),
            Node::Start => pos == 0 && k(pos),
            Node::End => pos == self.text.len() && k(pos),
            Node::Group(alts) => alts.iter().any(|alt| self.seq(alt, pos, k)),
        }
    }
}

/// Turns pattern text into tokens; in basic syntax the operators are the backslashed ones and
/// `^`, `$`, `*` are literal where they cannot be operators.
fn tokenize(chars: &[char], extended: bool) -> Result<Vec<Token>, String> {
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_open = matches!(out.last(), None | Some(Token::Open | Token::Bar | Token::Start));
        let (token, used) = match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else { return Err("trailing backslash (\\)".into()) };
                let op = match next {
                    '(' if !extended => Token::Open,
                    ')' if !extended => Token::Close,
                    '|' if !extended => Token::Bar,
                    '+' if !extended => Token::Repeat(1, MANY),
                    '?' if !extended => Token::Repeat(0, 1),
                    '{' if !extended => {
                        let (t, n) = interval(chars, i + 2, true)?;
                        out.push(t);
                        i += 2 + n;
                        continue;
                    }
                    _ => Token::Lit(next),
                };
                (op, 2)
            }
            '.' => (Token::Any, 1),
            '[' => match Class::parse(chars, i) {
                Some((class, next)) => (Token::Class(class), next - i),
                None => return Err("unmatched [, [^, [:, [., or [=".into()),
            },
            '^' if extended || after_open => (Token::Start, 1),
            '$' if extended || at_branch_end(chars, i) => (Token::End, 1),
            '*' if !after_open || extended && !out.is_empty() => (Token::Repeat(0, MANY), 1),
            '+' if extended => (Token::Repeat(1, MANY), 1),
            '?' if extended => (Token::Repeat(0, 1), 1),
            '|' if extended => (Token::Bar, 1),
            '(' if extended => (Token::Open, 1),
            ')' if extended => (Token::Close, 1),
            '{' if extended && chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                let (t, n) = interval(chars, i + 1, false)?;
                out.push(t);
                i += 1 + n;
                continue;
            }
            _ => (Token::Lit(c), 1),
        };
        out.push(token);
        i += used;
    }
    Ok(out)
}

/// In basic syntax `$` anchors only at the end of the pattern or of a group or alternative.
fn at_branch_end(chars: &[char], i: usize) -> bool {
    i + 1 == chars.len() || chars.get(i + 1) == Some(&'\\') && matches!(chars.get(i + 2), Some(')' | '|'))
}

/// Parses `n}`, `n,}` or `n,m}` (`\}` in basic syntax) from `at`: the token and chars used.
fn interval(chars: &[char], at: usize, backslashed: bool) -> Result<(Token, usize), String> {
    let close = if backslashed { "\\}" } else { "}" };
    let rest: String = chars[at..].iter().collect();
    let end = rest.find(close).ok_or("unmatched { or \\{")?;
    let body = &rest[..end];
    let num = |s: &str| s.trim().parse::<u32>().map_err(|_| "invalid content of \\{\\}".to_string());
    let (min, max) = match body.split_once(',') {
        None => (num(body)?, num(body)?),
        Some((lo, "")) => (num(lo)?, MANY),
        Some((lo, hi)) => (num(lo)?, num(hi)?),
    };
    Ok((Token::Repeat(min, max), body.chars().count() + close.len()))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    icase: bool,
}

impl Parser {
    fn alternatives(&mut self) -> Result<Vec<Vec<Piece>>, String> {
        let mut alts = vec![self.sequence()?];
        while matches!(self.tokens.get(self.at), Some(Token::Bar)) {
            self.at += 1;
            alts.push(self.sequence()?);
        }
        Ok(alts)
    }

    fn sequence(&mut self) -> Result<Vec<Piece>, String> {
        let mut pieces: Vec<Piece> = Vec::new();
        while let Some(token) = self.tokens.get(self.at).cloned() {
            self.at += 1;
            let node = match token {
                Token::Bar | Token::Close => {
                    self.at -= 1;
                    break;
                }
                Token::Repeat(min, max) => {
                    match pieces.last_mut() {
                        Some(p) if p.min == 1 && p.max == 1 => (p.min, p.max) = (min, max),
                        // A leading `*` (or `**`) is an ordinary character.
                        _ => pieces.push(Piece { node: Node::Lit('*'), min: 1, max: 1 }),
                    }
                    continue;
                }
                Token::Lit(c) => self.literal(c),
                Token::Any => Node::Any,
                Token::Class(class) => Node::Class(if self.icase { class.ignoring_case() } else { class }),
                Token::Start => Node::Start,
                Token::End => Node::End,
                Token::Open => {
                    let alts = self.alternatives()?;
                    if !matches!(self.tokens.get(self.at), Some(Token::Close)) {
                        return Err("unmatched ( or \\(".into());
                    }
                    self.at += 1;
                    Node::Group(alts)
                }
            };
            pieces.push(Piece { node, min: 1, max: 1 });
        }
        Ok(pieces)
    }

    fn literal(&self, c: char) -> Node {
        Node::Lit(if self.icase { c.to_ascii_lowercase() } else { c })
    }
}
