//! `$((…))`: integer arithmetic with C's operators and precedence, variables by name (unset or
//! empty is 0), and assignments (`=`, `+=`, …).

use super::vars::Vars;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

/// Operators, longest first so that `<=` is not read as `<`.
const OPS: &[&str] = &[
    "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|", "^", "?", ":", "(", ")",
];

/// Evaluates `expr`, reading and assigning `vars`.
pub fn eval(expr: &str, vars: &mut Vars) -> Result<i64, String> {
    let tokens = lex(expr)?;
    if tokens.is_empty() {
        return Ok(0);
    }
    let mut p = Parser { tokens, at: 0, vars };
    let v = p.assign()?;
    match p.tokens.get(p.at) {
        None => Ok(v),
        Some(_) => Err(format!("arithmetic syntax error: {expr}")),
    }
}

fn lex(expr: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut rest = expr.trim_start();
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            out.push(Tok::Num(number(&rest[..end]).ok_or_else(|| format!("arithmetic syntax error: {expr}"))?));
            rest = &rest[end..];
        } else if c == '_' || c.is_ascii_alphabetic() {
            let end = rest.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(rest.len());
            out.push(Tok::Name(rest[..end].to_string()));
            rest = &rest[end..];
        } else if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            out.push(Tok::Op(op));
            rest = &rest[op.len()..];
        } else {
            return Err(format!("arithmetic syntax error: {expr}"));
        }
        rest = rest.trim_start();
    }
    Ok(out)
}

/// A C integer literal: decimal, `0x` hex, or `0` octal.
fn number(s: &str) -> Option<i64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        i64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

struct Parser<'v> {
    tokens: Vec<Tok>,
    at: usize,
    vars: &'v mut Vars,
}

/// Binary operators by precedence level, loosest first (assignment and `?:` are handled apart).
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", "<=", ">", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn assign(&mut self) -> Result<i64, String> {
        if let (Some(Tok::Name(name)), Some(Tok::Op(op))) =
            (self.tokens.get(self.at).cloned(), self.tokens.get(self.at + 1).cloned())
            && op.ends_with('=')
            && !matches!(op, "==" | "!=" | "<=" | ">=")
        {
            self.at += 2;
            let rhs = self.assign()?;
            let value = if op == "=" { rhs } else { apply(&op[..op.len() - 1], self.variable(&name)?, rhs)? };
            self.vars.set(&name, &value.to_string());
            return Ok(value);
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Result<i64, String> {
        let cond = self.binary(0)?;
        if self.peek_op() != Some("?") {
            return Ok(cond);
        }
        self.at += 1;
        let yes = self.assign()?;
        if self.peek_op() != Some(":") {
            return Err("arithmetic syntax error: expected ':'".into());
        }
        self.at += 1;
        let no = self.assign()?;
        Ok(if cond != 0 { yes } else { no })
    }

    fn binary(&mut self, level: usize) -> Result<i64, String> {
        let Some(ops) = LEVELS.get(level) else { return self.unary() };
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self.peek_op().filter(|op| ops.contains(op)) {
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64, String> {
        match self.peek_op() {
            Some(op @ ("-" | "+" | "!" | "~")) => {
                self.at += 1;
                let v = self.unary()?;
                Ok(match op {
                    "-" => v.wrapping_neg(),
                    "+" => v,
                    "!" => i64::from(v == 0),
                    _ => !v,
                })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<i64, String> {
        let base = self.primary()?;
        if self.peek_op() == Some("**") {
            self.at += 1;
            let exp = self.unary()?;
            return Ok(base.wrapping_pow(u32::try_from(exp).map_err(|_| "exponent less than 0")?));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<i64, String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Tok::Num(n)) => Ok(n),
            Some(Tok::Name(name)) => self.variable(&name),
            Some(Tok::Op("(")) => {
                let v = self.assign()?;
                if self.peek_op() != Some(")") {
                    return Err("arithmetic syntax error: missing ')'".into());
                }
                self.at += 1;
                Ok(v)
            }
            _ => Err("arithmetic syntax error".into()),
        }
    }

    fn variable(&self, name: &str) -> Result<i64, String> {
        match self.vars.get(name).map(str::trim) {
            None | Some("") => Ok(0),
            Some(v) => {
                let (neg, digits) = v.strip_prefix('-').map_or((false, v), |d| (true, d));
                number(digits)
                    .map(|n| if neg { -n } else { n })
                    .ok_or_else(|| format!("arithmetic syntax error: {name}={v}"))
            }
        }
    }
}

fn apply(op: &str, a: i64, b: i64) -> Result<i64, String> {
    Ok(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err("divide by zero".into()),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "<" => i64::from(a < b),
        "<=" => i64::from(a <= b),
        ">" => i64::from(a > b),
        ">=" => i64::from(a >= b),
        "==" => i64::from(a == b),
        "!=" => i64::from(a != b),
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        "&&" => i64::from(a != 0 && b != 0),
        "||" => i64::from(a != 0 || b != 0),
        _ => return Err(format!("arithmetic syntax error: {op}")),
    })
}
