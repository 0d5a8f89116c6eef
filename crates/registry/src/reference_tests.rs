//! distribution/reference's own test tables (`reference_test.go`, `normalize_test.go`),
//! rewritten as rows: input, then what Porthole's parser must make of it.

use super::*;

const FF: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

/// A parsed reference as `domain | name | tag | digest` (empty parts as `-`), or the error.
fn render(r: Result<Reference, ReferenceError>) -> String {
    match r {
        Ok(r) => {
            let part = |s: Option<&str>| s.filter(|s| !s.is_empty()).unwrap_or("-").to_string();
            format!("{} | {} | {} | {}", part(Some(r.domain())), r.name(), part(r.tag()), part(r.digest()))
        }
        Err(e) => format!("error: {e}"),
    }
}

fn check(parse: fn(&str) -> Result<Reference, ReferenceError>, rows: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (input, expected) in rows {
        let got = render(parse(input));
        if got != *expected {
            wrong.push(format!("{input:?}\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn parse_as_distribution_reference_does() {
    let digest = |s: &str| s.replace("FF", FF);
    let rows: Vec<(String, String)> = [
        ("test_com", "- | test_com | - | -"),
        ("test.com:tag", "- | test.com | tag | -"),
        ("test.com:5000", "- | test.com | 5000 | -"),
        ("test.com/repo:tag", "test.com | test.com/repo | tag | -"),
        ("test:5000/repo", "test:5000 | test:5000/repo | - | -"),
        ("test:5000/repo:tag", "test:5000 | test:5000/repo | tag | -"),
        ("test:5000/repo@FF", "test:5000 | test:5000/repo | - | FF"),
        ("test:5000/repo:tag@FF", "test:5000 | test:5000/repo | tag | FF"),
        ("", "error: repository name must have at least one component"),
        (":justtag", "error: invalid reference format"),
        ("@FF", "error: invalid reference format"),
        ("repo@sha256:ffffffffffffffffffffffffffffffffff", "error: invalid checksum digest length"),
        ("validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "error: unsupported digest algorithm"),
        ("validname@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "error: unsupported digest algorithm"),
        ("Uppercase:tag", "error: repository name must be lowercase"),
        ("test:5000/Uppercase/lowercase:tag", "error: repository name must be lowercase"),
        ("lowercase:Uppercase", "- | lowercase | Uppercase | -"),
        ("aa/asdf$$^/aa", "error: invalid reference format"),
        ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com | sub-dom1.foo.com/bar/baz/quux | - | -"),
        ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com | sub-dom1.foo.com/bar/baz/quux | some-long-tag | -"),
        ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io | b.gcr.io/test.example.com/my-app | test.example.com | -"),
        ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com | xn--n3h.com/myimage | xn--n3h.com | -"),
        ("xn--7o8h.com/myimage:xn--7o8h.com@FF", "xn--7o8h.com | xn--7o8h.com/myimage | xn--7o8h.com | FF"),
        ("foo_bar.com:8080", "- | foo_bar.com | 8080 | -"),
        ("foo/foo_bar.com:8080", "foo | foo/foo_bar.com | 8080 | -"),
        ("192.168.1.1", "- | 192.168.1.1 | - | -"),
        ("192.168.1.1:tag", "- | 192.168.1.1 | tag | -"),
        ("192.168.1.1:5000", "- | 192.168.1.1 | 5000 | -"),
        ("192.168.1.1/repo", "192.168.1.1 | 192.168.1.1/repo | - | -"),
        ("192.168.1.1:5000/repo", "192.168.1.1:5000 | 192.168.1.1:5000/repo | - | -"),
        ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000 | 192.168.1.1:5000/repo | 5050 | -"),
        ("[2001:db8::1]", "error: invalid reference format"),
        ("[2001:db8::1]:5000", "error: invalid reference format"),
        ("[2001:db8::1]:tag", "error: invalid reference format"),
        ("[2001:db8::1]/repo", "[2001:db8::1] | [2001:db8::1]/repo | - | -"),
        ("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6] | [2001:db8:1:2:3:4:5:6]/repo | tag | -"),
        ("[2001:db8::1]:5000/repo:tag@FF", "[2001:db8::1]:5000 | [2001:db8::1]:5000/repo | tag | FF"),
        ("[2001:db8::]:5000/repo", "[2001:db8::]:5000 | [2001:db8::]:5000/repo | - | -"),
        ("[::1]:5000/repo", "[::1]:5000 | [::1]:5000/repo | - | -"),
        ("[fe80::1%eth0]:5000/repo", "error: invalid reference format"),
        ("[fe80::1%@invalidzone]:5000/repo", "error: invalid reference format"),
    ]
    .iter()
    .map(|(i, e)| (digest(i), digest(e)))
    .collect();
    let long_path = format!("domain/{}:tag", "a".repeat(256));
    let deep = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
    let deep_name = format!("{}a", "a/".repeat(127));
    let longest = format!("example.com/{}:tag", "a".repeat(255));
    let extra = [
        (long_path, "error: repository name must not be more than 255 characters".to_string()),
        (deep, format!("a | {deep_name} | tag-puts-this-over-max | -")),
        (longest, format!("example.com | example.com/{} | tag | -", "a".repeat(255))),
    ];
    let rows: Vec<(&str, &str)> = rows.iter().chain(extra.iter()).map(|(i, e)| (i.as_str(), e.as_str())).collect();
    check(Reference::parse, &rows);
}

#[test]
fn docker_references_are_normalized() {
    const BB: &str = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
    let rows = [
        ("busybox", "docker.io/library/busybox:latest".to_string()),
        ("busybox:latest", "docker.io/library/busybox:latest".into()),
        ("library/busybox", "docker.io/library/busybox:latest".into()),
        ("docker.io/busybox", "docker.io/library/busybox:latest".into()),
        ("docker.io/library/busybox", "docker.io/library/busybox:latest".into()),
        ("index.docker.io/library/busybox", "docker.io/library/busybox:latest".into()),
        ("gcr.io/library/busybox", "gcr.io/library/busybox:latest".into()),
        ("127.0.0.1:5000/pulp-apache:1", "127.0.0.1:5000/pulp-apache:1".into()),
        ("localhost/debian", "localhost/debian:latest".into()),
    ];
    for (input, expected) in rows {
        assert_eq!(Reference::docker(input).map(|r| r.to_string()), Ok(expected), "{input}");
    }
    let digested = format!("busybox@{BB}");
    assert_eq!(Reference::docker(&digested).unwrap().to_string(), format!("docker.io/library/busybox@{BB}"));
    let both = format!("gcr.io/library/busybox:latest@{BB}");
    assert_eq!(Reference::docker(&both).unwrap().to_string(), format!("gcr.io/library/busybox@{BB}"));
}

/// `TestParseRepositoryInfo`: familiar and full names, and the domain.
#[test]
fn familiar_and_full_names() {
    let rows = [
        ("localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost"),
        ("LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN"),
        ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "docker.io"),
        ("index.docker.io/fooo/bar", "fooo/bar", "docker.io/fooo/bar", "docker.io"),
        ("ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io"),
        ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "docker.io"),
        ("docker.io/foo", "foo", "docker.io/library/foo", "docker.io"),
        ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "docker.io"),
        ("other/library", "other/library", "docker.io/other/library", "docker.io"),
        (
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000",
        ),
        (
            "example.com:8000/privatebasee",
            "example.com:8000/privatebasee",
            "example.com:8000/privatebasee",
            "example.com:8000",
        ),
        ("ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "docker.io"),
        ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "docker.io"),
        ("Foo/bar", "Foo/bar", "Foo/bar", "Foo"),
    ];
    for (input, familiar, full, domain) in rows {
        let r = Reference::normalized(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!((r.familiar_name().as_str(), r.name().as_str(), r.domain()), (familiar, full, domain), "{input}");
    }
    let both = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let r = Reference::normalized(both).unwrap();
    assert_eq!(r.to_string(), format!("docker.io/library/{both}"));
    assert_eq!(r.familiar_string(), both);
}

/// `TestValidateReferenceName` and `TestValidateRemoteName`: which names normalize.
#[test]
fn valid_and_invalid_names() {
    let valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "localhost/library/debian",
        "LOCALDOMAIN/debian",
        "docker.io/docker/docker",
        "index.docker.io/debian",
        "127.0.0.1:5000/library/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
    ];
    for name in valid {
        assert!(Reference::normalized(name).is_ok(), "{name}: {:?}", Reference::normalized(name));
    }
    let invalid = [
        "https://github.com/docker/docker",
        "-docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
    ];
    for name in invalid {
        assert!(Reference::normalized(name).is_err(), "{name} should be refused");
    }
    let texts = [
        ("docker/Docker", "invalid reference format: repository name (docker/Docker) must be lowercase"),
        (
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), cannot specify 64-byte hexadecimal strings",
        ),
        ("-docker/docker", "invalid reference format"),
    ];
    for (name, text) in texts {
        assert_eq!(Reference::normalized(name).unwrap_err().to_string(), text, "{name}");
    }
}

#[test]
fn tags_and_digests_are_checked() {
    let busybox = Reference::normalized("busybox").unwrap();
    assert_eq!(busybox.with_tag("-foo").unwrap_err(), ReferenceError::InvalidTag);
    assert_eq!(busybox.with_digest("foo").unwrap_err(), ReferenceError::DigestFormat);
    assert_eq!(busybox.with_tag("1.36").unwrap().familiar_string(), "busybox:1.36");
    assert_eq!(busybox.registry_host(), DOCKER_HUB_HOST);
    assert_eq!(Reference::docker("127.0.0.1:5000/app").unwrap().registry_host(), "127.0.0.1:5000");
}
