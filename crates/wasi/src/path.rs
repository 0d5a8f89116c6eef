//! The kernel-like path walk over [`GuestPath`]s (core's type, shared with the mount rules).
//! Pure: the walk asks a [`Lookup`] what each component is, so the same algorithm runs over
//! real mounts and over tables in unit tests.
//!
//! The walk works in the guest's path space: the state is the symlink-free absolute guest path
//! reached so far. Mounts are entered simply by reaching their mount point (the namespace maps
//! a guest path to a mount by longest prefix), `..` pops a component (so `..` at a mount's root
//! lands in the parent mount, and `..` at `/` stays at `/`), and symlink targets are spliced
//! into the remaining components, absolute ones restarting at the container root.

use std::collections::VecDeque;

pub use porthole_core::guest_path::GuestPath;

use crate::errno::Errno;

/// Linux's limit on symlinks followed in one lookup; one more is `ELOOP`.
pub const MAX_SYMLINK_HOPS: usize = 40;
/// Longest path a guest may pass, as Linux's `PATH_MAX`.
pub const PATH_MAX: usize = 4096;
/// Longest single component, as Linux's `NAME_MAX`.
pub const NAME_MAX: usize = 255;

/// What a path names, as far as the walk cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Missing,
    Dir,
    /// Anything that is neither a directory nor a symlink: files, sockets, devices.
    File,
    /// A symlink and its target, byte for byte as stored.
    Symlink(Vec<u8>),
}

/// Answers what a symlink-free guest path names.
pub trait Lookup {
    fn node(&self, path: &GuestPath) -> Result<Node, Errno>;
}

/// Where a walk ended: the symlink-free path and what is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    pub path: GuestPath,
    pub node: Node,
    /// The path named its last component with a trailing `/` (so it must be a directory:
    /// creating a file or link by that name is an error, as on Linux).
    pub trailing_slash: bool,
}

/// Does `path` (as the guest wrote it, before any symlink) climb above the directory it is
/// relative to? WASI refuses such a path for a directory descriptor the guest opened itself
/// (`ENOTCAPABLE`); the preopened mounts instead share one namespace in which `..` leaves a
/// mount, because wasi-libc sends a cwd-relative `../x` relative to the deepest preopen.
pub fn climbs_above_start(path: &[u8]) -> bool {
    let mut depth = 0i64;
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

/// Told the steps of a walk that explain where it ended: each symlink followed and where it
/// broke. `()` records nothing, so an untraced walk does no extra work.
pub trait Trace {
    /// The symlink at `link` is followed to `target` (as stored).
    fn link(&mut self, _link: &GuestPath, _target: &[u8]) {}
    /// `missing` does not exist; the walk stops there (its parent is the last that existed).
    fn missing(&mut self, _missing: &GuestPath) {}
}

impl Trace for () {}

/// Resolves `path` (relative to the directory `start`, or to the container root when absolute)
/// like Linux's path walk. `follow_final` says whether a symlink in the last component is
/// followed; a trailing `/` always follows it and requires a directory.
pub fn walk(lookup: &impl Lookup, start: &GuestPath, path: &[u8], follow_final: bool) -> Result<Walked, Errno> {
    walk_traced(lookup, start, path, follow_final, &mut ())
}

/// [`walk`], telling `trace` each link followed and the component found missing.
pub fn walk_traced(
    lookup: &impl Lookup,
    start: &GuestPath,
    path: &[u8],
    follow_final: bool,
    trace: &mut impl Trace,
) -> Result<Walked, Errno> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.len() > PATH_MAX {
        return Err(Errno::Nametoolong);
    }
    if path.contains(&0) {
        return Err(Errno::Inval);
    }
    let text = std::str::from_utf8(path).map_err(|_| Errno::Ilseq)?;
    let mut cur = if text.starts_with('/') { GuestPath::root() } else { start.clone() };
    let mut queue: VecDeque<String> = text.split('/').map(str::to_string).collect();
    let mut hops = 0;
    let mut final_node: Option<Node> = None;
    let mut trailing_slash = false;

    while let Some(comp) = queue.pop_front() {
        match comp.as_str() {
            "" | "." => continue,
            ".." => {
                cur.pop();
                final_node = None;
                continue;
            }
            name if name.len() > NAME_MAX => return Err(Errno::Nametoolong),
            name => cur.push(name),
        }
        let is_last = queue.iter().all(|c| c.is_empty() || c == ".");
        let trailing = is_last && !queue.is_empty();
        trailing_slash = trailing;
        let node = lookup.node(&cur)?;
        match node {
            Node::Symlink(target) if !is_last || follow_final || trailing => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(Errno::Loop);
                }
                if target.is_empty() {
                    return Err(Errno::Noent);
                }
                let target = std::str::from_utf8(&target).map_err(|_| Errno::Ilseq)?;
                trace.link(&cur, target.as_bytes());
                cur.pop();
                if target.starts_with('/') {
                    cur = GuestPath::root();
                }
                for c in target.split('/').rev() {
                    queue.push_front(c.to_string());
                }
                final_node = None;
            }
            Node::Missing if !is_last => {
                trace.missing(&cur);
                return Err(Errno::Noent);
            }
            Node::File if !is_last || trailing => return Err(Errno::Notdir),
            node => final_node = Some(node),
        }
    }
    let node = match final_node {
        Some(n) => n,
        // The path ended in `.`/`..` or named the start directory itself.
        None => lookup.node(&cur)?,
    };
    Ok(Walked { path: cur, node, trailing_slash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn climbing_above_the_start() {
        for (path, climbs) in [
            ("a/b", false),
            ("a/../b", false),
            ("a/b/../../c", false),
            ("..", true),
            ("a/../..", true),
            ("dir/nested/../../../dir/nested/file", true),
            ("./../x", true),
            ("a//.//..", false),
        ] {
            assert_eq!(climbs_above_start(path.as_bytes()), climbs, "{path}");
        }
    }

    /// A file system as a table: `"/a/b" -> Node`; parents of listed paths are directories.
    struct Table(HashMap<String, Node>);

    impl Lookup for Table {
        fn node(&self, path: &GuestPath) -> Result<Node, Errno> {
            let key = path.to_string();
            if let Some(n) = self.0.get(&key) {
                return Ok(n.clone());
            }
            let is_parent = self.0.keys().any(|k| k.starts_with(&format!("{key}/")) || key == "/");
            Ok(if is_parent { Node::Dir } else { Node::Missing })
        }
    }

    fn table(entries: &[(&str, &str)]) -> Table {
        Table(
            entries
                .iter()
                .map(|(p, n)| {
                    let node = match *n {
                        "dir" => Node::Dir,
                        "file" => Node::File,
                        target => Node::Symlink(target.trim_start_matches("-> ").as_bytes().to_vec()),
                    };
                    (p.to_string(), node)
                })
                .collect(),
        )
    }

    fn check(t: &Table, start: &str, path: &str, follow: bool, expect: &str) {
        let start = GuestPath::parse(start.as_bytes()).unwrap();
        let got = match walk(t, &start, path.as_bytes(), follow) {
            Ok(Walked { path, node: Node::Symlink(t), .. }) => format!("{path} -> {}", String::from_utf8_lossy(&t)),
            Ok(w) => format!("{} {:?}", w.path, w.node),
            Err(e) => format!("{e:?}"),
        };
        assert_eq!(got, expect, "walk {path:?} from {start}");
    }

    fn pulp() -> Table {
        table(&[
            ("/var/lib/pulp/content/f", "file"),
            ("/var/www/pub/f", "-> /var/lib/pulp/content/f"),
            ("/var/www/pub/rel", "-> ../../lib/pulp/content/f"),
            ("/var/www/pub/dangling", "-> /nowhere/f"),
            ("/var/www/pub/gone", "-> /var/lib/pulp/content/gone"),
            ("/var/www/pub/loop", "-> loop"),
            ("/var/www/pub/dirlink", "-> /var/lib/pulp/content"),
            ("/etc/hostname", "file"),
        ])
    }

    #[test]
    fn follows_absolute_and_relative_links_across_mounts() {
        let t = pulp();
        check(&t, "/", "var/www/pub/f", true, "/var/lib/pulp/content/f File");
        check(&t, "/var/www", "pub/rel", true, "/var/lib/pulp/content/f File");
        check(&t, "/var/www", "pub/dirlink/f", false, "/var/lib/pulp/content/f File");
        check(&t, "/var/www", "pub/f", false, "/var/www/pub/f -> /var/lib/pulp/content/f");
        check(&t, "/var/www", "pub/dangling", true, "Noent");
        check(&t, "/var/www", "pub/gone", true, "/var/lib/pulp/content/gone Missing");
    }

    /// Records a walk's trace as text: `link /a -> /b`, `missing /c`.
    #[derive(Default)]
    struct Steps(Vec<String>);

    impl Trace for Steps {
        fn link(&mut self, link: &GuestPath, target: &[u8]) {
            self.0.push(format!("link {link} -> {}", String::from_utf8_lossy(target)));
        }
        fn missing(&mut self, missing: &GuestPath) {
            self.0.push(format!("missing {missing}"));
        }
    }

    #[test]
    fn the_trace_names_each_link_and_where_the_walk_broke() {
        let t = pulp();
        for (start, path, expect) in [
            ("/var/www", "pub/f", "link /var/www/pub/f -> /var/lib/pulp/content/f"),
            ("/var/www", "pub/rel", "link /var/www/pub/rel -> ../../lib/pulp/content/f"),
            ("/", "var/www/pub/dirlink/f", "link /var/www/pub/dirlink -> /var/lib/pulp/content"),
            ("/", "var/www/pub/dangling", "link /var/www/pub/dangling -> /nowhere/f, missing /nowhere"),
            ("/", "etc/hostname", ""),
        ] {
            let mut steps = Steps::default();
            let start = GuestPath::parse(start.as_bytes()).unwrap();
            let _ = walk_traced(&t, &start, path.as_bytes(), true, &mut steps);
            assert_eq!(steps.0.join(", "), expect, "{path}");
        }
    }

    #[test]
    fn dotdot_never_climbs_above_root() {
        let t = pulp();
        check(&t, "/var/www", "../../../../../../etc/hostname", true, "/etc/hostname File");
        check(&t, "/", "/..", true, "/ Dir");
        check(&t, "/var/lib/pulp", "..", true, "/var/lib Dir");
    }

    #[test]
    fn errors_like_linux() {
        let t = pulp();
        check(&t, "/", "var/www/pub/loop", true, "Loop");
        check(&t, "/", "var/www/pub/loop/x", false, "Loop");
        check(&t, "/", "etc/hostname/x", true, "Notdir");
        check(&t, "/", "etc/hostname/", true, "Notdir");
        check(&t, "/", "etc/missing/x", true, "Noent");
        check(&t, "/", "", true, "Noent");
        check(&t, "/", "a\0b", true, "Inval");
        check(&t, "/", &"x/".repeat(2100), true, "Nametoolong");
        check(&t, "/", &"x".repeat(256), true, "Nametoolong");
        let mut bad = b"etc/".to_vec();
        bad.push(0xff);
        assert_eq!(walk(&t, &GuestPath::root(), &bad, true).unwrap_err(), Errno::Ilseq);
    }

    #[test]
    fn trailing_slash_follows_final_link() {
        let t = pulp();
        check(&t, "/", "var/www/pub/dirlink/", false, "/var/lib/pulp/content Dir");
        check(&t, "/", "var/www/pub/dirlink/.", false, "/var/lib/pulp/content Dir");
        check(&t, "/", "newdir/", false, "/newdir Missing");
    }

    #[test]
    fn forty_hops_allowed_forty_one_refused() {
        let mut entries: Vec<(String, String)> =
            (0..41).map(|i| (format!("/l{i}"), format!("-> /l{}", i + 1))).collect();
        entries.push(("/l41".into(), "file".into()));
        let refs: Vec<(&str, &str)> = entries.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let t = table(&refs);
        check(&t, "/", "l1", true, "/l41 File");
        check(&t, "/", "l0", true, "Loop");
    }

    #[test]
    fn mount_paths_parse_cleanly() {
        assert_eq!(GuestPath::parse(b"/data/").unwrap().to_string(), "/data");
        assert_eq!(GuestPath::parse(b"//a/./b").unwrap().to_string(), "/a/b");
        assert_eq!(GuestPath::parse(b"/").unwrap().to_string(), "/");
        assert!(GuestPath::parse(b"data").is_err());
        assert!(GuestPath::parse(b"/a/../b").is_err());
    }
}
