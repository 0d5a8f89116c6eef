//! Resolving a repository path through its symlinks without leaving the repository: the walk the
//! kernel does, component by component, over a `readlink` the caller supplies, so the rule is
//! tested without a file system. The worker refuses a file whose walk escapes: an upstream link
//! to `/etc/passwd` must not be mirrored, even though the container could read it.

use std::collections::VecDeque;
use std::fmt;

use crate::manifest::RelPath;

/// Links followed before giving up, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfineError {
    /// The link at this repository path points outside the repository.
    Escapes {
        link: String,
        target: String,
    },
    TooManyLinks(String),
}

impl fmt::Display for ConfineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfineError::Escapes { link, target } => {
                write!(f, "upstream symlink points outside the repository: {link} -> {target}")
            }
            ConfineError::TooManyLinks(p) => write!(f, "too many levels of symbolic links: {p}"),
        }
    }
}

/// Resolves `path` inside the repository whose absolute location is `root` (components, e.g.
/// `["srv", "upstream", "sample"]`). `readlink` gets a repository-relative path and answers the
/// target if it is a symlink. Returns the resolved repository-relative components.
pub fn resolve(
    root: &[&str],
    path: &RelPath,
    mut readlink: impl FnMut(&[String]) -> Option<String>,
) -> Result<Vec<String>, ConfineError> {
    let mut pending: VecDeque<String> = path.components().map(str::to_string).collect();
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                if done.pop().is_none() {
                    return Err(ConfineError::Escapes { link: path.to_string(), target: "..".into() });
                }
                continue;
            }
            _ => done.push(part),
        }
        let Some(target) = readlink(&done) else { continue };
        links += 1;
        if links > MAX_LINKS {
            return Err(ConfineError::TooManyLinks(path.to_string()));
        }
        let link = done.join("/");
        done.pop();
        let escapes = || ConfineError::Escapes { link: link.clone(), target: target.clone() };
        let mut rest: Vec<&str> = target.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        if target.starts_with('/') {
            // An absolute target is fine only if it names a place inside the repository.
            let mut abs: Vec<&str> = Vec::new();
            for p in rest {
                if p == ".." {
                    abs.pop();
                } else {
                    abs.push(p);
                }
            }
            if abs.len() < root.len() || abs[..root.len()] != *root {
                return Err(escapes());
            }
            rest = abs[root.len()..].to_vec();
            done.clear();
        } else {
            // Relative: `..` beyond the repository's top is an escape, caught when popped.
            let depth = done.len() as isize;
            let mut level = depth;
            for p in &rest {
                level += if *p == ".." { -1 } else { 1 };
                if level < 0 {
                    return Err(escapes());
                }
            }
        }
        for p in rest.into_iter().rev() {
            pending.push_front(p.to_string());
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves `path` in a repository at /srv/up/repo whose links are `links` (path, target).
    fn check(links: &[(&str, &str)], path: &str) -> String {
        let root = ["srv", "up", "repo"];
        let r = resolve(&root, &RelPath::new(path).unwrap(), |p| {
            let p = p.join("/");
            links.iter().find(|(l, _)| *l == p).map(|(_, t)| t.to_string())
        });
        match r {
            Ok(parts) => parts.join("/"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn links_inside_the_repository_resolve() {
        assert_eq!(check(&[], "a/b"), "a/b");
        assert_eq!(check(&[("latest", "v2")], "latest/f"), "v2/f");
        assert_eq!(check(&[("a/l", "../b/f")], "a/l"), "b/f");
        assert_eq!(check(&[("l", "/srv/up/repo/x/../y")], "l"), "y");
        assert_eq!(check(&[("l", "m"), ("m", "./n/")], "l/f"), "n/f");
    }

    #[test]
    fn links_leaving_the_repository_are_refused() {
        let refused = [
            (("etc", "/etc/passwd"), "etc"),
            (("up", "../x"), "up"),
            (("d/l", "../../x"), "d/l"),
            (("sib", "/srv/up/repo2/f"), "sib"),
            (("root", "/"), "root"),
        ];
        for ((link, target), path) in refused {
            assert_eq!(
                check(&[(link, target)], path),
                format!("upstream symlink points outside the repository: {link} -> {target}"),
                "{path}"
            );
        }
        assert_eq!(check(&[("a", "b"), ("b", "a")], "a"), "too many levels of symbolic links: a");
    }
}
