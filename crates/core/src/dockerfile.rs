//! Dockerfile parsing: text in, typed instructions out, with Docker's builder as the reference
//! for every rule and error text. No I/O: the caller reads the file and acts on the result.
//!
//! Three small passes. `logical_lines` applies parser directives and drops comments while joining
//! continuation lines; `parse_instruction` turns one logical line into instructions whose words are
//! still raw (quotes and `$VAR` untouched); `substitute` then expands variables with the ENV and
//! ARG values seen so far. Substitution is a separate pass because Docker expands at dispatch
//! time, after the whole file parsed: a syntax error anywhere wins over an expansion error.

use std::collections::BTreeMap;

use crate::health::Healthcheck;

/// A parsed Dockerfile: its instructions in file order, variables already substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// Every instruction; each `From` starts a new build stage.
    pub instructions: Vec<Instruction>,
    /// `--build-arg`s that no `ARG` declares, which Docker reports as not consumed.
    pub unused_args: Vec<String>,
}

/// One parsed instruction with the 1-based line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The 1-based line of the instruction's first physical line.
    pub line: usize,
    /// What the instruction says.
    pub kind: InstructionKind,
    /// For `RUN`: the build arguments in scope with a value (`--build-arg` over the default),
    /// which Docker puts in the command's environment (an `ENV` of the same name wins).
    pub args: Vec<(String, String)>,
}

/// An instruction's meaning. Words are as Docker would use them: quotes removed, escapes
/// honoured and `$VAR` substituted, except in `Run`, `Cmd` and `Entrypoint` (the shell expands
/// those when the container runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    /// `FROM image [AS alias]`. The image is kept as written (`scratch` included); the alias is
    /// lower-cased, as Docker matches stage names case-insensitively.
    From {
        /// The base image reference, after substituting ARGs declared before the first FROM.
        image: String,
        /// The stage name given with `AS`.
        alias: Option<String>,
    },
    /// `COPY src... dest` or `COPY ["src", ..., "dest"]`; `--chown`, `--chmod` and `--link`
    /// are accepted and ignored.
    Copy {
        /// Paths in the build context, or in `from`.
        sources: Vec<String>,
        /// Path in the image, as written.
        dest: String,
        /// `--from=`: an earlier stage (its name, lower-cased, or its index) or an image.
        from: Option<String>,
    },
    /// `ADD`, like `Copy`; only local sources (a URL source is an error).
    Add {
        /// Paths in the build context.
        sources: Vec<String>,
        /// Path in the image, as written.
        dest: String,
    },
    /// `RUN`.
    Run(CommandForm),
    /// `CMD`.
    Cmd(CommandForm),
    /// `ENTRYPOINT`.
    Entrypoint(CommandForm),
    /// `VOLUME ["/a", "/b"]` or `VOLUME /a /b`; paths kept as written, not cleaned.
    Volume(Vec<String>),
    /// `ENV k v` (legacy: the rest of the line is the value) or `ENV k=v k2="v 2"`.
    Env(Vec<(String, String)>),
    /// `WORKDIR path`, as written: a relative path is relative to the previous WORKDIR.
    Workdir(String),
    /// `LABEL k=v "k 2"="v 2"`.
    Label(Vec<(String, String)>),
    /// `EXPOSE 80 443/tcp`, as written (no default protocol added).
    Expose(Vec<String>),
    /// `USER name[:group]`.
    User(String),
    /// `ARG name[=default]`; `ARG a b=2` yields one `Arg` per name, all on the same line.
    Arg {
        /// The argument's name.
        name: String,
        /// The default written in the Dockerfile, substituted.
        default: Option<String>,
    },
    /// `STOPSIGNAL signal`.
    StopSignal(String),
    /// `MAINTAINER text` (deprecated by Docker, still accepted), not substituted.
    Maintainer(String),
    /// `SHELL ["executable", "parameters"]`: the shell of later shell-form commands.
    Shell(Vec<String>),
    /// `HEALTHCHECK [--interval=…] CMD …` or `HEALTHCHECK NONE`.
    Healthcheck(Healthcheck),
}

/// How a command was written: a JSON array (exec form) or plain text (shell form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// `["prog", "arg"]`: the argv as given.
    Exec(Vec<String>),
    /// `prog arg`: text for the shell.
    Shell(String),
}

/// Docker's default `SHELL`.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

impl CommandForm {
    /// The argv to execute. Shell form becomes `["/bin/sh", "-c", text]`, as Docker does.
    pub fn to_argv(&self) -> Vec<String> {
        self.to_argv_with(None)
    }

    /// The argv, with `shell` (the stage's `SHELL`) in place of `/bin/sh -c` for shell form.
    pub fn to_argv_with(&self, shell: Option<&[String]>) -> Vec<String> {
        match self {
            Self::Exec(argv) => argv.clone(),
            Self::Shell(text) => {
                let mut argv: Vec<String> = match shell {
                    Some(shell) => shell.to_vec(),
                    None => DEFAULT_SHELL.iter().map(|s| s.to_string()).collect(),
                };
                argv.push(text.clone());
                argv
            }
        }
    }
}

/// Why a Dockerfile was rejected. Every variant but the whole-file ones carries the line of the
/// offending instruction, and displays as `Dockerfile parse error line N: message` with Docker's
/// message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DockerfileError {
    /// No instructions at all.
    #[error("the Dockerfile (Dockerfile) cannot be empty")]
    Empty,
    /// Only ARG instructions, so nothing to build.
    #[error("dockerfile contains no stages to build")]
    NoStages,
    /// `# escape=` names something other than `` ` `` or `\`.
    #[error("Dockerfile parse error line {line}: invalid escape token '{token}' does not match ` or \\")]
    InvalidEscape { line: usize, token: String },
    /// A parser directive given twice.
    #[error("Dockerfile parse error line {line}: only one {name} parser directive can be used")]
    DuplicateDirective { line: usize, name: String },
    /// A keyword Docker does not know.
    #[error("Dockerfile parse error line {line}: unknown instruction: {instruction}")]
    UnknownInstruction { line: usize, instruction: String },
    /// A Docker instruction Porthole does not implement.
    #[error("Dockerfile parse error line {line}: {instruction} is not supported")]
    UnsupportedInstruction { line: usize, instruction: &'static str },
    /// An instruction other than ARG before the first FROM.
    #[error("Dockerfile parse error line {line}: no build stage in current context")]
    NoBuildStage { line: usize },
    /// An instruction without its arguments.
    #[error("Dockerfile parse error line {line}: {instruction} requires at least one argument")]
    AtLeastOneArgument { line: usize, instruction: &'static str },
    /// COPY or ADD without a destination.
    #[error("Dockerfile parse error line {line}: {instruction} requires at least two arguments")]
    AtLeastTwoArguments { line: usize, instruction: &'static str },
    /// WORKDIR, USER, STOPSIGNAL or MAINTAINER without an argument.
    #[error("Dockerfile parse error line {line}: {instruction} requires exactly one argument")]
    ExactlyOneArgument { line: usize, instruction: &'static str },
    /// FROM with neither `image` nor `image AS name`.
    #[error("Dockerfile parse error line {line}: FROM requires either one or three arguments")]
    FromArguments { line: usize },
    /// A stage name Docker would refuse.
    #[error(
        "Dockerfile parse error line {line}: invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
    )]
    InvalidStageName { line: usize, name: String },
    /// FROM's image substituted to nothing.
    #[error("Dockerfile parse error line {line}: base name ({image}) should not be blank")]
    BlankBaseName { line: usize, image: String },
    /// ENV, LABEL or ARG with an empty name.
    #[error("Dockerfile parse error line {line}: {instruction} names can not be blank")]
    BlankName { line: usize, instruction: &'static str },
    /// Legacy `ENV k` (or `LABEL k`) with no value.
    #[error("Dockerfile parse error line {line}: {instruction} must have two arguments")]
    MissingValue { line: usize, instruction: &'static str },
    /// A word without `=` in `ENV k=v ...` or `LABEL k=v ...`.
    #[error(
        "Dockerfile parse error line {line}: Syntax error - can't find = in {word:?}. Must be of the form: name=value"
    )]
    MissingEquals { line: usize, word: String },
    /// A JSON array holding something other than strings.
    #[error(
        "Dockerfile parse error line {line}: when using JSON array syntax, arrays must be comprised of strings only"
    )]
    NotStringArray { line: usize },
    /// A VOLUME path that is empty.
    #[error("Dockerfile parse error line {line}: VOLUME specified can not be an empty string")]
    EmptyVolume { line: usize },
    /// A HEALTHCHECK Docker would refuse (its words).
    #[error("Dockerfile parse error line {line}: {message}")]
    Healthcheck { line: usize, message: String },
    /// `SHELL` not given as a JSON array.
    #[error("Dockerfile parse error line {line}: SHELL requires the arguments to be in JSON form")]
    ShellNotJson { line: usize },
    /// `ADD https://...`: the builder does no network I/O.
    #[error("Dockerfile parse error line {line}: ADD from a URL is not supported: {url}")]
    AddUrl { line: usize, url: String },
    /// A `--flag` the instruction does not take.
    #[error("Dockerfile parse error line {line}: Unknown flag: {flag}")]
    UnknownFlag { line: usize, flag: String },
    /// `--flag` without `=value` where a value is needed, or with an empty one on a boolean.
    #[error("Dockerfile parse error line {line}: Missing a value on flag: {flag}")]
    MissingFlagValue { line: usize, flag: String },
    /// The same flag twice.
    #[error("Dockerfile parse error line {line}: Duplicate flag specified: {flag}")]
    DuplicateFlag { line: usize, flag: String },
    /// A boolean flag given something other than true or false.
    #[error("Dockerfile parse error line {line}: Expecting boolean value for flag {flag}, not: {value}")]
    NotBoolFlag { line: usize, flag: String, value: String },
    /// A word whose quotes or `${...}` do not parse, or whose `${VAR?}` is unset.
    #[error("Dockerfile parse error line {line}: failed to process {word:?}: {reason}")]
    Expand { line: usize, word: String, reason: ExpandError },
}

/// Why one word could not be expanded (Docker's shell-lexer texts).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExpandError {
    /// `"...` with no closing quote.
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDoubleQuote,
    /// `'...` with no closing quote.
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    /// `${...` with no closing brace.
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    /// `${}`, `${:x}` or `${{x}`.
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    /// A `${VAR<op>...}` form other than `-`, `+`, `?` and their `:` variants.
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${VAR?message}` (or `${VAR:?message}`) with VAR unset (or empty).
    #[error("{name}: {message}")]
    Required { name: String, message: String },
}

/// Parses a Dockerfile the way Docker's builder does (see the module docs for the passes).
pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
    parse_with_args(text, &BTreeMap::new())
}

/// [`parse`], with `--build-arg` values: each overrides the default of the `ARG` of that name.
pub fn parse_with_args(text: &str, build_args: &BTreeMap<String, String>) -> Result<Dockerfile, DockerfileError> {
    let (escape, lines) = logical_lines(text)?;
    let mut parsed = Vec::with_capacity(lines.len());
    let mut in_stage = false;
    // Docker checks the stage while walking the parsed lines, so whichever error comes first
    // in the file is the one reported.
    for logical in &lines {
        let kinds = parse_instruction(logical, escape)?;
        for kind in &kinds {
            match kind {
                InstructionKind::From { .. } => in_stage = true,
                InstructionKind::Arg { .. } => {}
                _ if !in_stage => return Err(DockerfileError::NoBuildStage { line: logical.line }),
                _ => {}
            }
        }
        parsed.push((logical.line, kinds));
    }
    if parsed.is_empty() {
        return Err(DockerfileError::Empty);
    }
    if !in_stage {
        return Err(DockerfileError::NoStages);
    }
    let mut vars = Substitution::new(escape, build_args);
    let mut instructions = Vec::new();
    for (line, kinds) in parsed {
        let kinds = vars.apply(line, kinds)?;
        for kind in kinds {
            let args = if matches!(kind, InstructionKind::Run(_)) { vars.run_args() } else { Vec::new() };
            instructions.push(Instruction { line, kind, args });
        }
    }
    let declared: Vec<&String> = instructions
        .iter()
        .filter_map(|i| match &i.kind {
            InstructionKind::Arg { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    let unused_args = build_args.keys().filter(|k| !declared.contains(k)).cloned().collect();
    Ok(Dockerfile { instructions, unused_args })
}

// ---------------------------------------------------------------------------------------------
// Pass 1: physical lines to logical lines.

/// One instruction's text: continuation lines joined, the comments between them dropped.
struct LogicalLine {
    line: usize,
    text: String,
}

/// Parser directives, which Docker honours only in the comment block at the very top.
struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

impl Directives {
    fn consider(&mut self, line: usize, trimmed: &str) -> Result<(), DockerfileError> {
        if self.done {
            return Ok(());
        }
        let Some((name, value)) = directive(trimmed) else {
            self.done = true;
            return Ok(());
        };
        let name = name.to_ascii_lowercase();
        if name != "escape" && name != "syntax" {
            // An unknown directive is an ordinary comment, and comments end the directives.
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&name) {
            return Err(DockerfileError::DuplicateDirective { line, name });
        }
        if name == "escape" {
            self.escape = match value {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(DockerfileError::InvalidEscape { line, token: value.into() });
                }
            };
        }
        self.seen.push(name);
        Ok(())
    }
}

/// `# name=value`, Docker's directive syntax (`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`).
fn directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let name_end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
    let name = &rest[..name_end];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[name_end..]
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .strip_prefix('=')?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    (!value.is_empty()).then_some((name, value))
}

fn logical_lines(text: &str) -> Result<(char, Vec<LogicalLine>), DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut directives = Directives { escape: '\\', done: false, seen: Vec::new() };
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().map(|(index, line)| (index + 1, line));
    while let Some((number, physical)) = lines.next() {
        let trimmed = physical.trim_start();
        directives.consider(number, trimmed)?;
        if trimmed.starts_with('#') {
            continue;
        }
        let (first, mut continues) = trim_continuation(trimmed, directives.escape);
        let mut joined = first.to_string();
        while continues {
            let Some((_, next)) = lines.next() else { break };
            // Docker skips comment and blank lines inside a continuation, and keeps the
            // leading whitespace of the others.
            let next_trimmed = next.trim_start();
            if next_trimmed.starts_with('#') || next_trimmed.is_empty() {
                continue;
            }
            let (part, more) = trim_continuation(next, directives.escape);
            joined.push_str(part);
            continues = more;
        }
        if !joined.trim().is_empty() {
            out.push(LogicalLine { line: number, text: joined });
        }
    }
    Ok((directives.escape, out))
}

/// Strips a trailing escape character (blanks after it allowed) and says whether it was there.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    match line.trim_end_matches([' ', '\t']).strip_suffix(escape) {
        Some(body) => (body, true),
        None => (line, false),
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: one logical line to raw instructions.

/// The blanks Docker splits instruction words on (its `[\t\v\f\r ]+`).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

fn blank_separated(text: &str) -> Vec<String> {
    text.split(is_blank).filter(|word| !word.is_empty()).map(String::from).collect()
}

/// Splits `KEYWORD --flag=x args` into the lower-cased keyword, the flags and the argument text.
fn split_command(text: &str) -> (String, Vec<String>, &str) {
    let text = text.trim();
    let (keyword, rest) = text.split_at(text.find(is_blank).unwrap_or(text.len()));
    let (flags, args) = extract_flags(rest);
    (keyword.to_ascii_lowercase(), flags, args.trim())
}

/// Leading `--name[=value]` words, for every instruction, as Docker does; `--` ends them.
fn extract_flags(text: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut rest = text.trim_start();
    while rest.starts_with("--") {
        let (word, after) = flag_word(rest);
        rest = after.trim_start();
        if word == "--" {
            break;
        }
        flags.push(word);
    }
    (flags, rest)
}

/// One flag word, quotes removed and `\` escapes applied, and the text after it.
fn flag_word(text: &str) -> (String, &str) {
    let mut word = String::new();
    let mut quote = None;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => return (word, &text[at..]),
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => word.extend(chars.next().map(|(_, next)| next)),
            (_, c) => word.push(c),
        }
    }
    (word, "")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FlagKind {
    Bool,
    Value,
}

const FROM_FLAGS: &[(&str, FlagKind)] = &[("platform", FlagKind::Value)];
const HEALTHCHECK_FLAGS: &[(&str, FlagKind)] = &[
    ("interval", FlagKind::Value),
    ("timeout", FlagKind::Value),
    ("start-period", FlagKind::Value),
    ("start-interval", FlagKind::Value),
    ("retries", FlagKind::Value),
];
/// `--flag=value` of `flags`, if given (after `check_flags` accepted them).
fn flag_value<'a>(flags: &'a [String], name: &str) -> Option<&'a str> {
    flags.iter().find_map(|f| f.strip_prefix("--")?.strip_prefix(name)?.strip_prefix('='))
}

const COPY_FLAGS: &[(&str, FlagKind)] =
    &[("chown", FlagKind::Value), ("chmod", FlagKind::Value), ("link", FlagKind::Bool), ("from", FlagKind::Value)];
const ADD_FLAGS: &[(&str, FlagKind)] = &[
    ("chown", FlagKind::Value),
    ("chmod", FlagKind::Value),
    ("link", FlagKind::Bool),
    ("checksum", FlagKind::Value),
    ("keep-git-dir", FlagKind::Bool),
];

/// Checks flags against what the instruction takes; returns the names used.
fn check_flags(line: usize, flags: &[String], allowed: &[(&str, FlagKind)]) -> Result<Vec<String>, DockerfileError> {
    let mut used: Vec<String> = Vec::new();
    for flag in flags {
        let body = flag.strip_prefix("--").unwrap_or(flag);
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        };
        let error_flag = || name.to_string();
        let Some(&(_, kind)) = allowed.iter().find(|(known, _)| *known == name) else {
            return Err(DockerfileError::UnknownFlag { line, flag: error_flag() });
        };
        if used.iter().any(|seen| seen == name) {
            return Err(DockerfileError::DuplicateFlag { line, flag: error_flag() });
        }
        match (kind, value) {
            (FlagKind::Value, None) | (FlagKind::Bool, Some("")) => {
                return Err(DockerfileError::MissingFlagValue { line, flag: error_flag() });
            }
            (FlagKind::Bool, Some(v)) if !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") => {
                return Err(DockerfileError::NotBoolFlag { line, flag: error_flag(), value: v.into() });
            }
            _ => {}
        }
        used.push(name.to_string());
    }
    Ok(used)
}

fn parse_instruction(logical: &LogicalLine, escape: char) -> Result<Vec<InstructionKind>, DockerfileError> {
    let line = logical.line;
    let (keyword, flags, args) = split_command(&logical.text);
    let kinds = match keyword.as_str() {
        "arg" => parse_arg(line, args, escape)?,
        _ => vec![parse_kind(line, &keyword, args, escape)?],
    };
    let allowed = match keyword.as_str() {
        "from" => FROM_FLAGS,
        "copy" => COPY_FLAGS,
        "add" => ADD_FLAGS,
        "healthcheck" => HEALTHCHECK_FLAGS,
        _ => &[],
    };
    check_flags(line, &flags, allowed)?;
    if keyword == "healthcheck" {
        return Ok(vec![parse_healthcheck(line, &flags, args)?]);
    }
    let kinds = kinds
        .into_iter()
        .map(|kind| match kind {
            InstructionKind::Copy { sources, dest, .. } => {
                let from = flag_value(&flags, "from").map(str::to_string);
                InstructionKind::Copy { sources, dest, from }
            }
            kind => kind,
        })
        .collect();
    Ok(kinds)
}

fn parse_kind(line: usize, keyword: &str, args: &str, escape: char) -> Result<InstructionKind, DockerfileError> {
    use InstructionKind as K;
    Ok(match keyword {
        "from" => parse_from(line, args)?,
        "copy" => {
            let (sources, dest) = sources_and_dest(line, "COPY", args)?;
            K::Copy { sources, dest, from: None }
        }
        "add" => {
            let (sources, dest) = sources_and_dest(line, "ADD", args)?;
            K::Add { sources, dest }
        }
        // `CMD []` and `ENTRYPOINT []` reset what the image had; a RUN must run something.
        "run" => match command_form(line, args)? {
            CommandForm::Exec(argv) if argv.is_empty() => {
                return Err(DockerfileError::AtLeastOneArgument { line, instruction: "RUN" });
            }
            form => K::Run(form),
        },
        "cmd" => K::Cmd(command_form(line, args)?),
        "entrypoint" => K::Entrypoint(command_form(line, args)?),
        "volume" => K::Volume(parse_volume(line, args)?),
        "env" => K::Env(name_values(line, "ENV", args, escape)?),
        "label" => K::Label(name_values(line, "LABEL", args, escape)?),
        "workdir" => K::Workdir(exactly_one(line, "WORKDIR", args)?),
        "user" => K::User(exactly_one(line, "USER", args)?),
        "stopsignal" => K::StopSignal(exactly_one(line, "STOPSIGNAL", args)?),
        "maintainer" => K::Maintainer(exactly_one(line, "MAINTAINER", args)?),
        "expose" => match blank_separated(args) {
            ports if ports.is_empty() => {
                return Err(DockerfileError::AtLeastOneArgument { line, instruction: "EXPOSE" });
            }
            ports => K::Expose(ports),
        },
        "shell" => match json_array(line, args)? {
            Some(argv) if argv.is_empty() => {
                return Err(DockerfileError::AtLeastOneArgument { line, instruction: "SHELL" });
            }
            Some(argv) => K::Shell(argv),
            None => return Err(DockerfileError::ShellNotJson { line }),
        },
        // Parsed with its flags by `parse_instruction`.
        "healthcheck" => K::Healthcheck(Healthcheck::default()),
        "onbuild" => return Err(DockerfileError::UnsupportedInstruction { line, instruction: "ONBUILD" }),
        _ => {
            return Err(DockerfileError::UnknownInstruction { line, instruction: keyword.to_uppercase() });
        }
    })
}

/// moby's `parseHealthcheck`: `NONE`, or `CMD` with a command (JSON for exec form), the
/// durations in Go's syntax and at least 1ms, the retries not negative.
fn parse_healthcheck(line: usize, flags: &[String], args: &str) -> Result<InstructionKind, DockerfileError> {
    let fail = |message: String| DockerfileError::Healthcheck { line, message };
    let (kind, rest) = args.split_once(is_blank).unwrap_or((args, ""));
    let rest = rest.trim();
    let kind = kind.to_uppercase();
    let test = match kind.as_str() {
        "NONE" if rest.is_empty() && flags.is_empty() => vec!["NONE".to_string()],
        "NONE" => return Err(fail("HEALTHCHECK NONE takes no arguments".into())),
        "CMD" if rest.is_empty() => return Err(fail("Missing command after HEALTHCHECK CMD".into())),
        "CMD" => match command_form(line, rest)? {
            CommandForm::Exec(argv) => std::iter::once("CMD".to_string()).chain(argv).collect(),
            CommandForm::Shell(text) => vec!["CMD-SHELL".into(), text],
        },
        other => return Err(fail(format!("Unknown type {other:?} in HEALTHCHECK (try CMD)"))),
    };
    let duration = |name: &str| -> Result<i64, DockerfileError> {
        let Some(value) = flag_value(flags, name) else { return Ok(0) };
        let d = crate::health::parse_duration(value).map_err(fail)?;
        if d != 0 && d < 1_000_000 {
            return Err(fail(format!("Interval {name:?} cannot be less than 1ms")));
        }
        Ok(d)
    };
    let retries = match flag_value(flags, "retries") {
        None => 0,
        Some(v) => match v.parse::<i32>() {
            Ok(n) if n < 0 => return Err(fail(format!("--retries cannot be negative ({n})"))),
            Ok(n) => n,
            Err(e) => return Err(fail(format!("strconv.ParseInt: parsing {v:?}: {e}"))),
        },
    };
    Ok(InstructionKind::Healthcheck(Healthcheck {
        test,
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        start_interval: duration("start-interval")?,
        retries,
    }))
}

fn parse_from(line: usize, args: &str) -> Result<InstructionKind, DockerfileError> {
    match blank_separated(args).as_slice() {
        [image] => Ok(InstructionKind::From { image: image.clone(), alias: None }),
        [image, as_keyword, name] if as_keyword.eq_ignore_ascii_case("as") => {
            let alias = name.to_lowercase();
            if !is_stage_name(&alias) {
                return Err(DockerfileError::InvalidStageName { line, name: name.clone() });
            }
            Ok(InstructionKind::From { image: image.clone(), alias: Some(alias) })
        }
        _ => Err(DockerfileError::FromArguments { line }),
    }
}

/// Docker's `^[a-z][a-z0-9-_.]*$`.
fn is_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn sources_and_dest(
    line: usize,
    instruction: &'static str,
    args: &str,
) -> Result<(Vec<String>, String), DockerfileError> {
    let mut words = json_or_words(line, args)?;
    match words.pop() {
        Some(dest) if !words.is_empty() => Ok((words, dest)),
        _ => Err(DockerfileError::AtLeastTwoArguments { line, instruction }),
    }
}

fn parse_volume(line: usize, args: &str) -> Result<Vec<String>, DockerfileError> {
    let paths = json_or_words(line, args)?;
    if paths.is_empty() {
        return Err(DockerfileError::AtLeastOneArgument { line, instruction: "VOLUME" });
    }
    paths
        .into_iter()
        .map(|path| match path.trim() {
            "" => Err(DockerfileError::EmptyVolume { line }),
            trimmed => Ok(trimmed.to_string()),
        })
        .collect()
}

fn exactly_one(line: usize, instruction: &'static str, args: &str) -> Result<String, DockerfileError> {
    if args.is_empty() {
        return Err(DockerfileError::ExactlyOneArgument { line, instruction });
    }
    Ok(args.to_string())
}

/// The JSON array form if the text is one, like Docker: anything that fails to parse as JSON
/// is plain text, but a well-formed array of non-strings is an error.
fn json_array(line: usize, args: &str) -> Result<Option<Vec<String>>, DockerfileError> {
    if !args.starts_with('[') {
        return Ok(None);
    }
    let Ok(values) = serde_json::from_str::<Vec<serde_json::Value>>(args) else {
        return Ok(None);
    };
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(DockerfileError::NotStringArray { line }),
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn json_or_words(line: usize, args: &str) -> Result<Vec<String>, DockerfileError> {
    Ok(json_array(line, args)?.unwrap_or_else(|| blank_separated(args)))
}

/// An empty command stays shell form: Docker runs `/bin/sh -c ""` for it.
fn command_form(line: usize, args: &str) -> Result<CommandForm, DockerfileError> {
    Ok(match json_array(line, args)? {
        Some(argv) => CommandForm::Exec(argv),
        None => CommandForm::Shell(args.to_string()),
    })
}

/// ENV and LABEL pairs, still raw. Docker picks the legacy `k v...` form when the first word
/// has no `=`, and then the value is the rest of the line.
fn name_values(
    line: usize,
    instruction: &'static str,
    args: &str,
    escape: char,
) -> Result<Vec<(String, String)>, DockerfileError> {
    let words = quoted_words(args, escape);
    let Some(first) = words.first() else {
        return Err(DockerfileError::AtLeastOneArgument { line, instruction });
    };
    if !first.contains('=') {
        let Some((name, value)) = args.split_once(is_blank) else {
            return Err(DockerfileError::MissingValue { line, instruction });
        };
        return Ok(vec![(name.to_string(), value.trim_start_matches(is_blank).to_string())]);
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            None => Err(DockerfileError::MissingEquals { line, word }),
            Some(("", _)) => Err(DockerfileError::BlankName { line, instruction }),
            Some((name, value)) => Ok((name.to_string(), value.to_string())),
        })
        .collect()
}

/// `ARG a b=2` declares several arguments on one line, as current Docker allows.
fn parse_arg(line: usize, args: &str, escape: char) -> Result<Vec<InstructionKind>, DockerfileError> {
    let words = quoted_words(args, escape);
    if words.is_empty() {
        return Err(DockerfileError::AtLeastOneArgument { line, instruction: "ARG" });
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some(("", _)) => Err(DockerfileError::BlankName { line, instruction: "ARG" }),
            Some((name, default)) => Ok(InstructionKind::Arg { name: name.into(), default: Some(default.into()) }),
            None => Ok(InstructionKind::Arg { name: word, default: None }),
        })
        .collect()
}

/// Splits on blanks outside quotes, keeping quotes and escapes in the words: the expansion
/// pass removes them, so `k="a b"` stays one word here and becomes `a b` there.
fn quoted_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // A quoted empty string ("") is still a word.
    let mut blank_ok = false;
    let mut quote = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match quote {
            None if c.is_whitespace() => {
                if in_word && (blank_ok || !word.is_empty()) {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
                blank_ok = false;
                continue;
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                blank_ok = true;
            }
            Some(q) if c == q => quote = None,
            _ => {}
        }
        in_word = true;
        // Inside single quotes the escape character is literal.
        if c == escape && quote != Some('\'') {
            match chars.next() {
                Some(next) => {
                    word.push(c);
                    word.push(next);
                }
                None => quote = None,
            }
            continue;
        }
        word.push(c);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(word);
    }
    words
}

// ---------------------------------------------------------------------------------------------
// Pass 3: variable substitution.

/// Variables visible at one point. Docker lets ENV win over an ARG of the same name, whatever
/// their order.
#[derive(Default)]
struct Scope {
    env: BTreeMap<String, String>,
    args: BTreeMap<String, Option<String>>,
}

impl Scope {
    fn get(&self, name: &str) -> Option<&str> {
        self.env.get(name).or_else(|| self.args.get(name)?.as_ref()).map(String::as_str)
    }
}

/// Docker's scoping: ARGs before the first FROM are visible to FROM lines only (and to a bare
/// `ARG NAME` re-declared in a stage); every FROM starts a stage with nothing set.
struct Substitution<'a> {
    escape: char,
    global: Scope,
    stage: Option<Scope>,
    /// `--build-arg`s, which replace the defaults of the ARGs they name.
    build_args: &'a BTreeMap<String, String>,
}

impl<'a> Substitution<'a> {
    fn new(escape: char, build_args: &'a BTreeMap<String, String>) -> Self {
        Self { escape, global: Scope::default(), stage: None, build_args }
    }

    /// The stage's ARGs that have a value, for a RUN's environment.
    fn run_args(&self) -> Vec<(String, String)> {
        let Some(stage) = &self.stage else { return Vec::new() };
        stage.args.iter().filter_map(|(k, v)| Some((k.clone(), v.clone()?))).collect()
    }

    fn stage(&self, line: usize) -> Result<&Scope, DockerfileError> {
        self.stage.as_ref().ok_or(DockerfileError::NoBuildStage { line })
    }

    /// Expands one logical line against the variables set before it, then records what it
    /// sets: `ENV a=1 b=$a` and `ARG a=1 b=$a` read the old `a`, as in Docker.
    fn apply(&mut self, line: usize, kinds: Vec<InstructionKind>) -> Result<Vec<InstructionKind>, DockerfileError> {
        let kinds = kinds.into_iter().map(|kind| self.expand(line, kind)).collect::<Result<Vec<_>, _>>()?;
        for kind in &kinds {
            self.record(kind);
        }
        Ok(kinds)
    }

    fn expand(&self, line: usize, kind: InstructionKind) -> Result<InstructionKind, DockerfileError> {
        use InstructionKind as K;
        let x = Expander { escape: self.escape, line };
        Ok(match kind {
            K::From { image, alias } => {
                let expanded = x.word(&image, &self.global)?;
                if expanded.is_empty() {
                    return Err(DockerfileError::BlankBaseName { line, image });
                }
                K::From { image: expanded, alias }
            }
            K::Arg { name, default } => {
                let scope = self.stage.as_ref().unwrap_or(&self.global);
                K::Arg { name, default: default.map(|d| x.word(&d, scope)).transpose()? }
            }
            // The shell expands these when the container runs, not the builder.
            K::Run(_) | K::Cmd(_) | K::Entrypoint(_) | K::Maintainer(_) | K::Shell(_) | K::Healthcheck(_) => kind,
            K::Copy { sources, dest, from } => {
                let scope = self.stage(line)?;
                // Stage names are matched case-insensitively, as Docker does.
                let from = from.map(|f| x.word(&f, scope).map(|w| w.to_lowercase())).transpose()?;
                K::Copy { sources: x.each(&sources, scope)?, dest: x.word(&dest, scope)?, from }
            }
            K::Add { sources, dest } => {
                let scope = self.stage(line)?;
                let sources = x.each(&sources, scope)?;
                if let Some(url) = sources.iter().find(|s| is_url(s)) {
                    return Err(DockerfileError::AddUrl { line, url: url.clone() });
                }
                K::Add { sources, dest: x.word(&dest, scope)? }
            }
            K::Volume(paths) => {
                let paths = x.each(&paths, self.stage(line)?)?;
                if paths.iter().any(|path| path.trim().is_empty()) {
                    return Err(DockerfileError::EmptyVolume { line });
                }
                K::Volume(paths)
            }
            K::Env(pairs) => K::Env(x.pairs(&pairs, self.stage(line)?, "ENV")?),
            K::Label(pairs) => K::Label(x.pairs(&pairs, self.stage(line)?, "LABEL")?),
            K::Workdir(path) => K::Workdir(x.word(&path, self.stage(line)?)?),
            K::User(user) => K::User(x.word(&user, self.stage(line)?)?),
            K::StopSignal(signal) => K::StopSignal(x.word(&signal, self.stage(line)?)?),
            K::Expose(ports) => {
                let scope = self.stage(line)?;
                let mut out = Vec::new();
                // `EXPOSE $PORTS` with PORTS="80 443" exposes two ports in Docker.
                for port in &ports {
                    out.extend(x.words(port, scope)?);
                }
                K::Expose(out)
            }
        })
    }

    fn record(&mut self, kind: &InstructionKind) {
        match kind {
            InstructionKind::From { .. } => self.stage = Some(Scope::default()),
            InstructionKind::Arg { name, default } => {
                let given = self.build_args.get(name).cloned();
                match &mut self.stage {
                    None => {
                        self.global.args.insert(name.clone(), given.or_else(|| default.clone()));
                    }
                    Some(stage) => {
                        let inherited = self.global.args.get(name).cloned().flatten();
                        stage.args.insert(name.clone(), given.or_else(|| default.clone()).or(inherited));
                    }
                }
            }
            InstructionKind::Env(pairs) => {
                if let Some(stage) = &mut self.stage {
                    stage.env.extend(pairs.iter().cloned());
                }
            }
            _ => {}
        }
    }
}

fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// Expands words for one instruction, so every failure names its line.
struct Expander {
    escape: char,
    line: usize,
}

impl Expander {
    fn run(&self, text: &str, scope: &Scope) -> Result<(String, Vec<String>), DockerfileError> {
        Lexer { chars: text.chars().collect(), pos: 0, escape: self.escape, scope }
            .process(None)
            .map_err(|reason| DockerfileError::Expand { line: self.line, word: text.into(), reason })
    }

    fn word(&self, text: &str, scope: &Scope) -> Result<String, DockerfileError> {
        Ok(self.run(text, scope)?.0)
    }

    /// The expansion split into words on unquoted blanks.
    fn words(&self, text: &str, scope: &Scope) -> Result<Vec<String>, DockerfileError> {
        Ok(self.run(text, scope)?.1)
    }

    fn each(&self, texts: &[String], scope: &Scope) -> Result<Vec<String>, DockerfileError> {
        texts.iter().map(|text| self.word(text, scope)).collect()
    }

    fn pairs(
        &self,
        pairs: &[(String, String)],
        scope: &Scope,
        instruction: &'static str,
    ) -> Result<Vec<(String, String)>, DockerfileError> {
        pairs
            .iter()
            .map(|(name, value)| {
                let name = self.word(name, scope)?;
                if name.is_empty() {
                    return Err(DockerfileError::BlankName { line: self.line, instruction });
                }
                Ok((name, self.word(value, scope)?))
            })
            .collect()
    }
}

/// Docker's shell-word lexer: quotes, escapes and `$` expansion in one word.
struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    escape: char,
    scope: &'a Scope,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    fn get(&self, name: &str) -> Option<String> {
        self.scope.get(name).map(String::from)
    }

    /// The expanded text and the same split into words, up to `stop` (consumed) or the end.
    fn process(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), ExpandError> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    words.push_expanded(&value);
                    result.push_str(&value);
                }
                '\'' | '"' => {
                    let value = if c == '"' { self.double_quoted()? } else { self.single_quoted()? };
                    words.push_raw(&value);
                    result.push_str(&value);
                }
                _ => {
                    self.pos += 1;
                    if c == self.escape {
                        // A trailing escape character is dropped.
                        let Some(escaped) = self.next() else { break };
                        words.push_raw(&escaped.to_string());
                        result.push(escaped);
                    } else {
                        words.push_expanded(&c.to_string());
                        result.push(c);
                    }
                }
            }
        }
        match stop {
            Some(_) => Err(ExpandError::MissingBrace),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(ExpandError::UnterminatedSingleQuote),
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    /// Inside double quotes the escape character only escapes `"`, `$` and itself.
    fn double_quoted(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(ExpandError::UnterminatedDoubleQuote),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) => {
                    self.pos += 1;
                    if c == self.escape {
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                self.pos += 1;
                                out.push(next);
                                continue;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(c);
                }
            }
        }
    }

    fn dollar(&mut self) -> Result<String, ExpandError> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            // A `$` not followed by a name is literal.
            return Ok(if name.is_empty() { "$".into() } else { self.get(&name).unwrap_or_default() });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(ExpandError::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandError::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        let (colon, op) = match self.next() {
            None => return Err(ExpandError::MissingBrace),
            Some('}') => return Ok(self.get(&name).unwrap_or_default()),
            Some(':') => (true, self.next()),
            op => (false, op),
        };
        let Some(op @ ('-' | '+' | '?')) = op else {
            let colon = if colon { ":" } else { "" };
            let op = op.map(String::from).unwrap_or_default();
            return Err(ExpandError::UnsupportedModifier(format!("{colon}{op}")));
        };
        let word = match self.process(Some('}')) {
            Ok((word, _)) => word,
            // Running out of text inside the braces is a missing brace, whatever else is open.
            Err(_) if self.peek().is_none() => return Err(ExpandError::MissingBrace),
            Err(error) => return Err(error),
        };
        let value = self.get(&name);
        // With `:`, an empty value counts as unset.
        let unset = value.as_deref().is_none_or(|v| colon && v.is_empty());
        match op {
            '-' if unset => Ok(word),
            '+' if unset => Ok(String::new()),
            '+' => Ok(word),
            '?' if unset => {
                let message = match (word.is_empty(), value.is_none()) {
                    (false, _) => word,
                    (true, true) => "is not allowed to be unset".into(),
                    (true, false) => "is not allowed to be empty".into(),
                };
                Err(ExpandError::Required { name, message })
            }
            _ => Ok(value.unwrap_or_default()),
        }
    }

    /// A variable name: letters, digits and `_`; or all digits; or one special parameter.
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(c) if c.is_numeric() => {
                while let Some(digit) = self.peek().filter(|d| d.is_numeric()) {
                    name.push(digit);
                    self.pos += 1;
                }
                return name;
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                self.pos += 1;
                return c.to_string();
            }
            _ => {}
        }
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.pos += 1;
        }
        name
    }
}

/// Word splitting of an expansion: blanks split words unless they came from quotes or escapes.
#[derive(Default)]
struct Words {
    done: Vec<String>,
    word: String,
}

impl Words {
    fn push_expanded(&mut self, text: &str) {
        for c in text.chars() {
            if !c.is_whitespace() {
                self.word.push(c);
            } else if !self.word.is_empty() {
                self.done.push(std::mem::take(&mut self.word));
            }
        }
    }

    fn push_raw(&mut self, text: &str) {
        self.word.push_str(text);
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.done.push(self.word);
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input` and renders one `line: kind` per instruction, or `error: message`.
    fn render(input: &str) -> String {
        match parse(input) {
            Ok(dockerfile) => dockerfile
                .instructions
                .iter()
                .map(|i| format!("{}: {:?}", i.line, i.kind))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(error) => format!("error: {error}"),
        }
    }

    /// Compares the rendering with `expected`, ignoring indentation and surrounding blank lines.
    #[track_caller]
    fn check(input: &str, expected: &str) {
        let expected = expected.trim().lines().map(str::trim).collect::<Vec<_>>().join("\n");
        let actual = render(input);
        assert!(actual == expected, "input:\n{input}\n--- expected:\n{expected}\n--- actual:\n{actual}\n");
    }

    #[test]
    fn from_forms() {
        check(
            "FROM busybox\nFROM scratch\nFROM Alpine:3.19 AS Build\nFROM --platform=wasi/wasm x as y",
            r#"
            1: From { image: "busybox", alias: None }
            2: From { image: "scratch", alias: None }
            3: From { image: "Alpine:3.19", alias: Some("build") }
            4: From { image: "x", alias: Some("y") }
            "#,
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        check(
            "from busybox\nrun echo hi\nCmd [\"sh\"]",
            r#"
            1: From { image: "busybox", alias: None }
            2: Run(Shell("echo hi"))
            3: Cmd(Exec(["sh"]))
            "#,
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        check(
            "# leading comment\n\nFROM busybox\n   # indented comment\n\t\nRUN echo # not a comment",
            r#"
            3: From { image: "busybox", alias: None }
            6: Run(Shell("echo # not a comment"))
            "#,
        );
    }

    #[test]
    fn copy_forms() {
        check(
            "FROM busybox\n\
             COPY a b /dest/\n\
             COPY [\"a b\", \"/d\"]\n\
             COPY --chown=1:1 --chmod=755 --link a /d",
            r#"
            1: From { image: "busybox", alias: None }
            2: Copy { sources: ["a", "b"], dest: "/dest/", from: None }
            3: Copy { sources: ["a b"], dest: "/d", from: None }
            4: Copy { sources: ["a"], dest: "/d", from: None }
            "#,
        );
    }

    #[test]
    fn add_local_and_url() {
        check(
            "FROM busybox\nADD app.tar /opt/",
            r#"
            1: From { image: "busybox", alias: None }
            2: Add { sources: ["app.tar"], dest: "/opt/" }
            "#,
        );
        check(
            "FROM busybox\nADD https://example.com/a.tar /opt/",
            "error: Dockerfile parse error line 2: ADD from a URL is not supported: https://example.com/a.tar",
        );
    }

    #[test]
    fn copy_from_names_a_stage_or_image() {
        check(
            "FROM busybox AS Build\nARG SRC=build\nCOPY --from=Build /a /b\nCOPY --from=0 /c /d\nCOPY --from=$SRC /e /f",
            r#"
            1: From { image: "busybox", alias: Some("build") }
            2: Arg { name: "SRC", default: Some("build") }
            3: Copy { sources: ["/a"], dest: "/b", from: Some("build") }
            4: Copy { sources: ["/c"], dest: "/d", from: Some("0") }
            5: Copy { sources: ["/e"], dest: "/f", from: Some("build") }
            "#,
        );
    }

    #[test]
    fn shell_changes_the_shell_of_later_shell_forms() {
        check(
            "FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]",
            r#"
            1: From { image: "busybox", alias: None }
            2: Shell(["/bin/sh", "-ec"])
            "#,
        );
        check(
            "FROM busybox\nSHELL /bin/sh -c",
            "error: Dockerfile parse error line 2: SHELL requires the arguments to be in JSON form",
        );
        check("FROM busybox\nSHELL []", "error: Dockerfile parse error line 2: SHELL requires at least one argument");
        let shell = ["/bin/ash".to_string(), "-eo".into(), "pipefail".into(), "-c".into()];
        assert_eq!(
            CommandForm::Shell("x".into()).to_argv_with(Some(&shell)),
            ["/bin/ash", "-eo", "pipefail", "-c", "x"]
        );
        assert_eq!(CommandForm::Exec(vec!["x".into()]).to_argv_with(Some(&shell)), ["x"]);
    }

    #[test]
    fn build_args_override_defaults_and_reach_run() {
        let args = BTreeMap::from([
            ("TAG".to_string(), "1.37".to_string()),
            ("V".into(), "given".into()),
            ("NOPE".into(), "x".into()),
        ]);
        let d = parse_with_args(
            "ARG TAG=1.36\nFROM busybox:$TAG\nARG TAG\nARG V=default\nARG W=w\nENV W=env\nRUN echo $V\nFROM busybox\nRUN true",
            &args,
        )
        .unwrap();
        assert_eq!(d.instructions[1].kind, InstructionKind::From { image: "busybox:1.37".into(), alias: None });
        let runs: Vec<_> = d.instructions.iter().filter(|i| matches!(i.kind, InstructionKind::Run(_))).collect();
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert_eq!(runs[0].args, pairs(&[("TAG", "1.37"), ("V", "given"), ("W", "w")]));
        // A new stage starts with no ARGs.
        assert_eq!(runs[1].args, pairs(&[]));
        assert_eq!(d.unused_args, ["NOPE"]);
        // Without build args, the defaults.
        let d = parse("FROM busybox\nARG V=default\nRUN echo $V").unwrap();
        assert_eq!(d.instructions[2].args, pairs(&[("V", "default")]));
    }

    #[test]
    fn exec_and_shell_forms() {
        check(
            "FROM busybox\n\
             RUN [\"echo\", \"a b\"]\n\
             CMD echo $HOME\n\
             ENTRYPOINT [\"/app\"]\n\
             CMD [not json\n\
             CMD []\n\
             ENTRYPOINT  [ \"x\" ]  ",
            r#"
            1: From { image: "busybox", alias: None }
            2: Run(Exec(["echo", "a b"]))
            3: Cmd(Shell("echo $HOME"))
            4: Entrypoint(Exec(["/app"]))
            5: Cmd(Shell("[not json"))
            6: Cmd(Exec([]))
            7: Entrypoint(Exec(["x"]))
            "#,
        );
    }

    #[test]
    fn an_empty_exec_form_run_is_an_error() {
        check("FROM busybox\nRUN []", "error: Dockerfile parse error line 2: RUN requires at least one argument");
        check("FROM busybox\nRUN [ ]", "error: Dockerfile parse error line 2: RUN requires at least one argument");
    }

    #[test]
    fn json_array_of_non_strings_is_an_error() {
        check(
            "FROM busybox\nCMD [\"a\", 1]",
            "error: Dockerfile parse error line 2: when using JSON array syntax, arrays must be comprised of strings only",
        );
    }

    #[test]
    fn to_argv_wraps_shell_form() {
        let shell = CommandForm::Shell("echo hi".into()).to_argv();
        assert_eq!(shell, ["/bin/sh", "-c", "echo hi"]);
        let exec = CommandForm::Exec(vec!["/app".into(), "-v".into()]).to_argv();
        assert_eq!(exec, ["/app", "-v"]);
    }

    #[test]
    fn volume_forms() {
        check(
            "FROM busybox\nVOLUME [\"/a\", \"/b/\"]\nVOLUME /c /d/./",
            r#"
            1: From { image: "busybox", alias: None }
            2: Volume(["/a", "/b/"])
            3: Volume(["/c", "/d/./"])
            "#,
        );
        check(
            "FROM busybox\nVOLUME [\"\"]",
            "error: Dockerfile parse error line 2: VOLUME specified can not be an empty string",
        );
    }

    #[test]
    fn env_legacy_form() {
        check(
            "FROM busybox\nENV k hello   world\nENV q \"a b\" c\nENV a b=c",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("k", "hello   world")])
            3: Env([("q", "a b c")])
            4: Env([("a", "b=c")])
            "#,
        );
    }

    #[test]
    fn env_name_value_form() {
        check(
            "FROM busybox\nENV a=1 b=\"two words\" c=x\\ y d='$a' e=\"say \\\"hi\\\"\" f=",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("a", "1"), ("b", "two words"), ("c", "x y"), ("d", "$a"), ("e", "say \"hi\""), ("f", "")])
            "#,
        );
    }

    #[test]
    fn env_values_see_earlier_instructions_only() {
        check(
            "FROM busybox\nENV a=1\nENV a=2 b=$a\nWORKDIR /$a/$b",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("a", "1")])
            3: Env([("a", "2"), ("b", "1")])
            4: Workdir("/2/1")
            "#,
        );
    }

    #[test]
    fn label_forms() {
        check(
            "FROM busybox\nLABEL k=v \"k 2\"=\"v 2\" version=${V:-1.0}\nLABEL legacy the rest",
            r#"
            1: From { image: "busybox", alias: None }
            2: Label([("k", "v"), ("k 2", "v 2"), ("version", "1.0")])
            3: Label([("legacy", "the rest")])
            "#,
        );
    }

    #[test]
    fn expose_user_workdir_stopsignal_maintainer() {
        check(
            "FROM busybox\n\
             EXPOSE 80 443/tcp\n\
             USER app:app\n\
             WORKDIR /srv/my app\n\
             STOPSIGNAL SIGTERM\n\
             MAINTAINER Jane <jane@example.com>",
            r#"
            1: From { image: "busybox", alias: None }
            2: Expose(["80", "443/tcp"])
            3: User("app:app")
            4: Workdir("/srv/my app")
            5: StopSignal("SIGTERM")
            6: Maintainer("Jane <jane@example.com>")
            "#,
        );
    }

    #[test]
    fn expose_splits_expanded_words() {
        check(
            "FROM busybox\nENV PORTS=\"80 81\"\nEXPOSE $PORTS \"9/udp\"",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("PORTS", "80 81")])
            3: Expose(["80", "81", "9/udp"])
            "#,
        );
    }

    #[test]
    fn substitution_forms() {
        check(
            "FROM busybox\n\
             ENV set=val empty=\"\"\n\
             WORKDIR /$set/${set}/${unset}/${unset:-dflt}/${set:-dflt}/${set:+alt}/${unset:+alt}\n\
             WORKDIR /${empty:-e}/${empty-e}/${empty:+a}/${empty+a}/${unset-${set}x}",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("set", "val"), ("empty", "")])
            3: Workdir("/val/val//dflt/val/alt/")
            4: Workdir("/e///a/valx")
            "#,
        );
    }

    #[test]
    fn escaped_and_quoted_dollars() {
        check(
            "FROM busybox\nENV a=x\nWORKDIR /\\$a/$a/'$a'/\"$a\"/\"\\$a\"/$/${a}b/$ab",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("a", "x")])
            3: Workdir("/$a/x/$a/x/$a/$/xb/")
            "#,
        );
    }

    #[test]
    fn run_cmd_entrypoint_are_not_substituted() {
        check(
            "FROM busybox\nENV a=x\nRUN echo $a ${a}\nCMD [\"$a\"]\nENTRYPOINT echo \"$a\"",
            r#"
            1: From { image: "busybox", alias: None }
            2: Env([("a", "x")])
            3: Run(Shell("echo $a ${a}"))
            4: Cmd(Exec(["$a"]))
            5: Entrypoint(Shell("echo \"$a\""))
            "#,
        );
    }

    #[test]
    fn args_defaults_and_scopes() {
        // A global ARG feeds FROM; inside the stage it is unset until declared again, and a bare
        // re-declaration inherits its value.
        check(
            "ARG TAG=1.36\n\
             FROM busybox:${TAG}\n\
             WORKDIR /v$TAG\n\
             ARG TAG\n\
             WORKDIR /v$TAG\n\
             ARG a b=\"2 3\" c=${b}\n\
             WORKDIR /$a/$b/$c",
            r#"
            1: Arg { name: "TAG", default: Some("1.36") }
            2: From { image: "busybox:1.36", alias: None }
            3: Workdir("/v")
            4: Arg { name: "TAG", default: None }
            5: Workdir("/v1.36")
            6: Arg { name: "a", default: None }
            6: Arg { name: "b", default: Some("2 3") }
            6: Arg { name: "c", default: Some("") }
            7: Workdir("//2 3/")
            "#,
        );
    }

    #[test]
    fn env_overrides_arg_whatever_the_order() {
        check(
            "FROM busybox\nARG x=arg\nENV x=env\nENV y=env\nARG y=arg\nWORKDIR /$x/$y",
            r#"
            1: From { image: "busybox", alias: None }
            2: Arg { name: "x", default: Some("arg") }
            3: Env([("x", "env")])
            4: Env([("y", "env")])
            5: Arg { name: "y", default: Some("arg") }
            6: Workdir("/env/env")
            "#,
        );
    }

    #[test]
    fn each_stage_starts_empty() {
        check(
            "FROM busybox AS build\nENV x=1\nFROM scratch\nWORKDIR /$x",
            r#"
            1: From { image: "busybox", alias: Some("build") }
            2: Env([("x", "1")])
            3: From { image: "scratch", alias: None }
            4: Workdir("/")
            "#,
        );
    }

    #[test]
    fn continuation_lines() {
        check(
            "FROM busybox\nRUN echo a \\\n    b \\  \n# comment inside\n\n    c\nUSER me",
            r#"
            1: From { image: "busybox", alias: None }
            2: Run(Shell("echo a     b     c"))
            7: User("me")
            "#,
        );
        // A continuation at the end of the file just ends the instruction.
        check(
            "FROM busybox\nRUN echo \\",
            r#"
            1: From { image: "busybox", alias: None }
            2: Run(Shell("echo"))
            "#,
        );
    }

    #[test]
    fn custom_escape_character() {
        check(
            "# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo ok\nWORKDIR c:\\data\\`$x",
            r#"
            2: From { image: "busybox", alias: None }
            3: Run(Shell("dir c:\\   && echo ok"))
            5: Workdir("c:\\data\\$x")
            "#,
        );
    }

    #[test]
    fn directives_only_at_the_top() {
        check(
            "# syntax=docker/dockerfile:1\n#ESCAPE = \\\nFROM busybox",
            r#"3: From { image: "busybox", alias: None }"#,
        );
        // After an ordinary comment, `# escape=` is a comment too, so backtick stays literal.
        check(
            "# hello\n# escape=`\nFROM busybox\nRUN a `",
            r#"
            3: From { image: "busybox", alias: None }
            4: Run(Shell("a `"))
            "#,
        );
    }

    #[test]
    fn crlf_and_byte_order_mark() {
        check(
            "\u{feff}FROM busybox\r\nRUN a \\\r\n b\r\n",
            r#"
            1: From { image: "busybox", alias: None }
            2: Run(Shell("a  b"))
            "#,
        );
    }

    #[test]
    fn directive_errors() {
        check(
            "# escape=x\nFROM busybox",
            "error: Dockerfile parse error line 1: invalid escape token 'x' does not match ` or \\",
        );
        check(
            "# escape=`\n# escape=\\\nFROM busybox",
            "error: Dockerfile parse error line 2: only one escape parser directive can be used",
        );
    }

    #[test]
    fn unknown_and_unsupported_instructions() {
        check("FROM busybox\n\nFORM x", "error: Dockerfile parse error line 3: unknown instruction: FORM");
        check("FROM busybox\nonbuild RUN x", "error: Dockerfile parse error line 2: ONBUILD is not supported");
    }

    #[test]
    fn healthcheck_forms_and_errors() {
        check(
            "FROM busybox\nhealthcheck NONE\nHEALTHCHECK --interval=5s --retries=2 CMD test -f /ok || exit 1\nHEALTHCHECK --timeout=1m30s CMD [\"true\"]",
            r#"
            1: From { image: "busybox", alias: None }
            2: Healthcheck(Healthcheck { test: ["NONE"], interval: 0, timeout: 0, start_period: 0, start_interval: 0, retries: 0 })
            3: Healthcheck(Healthcheck { test: ["CMD-SHELL", "test -f /ok || exit 1"], interval: 5000000000, timeout: 0, start_period: 0, start_interval: 0, retries: 2 })
            4: Healthcheck(Healthcheck { test: ["CMD", "true"], interval: 0, timeout: 90000000000, start_period: 0, start_interval: 0, retries: 0 })
            "#,
        );
        let error = |text: &str| format!("error: Dockerfile parse error line 2: {text}");
        check("FROM busybox\nHEALTHCHECK NONE x", &error("HEALTHCHECK NONE takes no arguments"));
        check("FROM busybox\nHEALTHCHECK CMD", &error("Missing command after HEALTHCHECK CMD"));
        check("FROM busybox\nHEALTHCHECK RUN x", &error("Unknown type \"RUN\" in HEALTHCHECK (try CMD)"));
        check(
            "FROM busybox\nHEALTHCHECK --interval=1us CMD x",
            &error("Interval \"interval\" cannot be less than 1ms"),
        );
        check("FROM busybox\nHEALTHCHECK --interval=5 CMD x", &error("time: invalid duration \"5\""));
        check("FROM busybox\nHEALTHCHECK --retries=-1 CMD x", &error("--retries cannot be negative (-1)"));
        check("FROM busybox\nHEALTHCHECK --bogus=1 CMD x", &error("Unknown flag: bogus"));
    }

    #[test]
    fn instruction_before_from() {
        check("RUN echo", "error: Dockerfile parse error line 1: no build stage in current context");
        check("ARG a\nCOPY a b", "error: Dockerfile parse error line 2: no build stage in current context");
    }

    #[test]
    fn empty_files() {
        check("", "error: the Dockerfile (Dockerfile) cannot be empty");
        check("# only a comment\n\n   \n", "error: the Dockerfile (Dockerfile) cannot be empty");
        check("ARG a=1", "error: dockerfile contains no stages to build");
    }

    #[test]
    fn missing_arguments() {
        let cases = [
            ("VOLUME", "VOLUME requires at least one argument"),
            ("COPY a", "COPY requires at least two arguments"),
            ("ADD [\"a\"]", "ADD requires at least two arguments"),
            ("FROM", "FROM requires either one or three arguments"),
            ("FROM a b", "FROM requires either one or three arguments"),
            ("FROM a to b", "FROM requires either one or three arguments"),
            ("WORKDIR", "WORKDIR requires exactly one argument"),
            ("USER", "USER requires exactly one argument"),
            ("EXPOSE", "EXPOSE requires at least one argument"),
            ("ENV", "ENV requires at least one argument"),
            ("ENV =v", "ENV names can not be blank"),
            ("ENV k", "ENV must have two arguments"),
            ("LABEL", "LABEL requires at least one argument"),
            ("ARG", "ARG requires at least one argument"),
            ("ARG =1", "ARG names can not be blank"),
        ];
        for (instruction, message) in cases {
            check(&format!("FROM busybox\n{instruction}"), &format!("error: Dockerfile parse error line 2: {message}"));
        }
    }

    #[test]
    fn name_value_syntax_errors() {
        check(
            "FROM busybox\nENV a=1 b",
            "error: Dockerfile parse error line 2: Syntax error - can't find = in \"b\". Must be of the form: name=value",
        );
    }

    #[test]
    fn stage_name_errors() {
        check(
            "FROM busybox AS 1st",
            "error: Dockerfile parse error line 1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols",
        );
        check("ARG BASE\nFROM $BASE", "error: Dockerfile parse error line 2: base name ($BASE) should not be blank");
    }

    #[test]
    fn flag_errors() {
        check("FROM busybox\nCOPY --foo=1 a b", "error: Dockerfile parse error line 2: Unknown flag: foo");
        check("FROM busybox\nCOPY --chown a b", "error: Dockerfile parse error line 2: Missing a value on flag: chown");
        check(
            "FROM busybox\nCOPY --link=maybe a b",
            "error: Dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe",
        );
        check(
            "FROM busybox\nADD --chmod=1 --chmod=2 a b",
            "error: Dockerfile parse error line 2: Duplicate flag specified: chmod",
        );
        check(
            "FROM busybox\nRUN --mount=type=cache,target=/c make",
            "error: Dockerfile parse error line 2: Unknown flag: mount",
        );
    }

    #[test]
    fn unterminated_quotes() {
        check(
            "FROM busybox\nENV a=\"oops",
            r#"error: Dockerfile parse error line 2: failed to process "\"oops": unexpected end of statement while looking for matching double-quote"#,
        );
        check(
            "FROM busybox\nLABEL 'k=v",
            r#"error: Dockerfile parse error line 2: failed to process "'k": unexpected end of statement while looking for matching single-quote"#,
        );
    }

    #[test]
    fn substitution_errors() {
        check(
            "FROM busybox\nWORKDIR /${}",
            r#"error: Dockerfile parse error line 2: failed to process "/${}": syntax error: bad substitution"#,
        );
        check(
            "FROM busybox\nWORKDIR /${a:-x",
            r#"error: Dockerfile parse error line 2: failed to process "/${a:-x": syntax error: missing '}'"#,
        );
        check(
            "FROM busybox\nWORKDIR /${a#x}",
            r#"error: Dockerfile parse error line 2: failed to process "/${a#x}": unsupported modifier (#) in substitution"#,
        );
        check(
            "FROM busybox\nWORKDIR /${a:?must be set}",
            r#"error: Dockerfile parse error line 2: failed to process "/${a:?must be set}": a: must be set"#,
        );
    }

    #[test]
    fn syntax_errors_win_over_substitution_errors() {
        check("FROM busybox\nWORKDIR /${}\nFORM x", "error: Dockerfile parse error line 3: unknown instruction: FORM");
    }
}
