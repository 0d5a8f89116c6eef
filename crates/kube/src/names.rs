//! Kubernetes object names (RFC 1123 labels: lower-case letters, digits and `-`, at most 63)
//! made from Docker names and paths, which allow more.

/// `Pulp_Web.1` → `pulp-web-1`; `/var/lib/pulp` → `var-lib-pulp`; never empty.
pub fn dns_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    let out = out.get(..63).unwrap_or(out).trim_end_matches('-');
    if out.is_empty() { "volume".into() } else { out.to_string() }
}

/// Whether `s` is already a valid label (what a manifest must give).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && dns_label(s) == s
}

/// `base`, or `base-2`, `base-3`… whichever `taken` does not hold yet.
pub fn unique(base: String, taken: &[String]) -> String {
    if !taken.contains(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}-{n}")).find(|c| !taken.contains(c)).expect("some suffix is free")
}
