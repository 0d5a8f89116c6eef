//! Output post-processing of a terminal, for `-t` sessions: the client's terminal is raw, so
//! what a kernel pty would add to the output (`ONLCR`) is added here. The input side, the line
//! discipline, runs where the guest reads it (`porthole_runtime::Tty`).

/// Output post-processing of a terminal (`ONLCR`): each `\n` is shown as `\r\n`.
pub fn onlcr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_newlines() {
        assert_eq!(onlcr(b"a\nb\n"), b"a\r\nb\r\n");
    }
}
