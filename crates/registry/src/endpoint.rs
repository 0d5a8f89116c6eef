//! Which scheme a registry is spoken to with: plain HTTP for loopback registries (Docker's
//! default insecure range, 127.0.0.0/8, plus `localhost` and `::1`) and for those named with
//! `porthole serve --insecure-registry HOST[:PORT]|CIDR`, HTTPS for every other. Pure.

use std::net::IpAddr;

use crate::RegistryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One `--insecure-registry` entry, as the Docker daemon accepts them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Insecure {
    /// `host[:port]`, matched exactly against a reference's domain.
    Host(String),
    /// `addr/len`: any registry whose host is an address in the range.
    Cidr(IpAddr, u8),
}

/// The operator's list of registries spoken to without TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    insecure: Vec<Insecure>,
}

impl Endpoints {
    /// Parses `--insecure-registry` values (Docker refuses a scheme in them, and so do we).
    pub fn new(insecure: &[String]) -> Result<Endpoints, RegistryError> {
        let parse = |entry: &String| {
            if entry.contains("://") {
                return Err(RegistryError::InsecureRegistry(entry.clone()));
            }
            let cidr = entry.split_once('/').and_then(|(a, n)| Some((a.parse().ok()?, n.parse().ok()?)));
            Ok(match cidr {
                Some((addr, len)) => Insecure::Cidr(addr, len),
                None if entry.contains('/') => return Err(RegistryError::InsecureRegistry(entry.clone())),
                None => Insecure::Host(entry.to_lowercase()),
            })
        };
        Ok(Endpoints { insecure: insecure.iter().map(parse).collect::<Result<_, _>>()? })
    }

    /// The scheme for a registry named `domain` (`host[:port]`, as in a reference).
    pub fn scheme(&self, domain: &str) -> Scheme {
        let host = host_of(domain);
        let addr = host.parse::<IpAddr>().ok();
        let loopback = host.eq_ignore_ascii_case("localhost") || addr.is_some_and(|a| a.is_loopback());
        let listed = self.insecure.iter().any(|entry| match entry {
            Insecure::Host(h) => h.eq_ignore_ascii_case(domain) || h.eq_ignore_ascii_case(host),
            Insecure::Cidr(net, len) => addr.is_some_and(|a| in_range(a, *net, *len)),
        });
        if loopback || listed { Scheme::Http } else { Scheme::Https }
    }
}

/// `host` of `host[:port]`, `[v6][:port]` without its brackets.
fn host_of(domain: &str) -> &str {
    if let Some(rest) = domain.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    domain.rsplit_once(':').map_or(domain, |(h, _)| h)
}

fn in_range(addr: IpAddr, net: IpAddr, len: u8) -> bool {
    let (a, n, bits) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(a.to_bits()), u128::from(n.to_bits()), 32u32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (a.to_bits(), n.to_bits(), 128),
        _ => return false,
    };
    let len = u32::from(len).min(bits);
    let shift = bits - len;
    len == 0 || (a >> shift) == (n >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_listed_registries_are_plain_http() {
        let e = Endpoints::new(&["registry.lan:5000".into(), "10.1.0.0/16".into()]).unwrap();
        let rows = [
            ("127.0.0.1:5000", Scheme::Http),
            ("127.8.9.1", Scheme::Http),
            ("localhost:5000", Scheme::Http),
            ("[::1]:5000", Scheme::Http),
            ("registry.lan:5000", Scheme::Http),
            ("registry.lan", Scheme::Https),
            ("10.1.200.3:443", Scheme::Http),
            ("10.2.0.1", Scheme::Https),
            ("registry-1.docker.io", Scheme::Https),
            ("ghcr.io", Scheme::Https),
        ];
        for (domain, scheme) in rows {
            assert_eq!(e.scheme(domain), scheme, "{domain}");
        }
    }

    #[test]
    fn a_scheme_in_an_insecure_registry_is_refused() {
        let err = Endpoints::new(&["http://registry.lan".into()]).unwrap_err();
        assert_eq!(err.to_string(), "insecure registry http://registry.lan should not contain '://'");
    }
}
