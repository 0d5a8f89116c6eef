//! Classroom lessons on the engine's side: the shipped lessons (compiled in, so a fresh machine
//! has them) and the facts a lesson's checks need, gathered now — each path resolved in the
//! container's own namespace as its guests would (through links across mounts, never followed
//! on the host), and each published port asked over HTTP. `porthole_core::lesson` decides.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use porthole_core::guest_path::GuestPath;
use porthole_core::lesson::{self, FileFact, FileOutcome, HttpFact, Lesson, Need, Snapshot, Step, StepOutcome};
use porthole_runtime::{Node, Trace};

use crate::{Engine, EngineError, Result};

/// A lesson shipped with Porthole: its name (the file's stem) and its text.
#[derive(Debug, Clone, Copy)]
pub struct ShippedLesson {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(ShippedLesson { name: $name, text: include_str!(concat!("../../../lessons/", $name, ".toml")) }),*]
    };
}

/// The lessons of `lessons/`, in teaching order.
pub const SHIPPED: &[ShippedLesson] =
    shipped!["post-2014", "volume-defaults", "named-and-bind", "volumes-from", "lifecycle", "pulp-mirror",];

/// A shipped lesson by name, parsed (every shipped lesson parses: a test makes sure).
pub fn shipped(name: &str) -> Result<Lesson> {
    let found = SHIPPED.iter().find(|l| l.name == name).ok_or_else(|| EngineError::NoSuchLesson(name.to_string()))?;
    lesson::parse(found.text).map_err(|e| EngineError::Invalid(format!("lesson {name}: {e}")))
}

/// Step `n` (from 1) of a shipped lesson.
pub fn shipped_step(name: &str, n: usize) -> Result<Step> {
    let lesson = shipped(name)?;
    let count = lesson.steps.len();
    n.checked_sub(1).and_then(|i| lesson.steps.into_iter().nth(i)).ok_or_else(|| EngineError::NoSuchLessonStep {
        lesson: name.to_string(),
        step: n,
        count,
    })
}

/// How much of a file a `file_content` check sees.
const CONTENT_LIMIT: u64 = 64 * 1024;

impl Engine {
    /// `step`'s preconditions and checks, evaluated against the engine as it is now.
    pub fn lesson_step_outcome(&self, step: &Step) -> StepOutcome {
        let snap = self.lesson_snapshot(&lesson::needs(step.requires.iter().chain(&step.checks)));
        StepOutcome::of(step, &snap)
    }

    /// The world, plus what `needs` asks for. The world is taken in one moment under the lock;
    /// files and ports are looked at after it, without it.
    pub fn lesson_snapshot(&self, needs: &[Need]) -> Snapshot {
        let mut snap = Snapshot { world: self.graph_input(), ..Default::default() };
        for need in needs {
            match need {
                Need::File { container, path } => snap.files.push(FileFact {
                    container: container.clone(),
                    path: path.clone(),
                    outcome: self.file_outcome(container, path),
                }),
                Need::Http { container, path } => snap.http.push(HttpFact {
                    container: container.clone(),
                    path: path.clone(),
                    outcome: self.http_status(container, path),
                }),
            }
        }
        snap
    }

    fn file_outcome(&self, container: &str, path: &GuestPath) -> FileOutcome {
        let tree = match self.inspect(container).and_then(|info| self.guest_tree(&info.record, &Default::default())) {
            Ok(tree) => tree,
            Err(e) => return FileOutcome::NoContainer { why: e.to_string() },
        };
        let mut trace = Breaks::default();
        match tree.resolve_traced(&GuestPath::root(), path.as_str(), true, &mut trace) {
            Ok(r) if r.node == Node::File => {
                let mut content = Vec::new();
                let read = tree
                    .open_file(path.as_str())
                    .map_err(|e| e.to_string())
                    .and_then(|f| f.take(CONTENT_LIMIT).read_to_end(&mut content).map_err(|e| e.to_string()));
                match read {
                    Ok(_) => FileOutcome::File {
                        mount: tree.mount_point(r.mount).clone(),
                        to: r.path,
                        content: String::from_utf8_lossy(&content).into_owned(),
                    },
                    Err(why) => FileOutcome::Broken { why },
                }
            }
            Ok(r) if r.node == Node::Missing => FileOutcome::Broken { why: trace.why(&r.path) },
            Ok(r) => FileOutcome::NotAFile { to: r.path },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileOutcome::Broken { why: trace.why(path) },
            Err(e) => FileOutcome::Broken { why: format!("{e} on the way") },
        }
    }

    /// The status of `GET path` on the container's first published port.
    fn http_status(&self, container: &str, path: &str) -> std::result::Result<u16, String> {
        let info = self.inspect(container).map_err(|e| e.to_string())?;
        let port =
            info.ports.first().ok_or_else(|| format!("container {container} publishes no port (is it running?)"))?;
        let mut addr = port.host;
        // A port published on every address is reached on loopback.
        if addr.ip().is_unspecified() {
            addr = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port());
        }
        http_status_of(addr, path).map_err(|e| format!("{addr}: {e}"))
    }
}

/// What a walk that found nothing went through: the links it followed and the first missing
/// component, to tell a student where the path leaves what the container has.
#[derive(Default)]
struct Breaks {
    links: Vec<(GuestPath, String)>,
    missing: Option<GuestPath>,
}

impl Trace for Breaks {
    fn link(&mut self, link: &GuestPath, target: &[u8]) {
        self.links.push((link.clone(), String::from_utf8_lossy(target).into_owned()));
    }

    fn missing(&mut self, missing: &GuestPath) {
        self.missing.get_or_insert_with(|| missing.clone());
    }
}

impl Breaks {
    /// `it follows the link /var/www/x to /var/lib/pulp/content/1, and /var/lib/pulp does not
    /// exist in this container`.
    fn why(&self, end: &GuestPath) -> String {
        let missing = self.missing.as_ref().unwrap_or(end);
        let gone = format!("{missing} does not exist in this container");
        match self.links.last() {
            Some((link, target)) => format!("it follows the link {link} to {target}, and {gone}"),
            None => gone,
        }
    }
}

/// The status a web server at `addr` answers `GET path` with (the lesson checks, and
/// `porthole demo` waiting for its web server).
pub fn http_status_of(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(conn, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    conn.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `lessons/` is shipped, and every shipped lesson parses.
    #[test]
    fn every_lesson_file_is_shipped_and_parses() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lessons");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut names: Vec<String> = SHIPPED.iter().map(|l| l.name.to_string()).collect();
        names.sort();
        assert_eq!(files, names);
        for l in SHIPPED {
            shipped(l.name).unwrap();
        }
    }
}
