//! Docker's image references, parsed and normalized as distribution/reference (the Go module
//! the docker CLI and moby use) does: the same regular expressions, the same defaults
//! (`busybox` is `docker.io/library/busybox:latest`) and the same error texts. Pure: no I/O.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// Docker Hub's name in references; its registry answers at [`DOCKER_HUB_HOST`].
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Where Docker Hub's distribution API is served (moby's `DefaultV2Registry`).
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
/// distribution/reference's `RepositoryNameTotalLengthMax`.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// distribution/reference's `regexp.go`, composed the same way.
mod pattern {
    pub const ALPHANUMERIC: &str = "[a-z0-9]+";
    pub const SEPARATOR: &str = "(?:[._]|__|[-]+)";
    pub const DOMAIN_NAME_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    pub const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
    pub const TAG: &str = r"[\w][\w.-]{0,127}";
    pub const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
    pub const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";

    pub fn domain_and_port() -> String {
        let domain_name = format!(r"{DOMAIN_NAME_COMPONENT}(?:\.{DOMAIN_NAME_COMPONENT})*");
        format!("(?:{domain_name}|{IPV6}){OPTIONAL_PORT}")
    }

    pub fn remote_name() -> String {
        let component = format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*");
        format!("{component}(?:/{component})*")
    }
}

/// `^(name)(?::(tag))?(?:@(digest))?$`
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("(?:{}/)?{}", pattern::domain_and_port(), pattern::remote_name());
    Regex::new(&format!("^({name})(?::({}))?(?:@({}))?$", pattern::TAG, pattern::DIGEST)).expect("reference pattern")
});
/// `^(?:(domain)/)?(remote-name)$`
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^(?:({})/)?({})$", pattern::domain_and_port(), pattern::remote_name())).expect("name pattern")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!("^{}$", pattern::TAG)).expect("tag pattern"));
static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("identifier pattern"));
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{}$", pattern::DIGEST)).expect("digest pattern"));

/// Why a string is not a reference, in distribution/reference's (and go-digest's) words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("invalid tag format")]
    InvalidTag,
    #[error("repository name must be lowercase")]
    ContainsUppercase,
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexadecimalName(String),
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RemoteNotLowercase(String),
    #[error("invalid checksum digest format")]
    DigestFormat,
    #[error("invalid checksum digest length")]
    DigestLength,
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
}

/// A parsed reference: `domain/path[:tag][@digest]`. After [`Reference::normalized`] the
/// domain is never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// distribution/reference's `Parse`: the string as written, no defaults (the domain is
    /// empty unless one is given).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::NameEmpty);
        }
        let Some(m) = REFERENCE.captures(s) else {
            let lower = s.to_lowercase();
            return Err(if lower != s && REFERENCE.is_match(&lower) {
                ReferenceError::ContainsUppercase
            } else {
                ReferenceError::InvalidFormat
            });
        };
        let name = m.get(1).map_or("", |n| n.as_str());
        let (domain, path) = match NAME.captures(name) {
            Some(n) => (n.get(1).map_or("", |d| d.as_str()), n.get(2).map_or("", |p| p.as_str())),
            None => ("", name),
        };
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = m.get(3).map(|d| validate_digest(d.as_str())).transpose()?;
        Ok(Reference {
            domain: domain.to_string(),
            path: path.to_string(),
            tag: m.get(2).map(|t| t.as_str().to_string()),
            digest,
        })
    }

    /// `ParseNormalizedNamed`: a familiar name (`busybox`, `user/app:1`) made full
    /// (`docker.io/library/busybox`), without adding a tag.
    pub fn normalized(s: &str) -> Result<Reference, ReferenceError> {
        if IDENTIFIER.is_match(s) {
            return Err(ReferenceError::HexadecimalName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split_once(':').map_or(remainder.as_str(), |(r, _)| r);
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::RemoteNotLowercase(remote.to_string()));
        }
        Reference::parse(&format!("{domain}/{remainder}"))
    }

    /// `ParseDockerRef`: normalized, `latest` when neither tag nor digest is given, and only
    /// the digest when both are.
    pub fn docker(s: &str) -> Result<Reference, ReferenceError> {
        Ok(Reference::normalized(s)?.tag_name_only())
    }

    /// moby's `TagNameOnly` after dropping a tag a digest makes redundant.
    pub fn tag_name_only(mut self) -> Reference {
        if self.digest.is_some() {
            self.tag = None;
        } else if self.tag.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// `WithTag`: the same name with `tag` (a digest it had is dropped).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !TAG.is_match(tag) {
            return Err(ReferenceError::InvalidTag);
        }
        Ok(Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() })
    }

    /// `WithDigest`: the same name with `digest`, keeping its tag as the API's pull does.
    pub fn with_digest(&self, digest: &str) -> Result<Reference, ReferenceError> {
        Ok(Reference { digest: Some(validate_digest(digest)?), ..self.clone() })
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository within its registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The full repository name (`docker.io/library/busybox`), `Named.Name()`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() { self.path.clone() } else { format!("{}/{}", self.domain, self.path) }
    }

    /// `FamiliarName`: the name as Docker shows it (`busybox`, `user/app`,
    /// `127.0.0.1:5000/app`).
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// `FamiliarString`: the familiar name with tag and digest.
    pub fn familiar_string(&self) -> String {
        self.suffixed(self.familiar_name())
    }

    /// The host the distribution API is asked at (Docker Hub's is not its name).
    pub fn registry_host(&self) -> &str {
        if self.domain == DEFAULT_DOMAIN { DOCKER_HUB_HOST } else { &self.domain }
    }

    fn suffixed(&self, mut s: String) -> String {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.suffixed(self.name()))
    }
}

/// `splitDockerDomain`: which part of a name is a registry, with Docker Hub's defaults.
fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN.into(), format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == "localhost" {
        (maybe_domain, maybe_remote)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain.contains(['.', ':']) || maybe_domain.to_lowercase() != maybe_domain {
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain.into(), format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain.into(), remote.into())
}

/// go-digest's `Parse` with only `sha256` registered (as in distribution/reference's tests;
/// registries and the OCI layout use nothing else here).
fn validate_digest(s: &str) -> Result<String, ReferenceError> {
    let Some((algorithm, encoded)) = s.split_once(':').filter(|(a, e)| !a.is_empty() && !e.is_empty()) else {
        return Err(ReferenceError::DigestFormat);
    };
    if algorithm != "sha256" {
        return Err(if DIGEST.is_match(s) { ReferenceError::DigestUnsupported } else { ReferenceError::DigestFormat });
    }
    if encoded.len() != 64 {
        return Err(ReferenceError::DigestLength);
    }
    if !encoded.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ReferenceError::DigestFormat);
    }
    Ok(s.to_string())
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
