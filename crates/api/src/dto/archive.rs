//! `docker cp`'s path stat: Docker's `PathStat` as JSON, base64-encoded into the
//! `X-Docker-Container-Path-Stat` header, with the mode as Go's `os.FileMode`.

use porthole_core::time::rfc3339_nanos;
use porthole_engine::PathStat;
use serde::Serialize;

pub const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStatJson {
    pub name: String,
    pub size: u64,
    pub mode: u32,
    pub mtime: String,
    pub link_target: String,
}

impl From<&PathStat> for PathStatJson {
    fn from(s: &PathStat) -> Self {
        PathStatJson {
            name: s.name.clone(),
            size: s.size,
            mode: go_file_mode(s.mode),
            mtime: rfc3339_nanos(s.mtime),
            link_target: s.link_target.clone(),
        }
    }
}

impl PathStatJson {
    /// The header value: the JSON, base64-encoded.
    pub fn header(&self) -> String {
        base64(&serde_json::to_vec(self).expect("a stat serializes"))
    }
}

/// A Unix `st_mode` as Go's `os.FileMode`: the permission bits stay, the type and the
/// set-id/sticky bits move to Go's high bits (the CLI asks `Mode.IsDir()`, `ModeSymlink`).
fn go_file_mode(mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let kind = match mode & 0o170000 {
        0o040000 => DIR,
        0o120000 => SYMLINK,
        0o060000 => DEVICE,
        0o020000 => DEVICE | CHAR_DEVICE,
        0o010000 => NAMED_PIPE,
        0o140000 => SOCKET,
        _ => 0,
    };
    let special = [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)]
        .iter()
        .filter(|(unix, _)| mode & unix != 0)
        .fold(0, |acc, (_, go)| acc | go);
    kind | special | (mode & 0o777)
}

/// Standard base64 with padding, as Go's `base64.StdEncoding`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_go_std_encoding() {
        for (input, expect) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(base64(input.as_bytes()), expect, "{input}");
        }
    }

    #[test]
    fn modes_are_go_file_modes() {
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
    }
}
