//! Validated names: volume names, container names and 64-hex ids, with Docker's error texts.

use std::fmt;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "create {0}: \"{0}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )]
    InvalidVolumeName(String),
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidContainerName(String),
    #[error("invalid network name {0:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidNetworkName(String),
    #[error("invalid id: {0:?} (want 64 lower-case hex digits)")]
    InvalidId(String),
}

/// Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`: at least two characters.
fn is_docker_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A local volume's name (named or the 64-hex name of an anonymous one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VolumeName(String);

impl VolumeName {
    pub fn new(s: &str) -> Result<Self, NameError> {
        if is_docker_name(s) { Ok(Self(s.to_string())) } else { Err(NameError::InvalidVolumeName(s.to_string())) }
    }
}

/// A container name, stored without Docker's leading `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContainerName(String);

impl ContainerName {
    /// Accepts `name` or `/name`, as the Docker API does.
    pub fn new(s: &str) -> Result<Self, NameError> {
        let bare = s.strip_prefix('/').unwrap_or(s);
        if is_docker_name(bare) {
            Ok(Self(bare.to_string()))
        } else {
            Err(NameError::InvalidContainerName(s.to_string()))
        }
    }
}

/// A network's name (`docker network create NAME`, compose's `PROJECT_default`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NetworkName(String);

impl NetworkName {
    pub fn new(s: &str) -> Result<Self, NameError> {
        if is_docker_name(s) { Ok(Self(s.to_string())) } else { Err(NameError::InvalidNetworkName(s.to_string())) }
    }
}

/// A 64-hex-digit id (containers, images, anonymous volumes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

impl Id {
    /// The id made of these 32 bytes (the caller supplies the randomness or the digest).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn new(s: &str) -> Result<Self, NameError> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_string()))
        } else {
            Err(NameError::InvalidId(s.to_string()))
        }
    }

    /// The 12-digit form `docker ps` shows.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

/// The conversions every validated string type here shares: parsing from a `String` (so serde
/// validates on load), back into one, `as_str` and `Display`.
macro_rules! validated_string {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $t {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, NameError> {
                Self::new(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

validated_string!(VolumeName);
validated_string!(ContainerName);
validated_string!(NetworkName);
validated_string!(Id);

/// How a reference given by a user (name, full id or id prefix) matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Found(T),
    NotFound,
    /// The prefix matched more than one id.
    Ambiguous,
}

/// Finds the item a user means by `reference`, as Docker does: exact name, then exact id,
/// then a unique id prefix.
pub fn lookup<'a, T>(items: impl IntoIterator<Item = (&'a str, &'a Id, T)>, reference: &str) -> Lookup<T> {
    let reference = reference.strip_prefix('/').unwrap_or(reference);
    let mut by_prefix = Vec::new();
    for (name, id, item) in items {
        if name == reference || id.as_str() == reference {
            return Lookup::Found(item);
        }
        if !reference.is_empty() && id.as_str().starts_with(reference) {
            by_prefix.push(item);
        }
    }
    match by_prefix.len() {
        0 => Lookup::NotFound,
        1 => Lookup::Found(by_prefix.pop().unwrap()),
        _ => Lookup::Ambiguous,
    }
}

/// A host name as moby accepts one for `--hostname` (RFC 1123 labels joined by dots, at most
/// 255 characters in all): also what keeps it from adding lines to `/etc/hosts`.
pub fn valid_hostname(name: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    !name.is_empty() && name.len() <= 255 && name.split('.').all(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_docker() {
        for ok in ["ab", "pulp-content", "a.b_c-d", "0x"] {
            assert!(VolumeName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "", "-ab", ".ab", "a b", "a/b", "a:b", "é1"] {
            assert!(VolumeName::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            VolumeName::new("foo/bar").unwrap_err().to_string(),
            "create foo/bar: \"foo/bar\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
    }

    #[test]
    fn container_names_accept_a_leading_slash() {
        assert_eq!(ContainerName::new("/web").unwrap().as_str(), "web");
        assert_eq!(
            ContainerName::new("we b").unwrap_err().to_string(),
            "Invalid container name (we b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        );
    }

    #[test]
    fn lookup_by_name_id_and_unique_prefix() {
        let a = Id::from_bytes(&[0xab; 32]);
        let b = Id::from_bytes(&[0xac; 32]);
        let items = || vec![("one", &a, 1), ("two", &b, 2)];
        assert_eq!(lookup(items(), "two"), Lookup::Found(2));
        assert_eq!(lookup(items(), "/one"), Lookup::Found(1));
        assert_eq!(lookup(items(), a.as_str()), Lookup::Found(1));
        assert_eq!(lookup(items(), "abab"), Lookup::Found(1));
        assert_eq!(lookup(items(), "a"), Lookup::Ambiguous);
        assert_eq!(lookup(items(), "zz"), Lookup::NotFound);
        assert_eq!(lookup(items(), ""), Lookup::NotFound);
        assert_eq!(a.short(), "abababababab");
    }

    #[test]
    fn hostnames_as_rfc_1123() {
        for ok in ["web", "pulp-apache", "a.b.c", "x1", "1x"] {
            assert!(valid_hostname(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a..b", "a b", "a\n127.0.0.1 evil", "a_b", &"x".repeat(64)] {
            assert!(!valid_hostname(bad), "{bad:?}");
        }
    }
}
