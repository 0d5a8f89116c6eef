//! Image and container configuration with Docker's JSON field names, so `inspect` output and
//! `--format` templates work as they do against Docker.

use std::collections::BTreeMap;

/// Docker's empty-struct map values (`"Volumes": {"/data": {}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Empty {}

/// `Config` of an image or container (the subset Porthole uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageConfig {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
    /// Keys exactly as the Dockerfile wrote them.
    pub volumes: Option<BTreeMap<String, Empty>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    /// `SHELL`: the shell of shell-form commands (Docker's default `/bin/sh -c` when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// `HEALTHCHECK` / `--health-*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<crate::health::Healthcheck>,
}

impl ImageConfig {
    /// The `VOLUME` destinations, in order.
    pub fn volume_paths(&self) -> Vec<String> {
        self.volumes.as_ref().map(|v| v.keys().cloned().collect()).unwrap_or_default()
    }

    /// The `EXPOSE`d ports (`80/tcp`), in order.
    pub fn exposed_port_keys(&self) -> Vec<String> {
        self.exposed_ports.as_ref().map(|p| p.keys().cloned().collect()).unwrap_or_default()
    }

    /// Sets `KEY=value` in `env`, replacing an earlier value of the same key.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let entry = format!("{key}={value}");
        match self.env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(e) => *e = entry,
            None => self.env.push(entry),
        }
    }

    /// The value of `key` in `env`.
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env.iter().find_map(|e| e.strip_prefix(key)?.strip_prefix('='))
    }
}

/// The command a container runs: Docker's rule is `Entrypoint + Cmd`, where overriding the
/// entrypoint discards the image's `Cmd`.
pub fn command_line(
    image: &ImageConfig,
    entrypoint_override: Option<&[String]>,
    cmd_override: Option<&[String]>,
) -> Vec<String> {
    let entrypoint: Vec<String> = match entrypoint_override {
        Some(e) => e.to_vec(),
        None => image.entrypoint.clone().unwrap_or_default(),
    };
    let cmd: Vec<String> = match (cmd_override, entrypoint_override) {
        (Some(c), _) => c.to_vec(),
        (None, Some(_)) => Vec::new(),
        (None, None) => image.cmd.clone().unwrap_or_default(),
    };
    entrypoint.into_iter().chain(cmd).collect()
}

/// Merges the image's environment with the container's (`-e` wins, key by key).
pub fn merge_env(image: &[String], overrides: &[String]) -> Vec<String> {
    let mut cfg = ImageConfig { env: image.to_vec(), ..ImageConfig::default() };
    for e in overrides {
        if let Some((k, v)) = e.split_once('=') {
            cfg.set_env(k, v)
        }
    }
    cfg.env
}

/// `HOME` for a guest that runs as root: uid 0's home directory in the image's `/etc/passwd`,
/// as runc sets it, or `/root` when the file has no such entry.
pub fn root_home(passwd: &str) -> String {
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && f[2] == "0" && f[5].starts_with('/'))
        .map(|f| f[5].to_string())
        .unwrap_or_else(|| "/root".into())
}

/// The interpreter line of a script (`#!/bin/sh -e`), read as Linux reads it: the first
/// line, at most 256 bytes, the interpreter up to the first blank, the rest (trimmed) one
/// optional argument. `None` when `head` does not start with `#!` or names no interpreter.
pub fn shebang(head: &[u8]) -> Option<(String, Option<String>)> {
    let rest = head.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = &line[..line.len().min(254)];
    let line = String::from_utf8_lossy(line);
    let line = line.trim_matches(|c| c == ' ' || c == '\t' || c == '\r');
    let (interpreter, arg) = match line.split_once([' ', '\t']) {
        Some((i, a)) => (i, Some(a.trim_matches([' ', '\t']).to_string()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    (!interpreter.is_empty()).then(|| (interpreter.to_string(), arg))
}

/// What kind of native program `head` (a file's first bytes) starts, when it is one: the
/// format to name when an image made for another platform is run.
pub fn native_executable(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x7f, b'E', b'L', b'F', ..] => Some("an ELF executable (a Linux program)"),
        [b'M', b'Z', ..] => Some("a PE executable (a Windows program)"),
        [0xcf, 0xfa, 0xed, 0xfe, ..] | [0xce, 0xfa, 0xed, 0xfe, ..] | [0xca, 0xfe, 0xba, 0xbe, ..] => {
            Some("a Mach-O executable (a macOS program)")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_of_root_from_passwd() {
        assert_eq!(
            root_home("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n"),
            "/root"
        );
        assert_eq!(root_home("toor:x:0:0::/home/toor:/bin/sh"), "/home/toor");
        assert_eq!(root_home("nobody:x:65534:65534::/:/bin/false\ngarbage\n"), "/root");
        assert_eq!(root_home(""), "/root");
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn native_programs_are_named_by_format() {
        assert_eq!(native_executable(b"\x7fELF\x02\x01"), Some("an ELF executable (a Linux program)"));
        assert_eq!(native_executable(b"MZ\x90\x00"), Some("a PE executable (a Windows program)"));
        assert_eq!(native_executable(b"\0asm\x01\0\0\0"), None);
        assert_eq!(native_executable(b""), None);
    }

    #[test]
    fn command_line_follows_docker() {
        let img =
            ImageConfig { entrypoint: Some(v(&["/bin/httpd"])), cmd: Some(v(&["-p", "80"])), ..Default::default() };
        assert_eq!(command_line(&img, None, None), v(&["/bin/httpd", "-p", "80"]));
        assert_eq!(command_line(&img, None, Some(&v(&["-p", "8080"]))), v(&["/bin/httpd", "-p", "8080"]));
        assert_eq!(command_line(&img, Some(&v(&["sh"])), None), v(&["sh"]));
        let busybox = ImageConfig { cmd: Some(v(&["sh"])), ..Default::default() };
        assert_eq!(command_line(&busybox, None, Some(&v(&["ls", "/"]))), v(&["ls", "/"]));
    }

    #[test]
    fn env_merges_by_key_and_serializes_like_docker() {
        assert_eq!(merge_env(&v(&["PATH=/bin", "A=1"]), &v(&["A=2", "B=3"])), v(&["PATH=/bin", "A=2", "B=3"]));
        let img = ImageConfig { volumes: Some([("/var/www".to_string(), Empty {})].into()), ..Default::default() };
        let json = serde_json::to_string(&img).unwrap();
        assert!(json.contains("\"Volumes\":{\"/var/www\":{}}"), "{json}");
        assert!(json.contains("\"WorkingDir\":\"\""), "{json}");
    }

    #[test]
    fn interpreter_lines_as_linux_reads_them() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some(("/bin/sh".into(), None)));
        assert_eq!(shebang(b"#! /bin/sh -e \r\n"), Some(("/bin/sh".into(), Some("-e".into()))));
        assert_eq!(shebang(b"#!/usr/bin/env python3 -u\n"), Some(("/usr/bin/env".into(), Some("python3 -u".into()))));
        assert_eq!(shebang(b"#!\n"), None);
        assert_eq!(shebang(b"\0asm"), None);
    }
}
