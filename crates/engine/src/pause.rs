//! `docker pause` / `unpause`: every guest of the container (its main program and its execs)
//! waits at its next safepoint, using no CPU, until unpaused; a stop or kill still ends it.
//! Health probes wait too (Docker does not probe a paused container), and a new exec is
//! refused with Docker's words.

use porthole_core::event::EventType;
use porthole_core::state::StateError;

use crate::{Engine, Result};

impl Engine {
    pub fn pause(&self, reference: &str) -> Result<()> {
        self.set_paused(reference, true)
    }

    pub fn unpause(&self, reference: &str) -> Result<()> {
        self.set_paused(reference, false)
    }

    fn set_paused(&self, reference: &str, paused: bool) -> Result<()> {
        let mut w = self.world();
        let id = w.container_id(reference)?;
        let c = w.containers.get_mut(&id).expect("looked up above");
        let Some(running) = c.running.as_mut() else {
            return Err(StateError::NotRunning(id.to_string()).into());
        };
        match (running.paused, paused) {
            (true, true) => return Err(StateError::AlreadyPaused(id.to_string()).into()),
            (false, false) => return Err(StateError::NotPaused(id.to_string()).into()),
            _ => {}
        }
        running.paused = paused;
        let stoppers = std::iter::once(running.stopper()).chain(c.execs.values().map(|e| &e.stopper));
        for s in stoppers {
            if paused { s.pause() } else { s.resume() }
        }
        running.processes.set_paused(paused);
        let event = self
            .event(EventType::Container, if paused { "pause" } else { "unpause" }, id.as_str())
            .with("name", c.record.name.as_str())
            .with("image", &c.record.image);
        drop(w);
        self.emit(event);
        Ok(())
    }

    /// Whether the container is paused now (a health probe waits while it is).
    pub(crate) fn is_paused(&self, id: &porthole_core::names::Id) -> bool {
        self.world().containers.get(id).and_then(|c| c.running.as_ref()).is_some_and(|r| r.paused)
    }
}
