//! Container paths as Docker treats mount destinations: cleaned lexically like Go's
//! `path.Clean` (`/foo/` is `/foo`, `/a/../b` is `/b`).

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

/// An absolute, cleaned path inside a container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct GuestPath(String);

impl GuestPath {
    /// `None` unless `p` is absolute; the result is cleaned.
    pub fn new(p: &str) -> Option<Self> {
        p.starts_with('/').then(|| Self(clean(p)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// True when `self` is `other` or lies below it.
    pub fn is_within(&self, other: &GuestPath) -> bool {
        other.is_root() || self.0 == other.0 || self.0.starts_with(&format!("{}/", other.0))
    }

    /// The components after `/`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
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
        assert!(GuestPath::new("/a/b").unwrap().is_within(&GuestPath::new("/a").unwrap()));
        assert!(!GuestPath::new("/ab").unwrap().is_within(&GuestPath::new("/a").unwrap()));
    }
}
