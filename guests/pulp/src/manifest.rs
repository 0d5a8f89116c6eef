//! The repository manifest: the list of files a repository publishes, one line each,
//! `<sha256 hex> <size> <relative path>` (the path is the rest of the line, so it may hold
//! spaces); blank lines and lines starting with `#` are ignored. Parsing is per line, so one bad
//! line is refused and the others still sync.

use std::fmt;

/// A SHA-256 digest as 64 lower-case hex digits: the name of a content file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    pub fn new(hex: &str) -> Result<Digest, ManifestError> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Digest(hex.to_ascii_lowercase()))
        } else {
            Err(ManifestError::BadDigest(hex.to_string()))
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Digest {
        Digest(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path inside a repository: relative, cleaned (no empty or `.` components), never `..`, never
/// NUL. Joining it to a directory stays lexically inside that directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelPath(String);

impl RelPath {
    pub fn new(path: &str) -> Result<RelPath, ManifestError> {
        if path.starts_with('/') {
            return Err(ManifestError::Absolute(path.to_string()));
        }
        if path.contains('\0') {
            return Err(ManifestError::Nul(path.escape_default().to_string()));
        }
        let mut parts = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(ManifestError::DotDot(path.to_string())),
                p => parts.push(p),
            }
        }
        if parts.is_empty() {
            return Err(ManifestError::Empty);
        }
        Ok(RelPath(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One file the repository publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub digest: Digest,
    pub size: u64,
    pub path: RelPath,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    BadDigest(String),
    BadSize(String),
    Absolute(String),
    DotDot(String),
    Nul(String),
    Empty,
    MissingFields,
    Duplicate(String),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::BadDigest(d) => write!(f, "invalid sha256 digest: {d:?}"),
            ManifestError::BadSize(s) => write!(f, "invalid size: {s:?}"),
            ManifestError::Absolute(p) => write!(f, "absolute path: {p}"),
            ManifestError::DotDot(p) => write!(f, "path leaves the repository: {p}"),
            ManifestError::Nul(p) => write!(f, "path holds a NUL byte: {p}"),
            ManifestError::Empty => write!(f, "empty path"),
            ManifestError::MissingFields => write!(f, "expected <sha256> <size> <path>"),
            ManifestError::Duplicate(p) => write!(f, "path listed twice: {p}"),
        }
    }
}

/// One manifest line that was not accepted, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub line: usize,
    pub error: ManifestError,
}

/// Parses a whole manifest: the entries it accepts, in order, and the lines it refuses.
pub fn parse(text: &str) -> (Vec<Entry>, Vec<Refused>) {
    let mut entries: Vec<Entry> = Vec::new();
    let mut refused = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Ok(e) if entries.iter().any(|o| o.path == e.path) => {
                refused.push(Refused { line: i + 1, error: ManifestError::Duplicate(e.path.0) })
            }
            Ok(e) => entries.push(e),
            Err(error) => refused.push(Refused { line: i + 1, error }),
        }
    }
    (entries, refused)
}

fn parse_line(line: &str) -> Result<Entry, ManifestError> {
    let mut fields = line.trim_start().splitn(3, ' ');
    let (Some(digest), Some(size), Some(path)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(ManifestError::MissingFields);
    };
    let digest = Digest::new(digest)?;
    let size = size.parse().map_err(|_| ManifestError::BadSize(size.to_string()))?;
    Ok(Entry { digest, size, path: RelPath::new(path)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn check(text: &str, expect: &[&str]) {
        let (entries, refused) = parse(text);
        let mut got: Vec<String> =
            entries.iter().map(|e| format!("{} {} {}", &e.digest.0[..8], e.size, e.path)).collect();
        got.extend(refused.iter().map(|r| format!("line {}: {}", r.line, r.error)));
        assert_eq!(got, expect);
    }

    #[test]
    fn accepts_entries_and_refuses_bad_lines_one_by_one() {
        let text = format!(
            "# sample\n\n{D} 0 a.txt\n{D} 12 dir/with space.rpm\n{D} 1 ./x//y/\n{D} 1 ../etc/passwd\n\
             {D} 1 /etc/passwd\nabc 1 f\n{D} -1 f\n{D} 3\n{D} 1 a.txt\n{D} 1 a/./..\n"
        );
        check(
            &text,
            &[
                "e3b0c442 0 a.txt",
                "e3b0c442 12 dir/with space.rpm",
                "e3b0c442 1 x/y",
                "line 6: path leaves the repository: ../etc/passwd",
                "line 7: absolute path: /etc/passwd",
                "line 8: invalid sha256 digest: \"abc\"",
                "line 9: invalid size: \"-1\"",
                "line 10: expected <sha256> <size> <path>",
                "line 11: path listed twice: a.txt",
                "line 12: path leaves the repository: a/./..",
            ],
        );
    }

    #[test]
    fn upper_case_digests_are_normalised_and_paths_cleaned() {
        let e = &parse(&format!("{} 5 ./a/b\r\n", D.to_uppercase())).0[0];
        assert_eq!((e.digest.as_str(), e.path.as_str()), (D, "a/b"));
        assert_eq!(RelPath::new("."), Err(ManifestError::Empty));
        assert_eq!(RelPath::new("a\0b").unwrap_err().to_string(), "path holds a NUL byte: a\\u{0}b");
    }
}
