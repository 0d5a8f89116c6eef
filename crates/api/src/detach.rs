//! The detach keys of a TTY session (`docker run -it`, `docker attach`, `docker exec -it`):
//! Docker's key-spec syntax (`ctrl-p,ctrl-q`, the default; `--detach-keys`, the API's
//! `detachKeys`) and the scan of the client's raw input for the sequence, as moby's
//! `term.NewEscapeProxy` does before anything else sees the bytes. Pure: no I/O.

/// Docker's default, `ctrl-p,ctrl-q`.
pub const DEFAULT_KEYS: &[u8] = &[0x10, 0x11];

/// A key spec moby's `term.ToBytes` refuses, with its text (`Unknown character: 'ctrl-x1'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown character: '{0}'")]
pub struct UnknownKey(pub String);

/// Parses a comma-separated key spec as moby's `term.ToBytes`: a single character stands for
/// itself, `ctrl-@`, `ctrl-a` … `ctrl-z`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_` for
/// their control codes, `DEL` for 127. An empty spec is Docker's default.
pub fn parse_keys(spec: &str) -> Result<Vec<u8>, UnknownKey> {
    if spec.is_empty() {
        return Ok(DEFAULT_KEYS.to_vec());
    }
    spec.split(',').map(key_code).collect()
}

fn key_code(key: &str) -> Result<u8, UnknownKey> {
    let unknown = || UnknownKey(key.to_string());
    if key.len() == 1 {
        return Ok(key.as_bytes()[0]);
    }
    if key == "DEL" {
        return Ok(127);
    }
    let ctrl = key.strip_prefix("ctrl-").filter(|c| c.len() == 1).ok_or_else(unknown)?.as_bytes()[0];
    match ctrl {
        b'@' => Ok(0),
        b'a'..=b'z' => Ok(ctrl - b'a' + 1),
        b'[' | b'\\' | b']' | b'^' | b'_' => Ok(ctrl - b'@'),
        _ => Err(unknown()),
    }
}

/// What one read of client input comes to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Bytes for the guest, in order; a possible start of the sequence is held back until the
    /// next read shows it is not one.
    pub pass: Vec<u8>,
    /// The whole sequence was typed: the session detaches (what came before it is in `pass`).
    pub detached: bool,
}

/// Looks for the detach sequence across reads, as moby's escape proxy: a byte that breaks a
/// partial match releases the held bytes and restarts the match after it.
#[derive(Debug, Clone)]
pub struct DetachScanner {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachScanner {
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, matched: 0 }
    }

    pub fn feed(&mut self, input: &[u8]) -> Scanned {
        let mut out = Scanned::default();
        for &b in input {
            if self.keys.get(self.matched) == Some(&b) {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    out.detached = true;
                    return out;
                }
                continue;
            }
            out.pass.extend_from_slice(&self.keys[..self.matched]);
            out.pass.push(b);
            self.matched = 0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_as_moby_parses_them() {
        for (spec, want) in [
            ("", Ok(vec![0x10, 0x11])),
            ("ctrl-p,ctrl-q", Ok(vec![0x10, 0x11])),
            ("ctrl-x,a", Ok(vec![0x18, b'a'])),
            ("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,DEL", Ok(vec![0, 27, 28, 29, 30, 31, 127])),
            (",", Err("Unknown character: ''")),
            ("ctrl-1", Err("Unknown character: 'ctrl-1'")),
            ("ctrl-A", Err("Unknown character: 'ctrl-A'")),
            ("ctrl-p,foo", Err("Unknown character: 'foo'")),
        ] {
            assert_eq!(parse_keys(spec).map_err(|e| e.to_string()), want.map_err(str::to_string), "{spec:?}");
        }
    }

    fn scan(chunks: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut s = DetachScanner::new(DEFAULT_KEYS.to_vec());
        let mut pass = Vec::new();
        for c in chunks {
            let r = s.feed(c);
            pass.extend(r.pass);
            if r.detached {
                return (pass, true);
            }
        }
        (pass, false)
    }

    #[test]
    fn the_sequence_detaches_in_one_read_or_across_reads() {
        assert_eq!(scan(&[b"ls\r\x10\x11more"]), (b"ls\r".to_vec(), true));
        assert_eq!(scan(&[b"ls\x10", b"\x11"]), (b"ls".to_vec(), true));
        assert_eq!(scan(&[b"\x10", b"\x11"]), (vec![], true));
    }

    #[test]
    fn a_broken_sequence_is_delivered_whole() {
        assert_eq!(scan(&[b"\x10", b"x"]), (b"\x10x".to_vec(), false));
        assert_eq!(scan(&[b"a\x10b\x11"]), (b"a\x10b\x11".to_vec(), false));
        // As moby's proxy: the byte that breaks a match is not the start of a new one.
        assert_eq!(scan(&[b"\x10\x10\x11"]), (b"\x10\x10\x11".to_vec(), false));
        assert_eq!(scan(&[b"\x10\x10", b"\x10\x11"]), (b"\x10\x10".to_vec(), true));
    }
}
