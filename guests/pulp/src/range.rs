//! The `Range` header for one byte range (RFC 9110, 14): what to send of a file of a given
//! length. Several ranges, or a header this parser does not understand, get the whole file, which
//! the RFC allows; a range wholly past the end gets 416.

/// What part of a representation of `len` bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Full,
    /// Bytes `start..=end`.
    Part {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

pub fn select(header: Option<&str>, len: u64) -> Selection {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Selection::Full };
    if spec.contains(',') {
        return Selection::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Selection::Full };
    let number =
        |s: &str| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    match (first, last) {
        ("", suffix) => match number(suffix) {
            None => Selection::Full,
            Some(0) => Selection::Unsatisfiable,
            Some(_) if len == 0 => Selection::Unsatisfiable,
            Some(n) => Selection::Part { start: len.saturating_sub(n), end: len - 1 },
        },
        (first, last) => {
            let Some(start) = number(first) else { return Selection::Full };
            let end = match last {
                "" => u64::MAX,
                l => match number(l) {
                    Some(e) if e >= start => e,
                    _ => return Selection::Full,
                },
            };
            if start >= len { Selection::Unsatisfiable } else { Selection::Part { start, end: end.min(len - 1) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Selection::*;

    #[test]
    fn ranges_against_a_100_byte_file() {
        let cases = [
            (None, Full),
            (Some("bytes=0-9"), Part { start: 0, end: 9 }),
            (Some("bytes=90-"), Part { start: 90, end: 99 }),
            (Some("bytes=90-500"), Part { start: 90, end: 99 }),
            (Some("bytes=-10"), Part { start: 90, end: 99 }),
            (Some("bytes=-500"), Part { start: 0, end: 99 }),
            (Some("bytes=100-"), Unsatisfiable),
            (Some("bytes=-0"), Unsatisfiable),
            (Some("bytes=0-1,5-6"), Full),
            (Some("bytes=5-1"), Full),
            (Some("bytes=a-b"), Full),
            (Some("bytes=+1-2"), Full),
            (Some("items=0-1"), Full),
        ];
        for (header, want) in cases {
            assert_eq!(select(header, 100), want, "{header:?}");
        }
        assert_eq!(select(Some("bytes=-1"), 0), Unsatisfiable);
        assert_eq!(select(Some("bytes=0-"), 0), Unsatisfiable);
    }
}
