//! What a lesson's commands create, by name, read from the commands themselves: `lesson
//! reset` removes these and nothing else.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Lesson;

/// Names a lesson's commands give to containers, volumes and images.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Created {
    pub containers: BTreeSet<String>,
    pub volumes: BTreeSet<String>,
    pub images: BTreeSet<String>,
}

/// The containers (`run`/`create --name`), volumes (`volume create`, `-v NAME:`, `--mount
/// source=NAME`) and images (`build -t`, `tag`) named in every command of `lesson`, solutions
/// included. Built-in setups add the Pulp images.
pub fn created(lesson: &Lesson) -> Created {
    let mut out = Created::default();
    for step in &lesson.steps {
        if step.setup.contains(&super::Setup::PulpImages) {
            for image in ["pulp-base", "markllama/pulp-content", "pulp-worker", "pulp-apache"] {
                out.images.insert(image.into());
            }
        }
        for command in step.run.iter().chain(&step.solution) {
            for words in docker_invocations(&split(command)) {
                scan(&words, &mut out);
            }
        }
    }
    out
}

/// Words of a shell command line: quotes and backslashes honoured, nothing expanded.
fn split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.get_or_insert_default().extend(chars.next()),
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, '\\') => word.get_or_insert_default().extend(chars.next()),
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            // Command separators are words of their own, so each invocation can be found.
            (None, ';' | '&' | '|') => {
                words.extend(word.take());
                words.push(c.to_string());
            }
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// The argument lists of each `docker …` in a command line.
fn docker_invocations(words: &[String]) -> Vec<Vec<&str>> {
    words
        .split(|w| matches!(w.as_str(), ";" | "&" | "|"))
        .filter_map(|cmd| {
            let at = cmd.iter().position(|w| w == "docker" || w.ends_with("/docker") || w == "$(docker")?;
            Some(cmd[at + 1..].iter().map(String::as_str).collect())
        })
        .collect()
}

/// A volume name (not a host path, not a shell expansion).
fn is_volume_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Value of an option given as `--opt v` or `--opt=v`, for each of `names`.
fn option_values<'a>(args: &[&'a str], names: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        for n in names {
            if a == n {
                out.extend(args.get(i + 1).copied());
            } else if let Some(v) = a.strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                out.push(v);
            }
        }
    }
    out
}

fn scan(args: &[&str], out: &mut Created) {
    match args {
        ["volume", "create", rest @ ..] => {
            // The first word that is neither an option nor an option's value.
            let mut words = rest.iter();
            while let Some(w) = words.next() {
                if matches!(*w, "-o" | "--opt" | "-d" | "--driver" | "--label") {
                    words.next();
                } else if !w.starts_with('-') {
                    out.volumes.insert(w.to_string());
                    break;
                }
            }
        }
        ["run" | "create", rest @ ..] | ["container", "run" | "create", rest @ ..] => {
            out.containers.extend(option_values(rest, &["--name"]).into_iter().map(String::from));
            for v in option_values(rest, &["-v", "--volume"]) {
                if let Some((name, _)) = v.split_once(':')
                    && is_volume_name(name)
                {
                    out.volumes.insert(name.into());
                }
            }
            for m in option_values(rest, &["--mount"]) {
                let volume = !m.split(',').any(|kv| kv == "type=bind" || kv == "type=tmpfs");
                let source = m.split(',').find_map(|kv| kv.strip_prefix("source=").or(kv.strip_prefix("src=")));
                if let Some(s) = source.filter(|s| volume && is_volume_name(s)) {
                    out.volumes.insert(s.into());
                }
            }
        }
        ["build", rest @ ..] | ["image", "build", rest @ ..] => {
            out.images.extend(option_values(rest, &["-t", "--tag"]).into_iter().map(String::from))
        }
        ["tag", _, to, ..] | ["image", "tag", _, to, ..] => {
            out.images.insert(to.to_string());
        }
        _ => {}
    }
}
