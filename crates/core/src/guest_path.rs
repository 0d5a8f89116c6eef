//! Paths inside a container. One type for both users: Docker's mount destinations, cleaned
//! lexically like Go's `path.Clean` (`/foo/` is `/foo`, `/a/../b` is `/b`), and the WASI host's
//! walk, which resolves `..` itself component by component (lexical cleaning is wrong once
//! symlinks are involved) and so builds paths with [`GuestPath::push`]/[`GuestPath::pop`].

use std::fmt;

/// Go's `path.Clean` for `/`-separated paths.
pub fn clean(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|c| *c != "..") {
                    out.pop();
                } else if !absolute {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// An absolute path inside a container with no empty, `.` or `..` components: `/`, or `/a/b`.
/// Once the walk has produced one, it is also symlink-free.
///
/// Kept as one string (`/`-joined) so the walk's per-component `push`/`pop` only appends to or
/// truncates it, and so mount destinations serialize as plain strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct GuestPath(String);

/// Why a guest path given as bytes is not a [`GuestPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GuestPathError {
    #[error("not an absolute path")]
    NotAbsolute,
    #[error("path contains a NUL byte")]
    Nul,
    #[error("path is not UTF-8")]
    NotUtf8,
    #[error("path contains `..`")]
    DotDot,
}

impl GuestPath {
    /// The container root, `/`.
    pub fn root() -> Self {
        Self("/".to_string())
    }

    /// `None` unless `p` is absolute; the result is cleaned (Docker's rule for mount
    /// destinations: `..` is removed lexically).
    pub fn new(p: &str) -> Option<Self> {
        p.starts_with('/').then(|| Self(clean(p)))
    }

    /// Parses a path a guest or host gave as bytes (`/var/lib/pulp`, `/data/`): absolute,
    /// empty and `.` components dropped, but `..` refused rather than cleaned, because what it
    /// means depends on the symlinks on the way; resolve such a path with the WASI walk.
    pub fn parse(p: &[u8]) -> Result<Self, GuestPathError> {
        if p.first() != Some(&b'/') {
            return Err(GuestPathError::NotAbsolute);
        }
        if p.contains(&0) {
            return Err(GuestPathError::Nul);
        }
        let s = std::str::from_utf8(p).map_err(|_| GuestPathError::NotUtf8)?;
        let mut out = Self::root();
        for c in s.split('/') {
            match c {
                "" | "." => {}
                ".." => return Err(GuestPathError::DotDot),
                name => out.push(name),
            }
        }
        Ok(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// True when `self` is `prefix` or lies below it (component-wise: `/ab` is not below `/a`).
    pub fn starts_with(&self, prefix: &GuestPath) -> bool {
        prefix.is_root()
            || self.0.strip_prefix(prefix.0.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// The components after `/`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// Appends the component `name`, which must be a name (not empty, `.` or `..`, no `/` or
    /// NUL); the walk only pushes what it split from a checked path.
    pub fn push(&mut self, name: &str) {
        debug_assert!(
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']),
            "not a path component: {name:?}"
        );
        if !self.is_root() {
            self.0.push('/');
        }
        self.0.push_str(name);
    }

    /// Removes the last component; false at `/`, which stays `/`.
    pub fn pop(&mut self) -> bool {
        match self.0.rfind('/') {
            _ if self.is_root() => false,
            Some(0) => {
                self.0.truncate(1);
                true
            }
            Some(i) => {
                self.0.truncate(i);
                true
            }
            None => unreachable!("a GuestPath is absolute"),
        }
    }

    /// The directory holding `self`; `None` for `/`.
    pub fn parent(&self) -> Option<GuestPath> {
        let mut p = self.clone();
        p.pop().then_some(p)
    }

    /// The last component; `None` for `/`.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() { None } else { self.0.rsplit('/').next() }
    }

    /// The components below `prefix`, joined with `/` (`.` when equal); the caller guarantees
    /// `self.starts_with(prefix)`.
    pub fn relative_to(&self, prefix: &GuestPath) -> &str {
        debug_assert!(self.starts_with(prefix), "{self} is not below {prefix}");
        let rest = if prefix.is_root() { &self.0[1..] } else { self.0[prefix.0.len()..].trim_start_matches('/') };
        if rest.is_empty() { "." } else { rest }
    }
}

impl Default for GuestPath {
    fn default() -> Self {
        Self::root()
    }
}

impl fmt::Display for GuestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_go() {
        for (input, want) in [
            ("/foo/", "/foo"),
            ("//a//b/./c/..", "/a/b"),
            ("/../x", "/x"),
            ("/", "/"),
            ("a/../../b", "../b"),
            ("", "."),
            ("/var/lib/pulp", "/var/lib/pulp"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
        assert!(GuestPath::new("data").is_none());
        assert_eq!(GuestPath::new("/data/").unwrap().as_str(), "/data");
        assert!(GuestPath::new("/a/b").unwrap().starts_with(&GuestPath::new("/a").unwrap()));
        assert!(!GuestPath::new("/ab").unwrap().starts_with(&GuestPath::new("/a").unwrap()));
    }

    #[test]
    fn parses_without_cleaning_dot_dot() {
        let p = |s: &str| GuestPath::parse(s.as_bytes());
        assert_eq!(p("/data/").unwrap().as_str(), "/data");
        assert_eq!(p("//a/./b").unwrap().as_str(), "/a/b");
        assert_eq!(p("/").unwrap(), GuestPath::root());
        assert_eq!(p("data"), Err(GuestPathError::NotAbsolute));
        assert_eq!(p(""), Err(GuestPathError::NotAbsolute));
        assert_eq!(p("/a/../b"), Err(GuestPathError::DotDot));
        assert_eq!(p("/a\0b"), Err(GuestPathError::Nul));
        assert_eq!(GuestPath::parse(b"/\xff"), Err(GuestPathError::NotUtf8));
    }

    #[test]
    fn edits_component_by_component() {
        let mut p = GuestPath::root();
        assert_eq!((p.parent(), p.file_name(), p.components().count()), (None, None, 0));
        p.push("a");
        p.push("b");
        assert_eq!(p.as_str(), "/a/b");
        assert_eq!(p.components().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(p.file_name(), Some("b"));
        assert_eq!(p.parent().unwrap().as_str(), "/a");
        assert_eq!(p.relative_to(&GuestPath::root()), "a/b");
        assert_eq!(p.relative_to(&GuestPath::new("/a").unwrap()), "b");
        assert_eq!(p.relative_to(&p), ".");
        assert!(p.pop() && p.pop());
        assert!(p.is_root() && !p.pop() && p.is_root());
        assert_eq!(GuestPath::new("/x").unwrap().parent(), Some(GuestPath::root()));
    }
}
