//! Character and field surgery on lines: `tr` and `cut`.

use std::io::{self, Write};

use crate::ctx::{Ctx, or_stdin};

/// `tr [-cds] SET1 [SET2]`: translate, delete (`-d`) or squeeze (`-s`) characters of stdin.
/// Sets take ranges (`a-z`), escapes (`\n`, `\\`, `\NNN`) and classes (`[:upper:]`); `-c` uses
/// the complement of SET1.
pub fn tr(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "cCdst") else { return Ok(2) };
    let (set1, set2) = match o.operands.as_slice() {
        [a] => (expand_set(a), None),
        [a, b] => (expand_set(a), Some(expand_set(b))),
        _ => return Ok(ctx.usage("usage: tr [-cds] STRING1 [STRING2]")),
    };
    let complement = o.has('c') || o.has('C');
    let in_set1 = |c: char| set1.contains(&c) != complement;
    let translating = !o.has('d') && set2.is_some();
    let squeeze_set = if translating || o.has('d') { set2.clone().unwrap_or_default() } else { set1.clone() };
    let mut data = Vec::new();
    if let Err(e) = ctx.io.stdin.read_to_end(&mut data) {
        return Ok(ctx.fail("-", &e));
    }
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in String::from_utf8_lossy(&data).chars() {
        let mapped = if o.has('d') && in_set1(c) {
            continue;
        } else if translating && in_set1(c) {
            let to = set2.as_deref().unwrap_or_default();
            let at = if complement { to.len() } else { set1.iter().position(|&x| x == c).unwrap_or(0) };
            to.get(at).or(to.last()).copied().unwrap_or(c)
        } else {
            c
        };
        let squeezing = o.has('s') && (squeeze_set.contains(&mapped) != (complement && !translating && !o.has('d')));
        if squeezing && last == Some(mapped) {
            continue;
        }
        last = Some(mapped);
        out.push(mapped);
    }
    ctx.io.stdout.write_all(out.as_bytes())?;
    Ok(0)
}

/// The characters a `tr` set stands for, in order.
fn expand_set(spec: &str) -> Vec<char> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let name = &rest[2..end];
                out.extend((0u8..=127).map(char::from).filter(|&c| class_member(name, c)));
                i += rest[..end + 2].chars().count();
                continue;
            }
        }
        let (c, used) = set_char(&chars[i..]);
        i += used;
        if chars.get(i) == Some(&'-') && i + 1 < chars.len() {
            let (end, used) = set_char(&chars[i + 1..]);
            out.extend((c..=end).filter(|_| c <= end));
            i += 1 + used;
        } else {
            out.push(c);
        }
    }
    out
}

/// One possibly escaped character at the start of `chars`, and how many chars it took.
fn set_char(chars: &[char]) -> (char, usize) {
    if chars[0] != '\\' || chars.len() == 1 {
        return (chars[0], 1);
    }
    let octal: String = chars[1..].iter().take(3).take_while(|c| c.is_digit(8)).collect();
    if !octal.is_empty() {
        return (u8::from_str_radix(&octal, 8).map(char::from).unwrap_or('\0'), 1 + octal.len());
    }
    let c = match chars[1] {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'v' => '\x0b',
        other => other,
    };
    (c, 2)
}

fn class_member(name: &str, c: char) -> bool {
    match name {
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_ascii_alphanumeric(),
        "upper" => c.is_ascii_uppercase(),
        "lower" => c.is_ascii_lowercase(),
        "space" => c.is_ascii_whitespace() || c == '\x0b',
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_ascii_control(),
        "print" => !c.is_ascii_control(),
        "graph" => c.is_ascii_graphic(),
        _ => false,
    }
}

/// `cut -f LIST [-d DELIM] [-s] | -c LIST | -b LIST [FILE...]`; a LIST is `N`, `N-M`, `N-`,
/// `-M`, separated by commas.
pub fn cut(ctx: &mut Ctx, args: &[String]) -> io::Result<i32> {
    let Some(o) = ctx.opts(args, "b:c:f:d:sn") else { return Ok(2) };
    let (list, by_field) = match (o.value('f'), o.value('c').or(o.value('b'))) {
        (Some(f), None) => (f, true),
        (None, Some(c)) => (c, false),
        _ => return Ok(ctx.usage("expected a list of bytes, characters, or fields")),
    };
    let Some(ranges) = parse_list(list) else { return Ok(ctx.usage(format_args!("invalid list '{list}'"))) };
    let wanted = |n: usize| ranges.iter().any(|&(lo, hi)| lo <= n && n <= hi);
    let delim = o.value('d').and_then(|d| d.chars().next()).unwrap_or('\t');
    let mut out = ctx.io.stdout.clone();
    let mut status = 0;
    for path in or_stdin(&o.operands) {
        let Some(input) = ctx.open_input(&path) else {
            status = 1;
            continue;
        };
        for line in input.lines() {
            let Some(line) = ctx.check(&path, line) else {
                status = 1;
                break;
            };
            let line = String::from_utf8_lossy(&line);
            let picked: String = if !by_field {
                line.chars().enumerate().filter(|(i, _)| wanted(i + 1)).map(|(_, c)| c).collect()
            } else if !line.contains(delim) {
                if o.has('s') {
                    continue;
                }
                line.into_owned()
            } else {
                let fields: Vec<&str> =
                    line.split(delim).enumerate().filter(|(i, _)| wanted(i + 1)).map(|(_, f)| f).collect();
                fields.join(&delim.to_string())
            };
            writeln!(out, "{picked}")?;
        }
    }
    Ok(status)
}

/// `1,3-5,7-` as inclusive 1-based ranges.
fn parse_list(list: &str) -> Option<Vec<(usize, usize)>> {
    list.split(',')
        .map(|part| {
            let num =
                |s: &str, default: usize| if s.is_empty() { Some(default) } else { s.parse().ok().filter(|n| *n > 0) };
            match part.split_once('-') {
                Some((lo, hi)) => Some((num(lo, 1)?, num(hi, usize::MAX)?)),
                None => num(part, 0).filter(|n| *n > 0).map(|n| (n, n)),
            }
        })
        .collect()
}
