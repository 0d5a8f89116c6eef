//! Keeps a flood of file or walk events (a guest writing 10,000 files, a web server answering
//! thousands of requests) from drowning the event stream and the page: per window and kind, at
//! most one event per (container, path) and at most [`Coalescer::MAX_PER_WINDOW`] in all; the
//! rest are counted and reported once per window as one `burst` event of that kind per
//! container. Other events always pass.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use porthole_core::event::{Event, EventType};

#[derive(Debug)]
pub struct Coalescer {
    window_start: Instant,
    seen: HashSet<(EventType, String, String)>,
    passed: BTreeMap<EventType, usize>,
    /// Per kind and container: events held back this window and the last path among them.
    held: BTreeMap<(EventType, String), (u64, String)>,
}

impl Coalescer {
    pub const WINDOW: Duration = Duration::from_millis(100);
    pub const MAX_PER_WINDOW: usize = 50;

    pub fn new(now: Instant) -> Self {
        Coalescer { window_start: now, seen: HashSet::new(), passed: BTreeMap::new(), held: BTreeMap::new() }
    }

    /// Should `e` be sent now? Call [`Coalescer::flush`] first so windows roll over.
    pub fn offer(&mut self, e: &Event) -> bool {
        if !matches!(e.kind, EventType::File | EventType::Walk) {
            return true;
        }
        let path = e.attributes.get("path").cloned().unwrap_or_default();
        let fresh = self.seen.insert((e.kind, e.actor_id.clone(), path.clone()));
        let passed = self.passed.entry(e.kind).or_default();
        if fresh && *passed < Self::MAX_PER_WINDOW {
            *passed += 1;
            return true;
        }
        let held = self.held.entry((e.kind, e.actor_id.clone())).or_default();
        held.0 += 1;
        held.1 = path;
        false
    }

    /// Ends the window if it is over: returns one `burst` event per kind and container that had
    /// events held back (attributes `count` and `path`, the last one held).
    pub fn flush(&mut self, now: Instant, time_nano: i64) -> Vec<Event> {
        if now.duration_since(self.window_start) < Self::WINDOW {
            return Vec::new();
        }
        self.window_start = now;
        self.seen.clear();
        self.passed.clear();
        std::mem::take(&mut self.held)
            .into_iter()
            .map(|((kind, container), (count, path))| {
                Event::new(kind, "burst", &container, time_nano).with("count", count.to_string()).with("path", path)
            })
            .collect()
    }

    /// Is anything held back (so the caller should flush when the window ends)?
    pub fn pending(&self) -> bool {
        !self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(container: &str, path: &str) -> Event {
        Event::new(EventType::File, "write", container, 0).with("path", path)
    }

    #[test]
    fn ten_thousand_files_become_a_few_events() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(t0);
        let passed = (0..10_000).filter(|i| c.offer(&write("c1", &format!("/d/f{i}")))).count();
        assert_eq!(passed, Coalescer::MAX_PER_WINDOW);
        assert!(c.flush(t0 + Duration::from_millis(50), 0).is_empty(), "window not over yet");
        let bursts = c.flush(t0 + Coalescer::WINDOW, 7);
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].action, "burst");
        assert_eq!(bursts[0].attributes["count"], "9950");
        assert_eq!(bursts[0].attributes["path"], "/d/f9999");
        assert!(!c.pending());
    }

    #[test]
    fn one_event_per_path_per_window_and_others_pass() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(t0);
        assert!(c.offer(&write("c1", "/a")));
        assert!(!c.offer(&write("c1", "/a")));
        assert!(c.offer(&write("c2", "/a")));
        assert!(c.offer(&Event::new(EventType::Container, "start", "c1", 0)));
        assert_eq!(c.flush(t0 + Coalescer::WINDOW, 0).len(), 1);
        assert!(c.offer(&write("c1", "/a")), "a new window");
    }

    #[test]
    fn walks_are_coalesced_apart_from_file_events() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(t0);
        let walk = |path: &str| Event::new(EventType::Walk, "walk", "c1", 0).with("path", path);
        assert!(c.offer(&walk("/var/www/pub/f")));
        assert!(!c.offer(&walk("/var/www/pub/f")));
        assert!(c.offer(&write("c1", "/var/www/pub/f")), "a write of the same path is another kind");
        let bursts = c.flush(t0 + Coalescer::WINDOW, 0);
        assert_eq!(bursts.len(), 1);
        assert_eq!((bursts[0].kind, bursts[0].action.as_str()), (EventType::Walk, "burst"));
        assert!(c.offer(&walk("/var/www/pub/f")), "a new window");
    }
}
