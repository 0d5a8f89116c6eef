//! What the archive applets share: UTC dates for listings and zip's DOS times, `ls`-style mode
//! strings, and making a member name safe to extract below a directory.

use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, NaiveDateTime};

/// Seconds since the epoch as a UTC date and time (the container's zone), for listings and
/// zip's DOS times; the epoch for what cannot be shown.
pub fn utc(secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs, 0).unwrap_or_default().naive_utc()
}

/// `drwxr-xr-x`: the kind letter then the nine permission bits (with s/t where set).
pub fn mode_string(kind: char, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind);
    for (shift, special, lower) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = mode >> shift;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => lower,
            (false, true) => lower.to_ascii_uppercase(),
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// A member name as it may be extracted: leading `/` removed (as GNU tar and Info-ZIP do), and
/// `None` for a name that climbs out with `..`.
pub fn safe_member(name: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in name.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(951_782_400).to_string(), "2000-02-29 00:00:00");
    }

    #[test]
    fn modes_read_like_ls() {
        assert_eq!(mode_string('d', 0o755), "drwxr-xr-x");
        assert_eq!(mode_string('-', 0o4754), "-rwsr-xr--");
        assert_eq!(mode_string('d', 0o1777), "drwxrwxrwt");
    }

    #[test]
    fn members_stay_below_the_target() {
        assert_eq!(safe_member(Path::new("/etc/passwd")), Some(PathBuf::from("etc/passwd")));
        assert_eq!(safe_member(Path::new("a/../../x")), None);
    }
}
