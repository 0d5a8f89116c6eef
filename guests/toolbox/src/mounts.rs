//! The container's mount table, read from `/proc/mounts`, which the engine writes in Linux's
//! format: `SOURCE TARGET FSTYPE OPTIONS 0 0`, with space, tab, newline and backslash inside a
//! field escaped as octal (`\040`).

use std::io;

pub const PROC_MOUNTS: &str = "/proc/mounts";

/// One line of `/proc/mounts`, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub source: String,
    pub target: String,
    pub fstype: String,
    pub options: String,
}

/// Reads and parses `/proc/mounts`; lines with fewer than four fields are skipped.
pub fn read() -> io::Result<Vec<MountEntry>> {
    Ok(parse(&std::fs::read_to_string(PROC_MOUNTS)?))
}

pub fn parse(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(unescape);
            Some(MountEntry {
                source: fields.next()?,
                target: fields.next()?,
                fstype: fields.next()?,
                options: fields.next()?,
            })
        })
        .collect()
}

/// Decodes `\NNN` octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, b| n.wrapping_mul(8).wrapping_add(b - b'0')));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
