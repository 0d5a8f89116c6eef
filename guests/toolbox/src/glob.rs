//! Shell wildcards: `*`, `?`, bracket expressions (`[a-z]`, `[!x]`, `[[:digit:]]`) and
//! backslash escapes. Used for filename expansion and `case` in the shell, `find -name`, and
//! `${VAR%pattern}`; the bracket expression parser also serves grep's patterns.

use crate::fsx;

/// A bracket expression: `[abc]`, `[^a-z]`, `[[:space:]]`.
#[derive(Debug, Clone)]
pub struct Class {
    negated: bool,
    items: Vec<ClassItem>,
}

#[derive(Debug, Clone)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Named(fn(char) -> bool),
}

impl Class {
    /// Parses the bracket expression opening at `chars[at] == '['`; returns it and the index
    /// after its `]`, or `None` when it is not closed (then `[` is an ordinary character).
    pub fn parse(chars: &[char], at: usize) -> Option<(Class, usize)> {
        let mut i = at + 1;
        let negated = matches!(chars.get(i), Some('!' | '^'));
        if negated {
            i += 1;
        }
        let mut items = Vec::new();
        let first = i;
        loop {
            let c = *chars.get(i)?;
            if c == ']' && i > first {
                return Some((Class { negated, items }, i + 1));
            }
            if c == '[' && chars.get(i + 1) == Some(&':') {
                let name_end =
                    (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == ':' && chars[j + 1] == ']')?;
                let name: String = chars[i + 2..name_end].iter().collect();
                items.push(ClassItem::Named(named_class(&name)?));
                i = name_end + 2;
            } else if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
                items.push(ClassItem::Range(c, chars[i + 2]));
                i += 3;
            } else {
                items.push(ClassItem::Char(c));
                i += 1;
            }
        }
    }

    pub fn contains(&self, c: char) -> bool {
        let hit = self.items.iter().any(|item| match *item {
            ClassItem::Char(x) => x == c,
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
            ClassItem::Named(f) => f(c),
        });
        hit != self.negated
    }

    /// The same class matching both cases (for `grep -i`).
    pub fn ignoring_case(mut self) -> Class {
        let extra: Vec<ClassItem> = self
            .items
            .iter()
            .filter_map(|item| match *item {
                ClassItem::Char(x) => Some(ClassItem::Char(flip_case(x))),
                ClassItem::Range(lo, hi) if lo.is_ascii_alphabetic() && hi.is_ascii_alphabetic() => {
                    Some(ClassItem::Range(flip_case(lo), flip_case(hi)))
                }
                _ => None,
            })
            .collect();
        self.items.extend(extra);
        self
    }
}

fn flip_case(c: char) -> char {
    if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
}

fn named_class(name: &str) -> Option<fn(char) -> bool> {
    Some(match name {
        "alpha" => char::is_alphabetic,
        "digit" => |c: char| c.is_ascii_digit(),
        "alnum" => char::is_alphanumeric,
        "upper" => char::is_uppercase,
        "lower" => char::is_lowercase,
        "space" => char::is_whitespace,
        "blank" => |c: char| c == ' ' || c == '\t',
        "punct" => |c: char| c.is_ascii_punctuation(),
        "xdigit" => |c: char| c.is_ascii_hexdigit(),
        "cntrl" => char::is_control,
        "print" => |c: char| !c.is_control(),
        "graph" => |c: char| !c.is_control() && c != ' ',
        _ => return None,
    })
}

/// Whether `pattern` has an unescaped wildcard (a `[` only when a bracket expression follows, so
/// that `[ -f x ]` is no pattern).
pub fn has_wildcards(pattern: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '*' | '?' => return true,
            '[' if Class::parse(&chars, i).is_some() => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `pattern` with its escaping backslashes removed: the literal it stands for.
pub fn unescape(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

/// `pattern` with every wildcard character escaped, so it matches only itself.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether all of `text` matches `pattern`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was and how much text it has swallowed: on a mismatch it takes one
    // more character and matching resumes after it.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if p.get(pi) == Some(&'*') {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if let Some(next) = step(&p, pi, t[ti]) {
            pi = next;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// If the single-character element at `p[pi]` matches `c`, the index after it.
fn step(p: &[char], pi: usize, c: char) -> Option<usize> {
    match *p.get(pi)? {
        '*' => None,
        '?' => Some(pi + 1),
        '[' => match Class::parse(p, pi) {
            Some((class, next)) => class.contains(c).then_some(next),
            None => (c == '[').then_some(pi + 1),
        },
        '\\' if pi + 1 < p.len() => (p[pi + 1] == c).then_some(pi + 2),
        x => (x == c).then_some(pi + 1),
    }
}

/// Expands a pattern against the file system, wildcards allowed in any component. Names
/// starting with `.` match only a pattern component starting with `.`. The result is sorted,
/// and empty when nothing matches.
pub fn expand(pattern: &str) -> Vec<String> {
    // Each base is a path prefix ending in `/` (or empty for the current directory).
    let mut bases = vec![if pattern.starts_with('/') { "/".to_string() } else { String::new() }];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let sep = if last { "" } else { "/" };
        let mut next = Vec::new();
        for base in &bases {
            if !has_wildcards(comp) {
                next.push(format!("{base}{}{sep}", unescape(comp)));
                continue;
            }
            let dir = if base.is_empty() { "." } else { base.as_str() };
            for name in fsx::sorted_entries(dir).unwrap_or_default() {
                if name.starts_with('.') && !comp.starts_with('.') || !matches(comp, &name) {
                    continue;
                }
                let path = format!("{base}{name}");
                if last || fsx::is_dir(&path) {
                    next.push(format!("{path}{sep}"));
                }
            }
        }
        bases = next;
    }
    let trailing = if pattern.ends_with('/') && !comps.is_empty() { "/" } else { "" };
    bases.into_iter().filter(|p| fsx::exists(p)).map(|p| format!("{p}{trailing}")).collect()
}
