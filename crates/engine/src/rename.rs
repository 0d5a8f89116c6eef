//! `docker rename`: a container's name changes under the world lock, with Docker's checks and
//! texts, and its record is saved before the world changes.

use porthole_core::event::EventType;
use porthole_core::names::{ContainerName, Id};

use crate::error::IoContext;
use crate::{Engine, EngineError, Result, World};

impl World {
    /// Who holds `name`: a container, or one being created.
    pub(crate) fn name_holder(&self, name: &ContainerName) -> Option<&Id> {
        self.containers
            .iter()
            .find(|(_, c)| &c.record.name == name)
            .map(|(id, _)| id)
            .or_else(|| self.creating.iter().find(|(_, r)| &r.name == name).map(|(id, _)| id))
    }
}

impl Engine {
    pub fn rename(&self, reference: &str, new_name: &str) -> Result<()> {
        if reference.is_empty() || new_name.is_empty() {
            return Err(EngineError::RenameEmpty);
        }
        let name = ContainerName::new(new_name)?;
        let mut w = self.world();
        let id = w.container_id(reference)?;
        let old = w.containers[&id].record.name.clone();
        if old == name {
            return Err(EngineError::RenameToSame);
        }
        if let Some(holder) = w.name_holder(&name) {
            return Err(EngineError::NameInUse { name: name.to_string(), id: holder.to_string() });
        }
        let c = w.containers.get_mut(&id).expect("looked up above");
        let mut record = c.record.clone();
        record.name = name;
        self.inner.store.save_container(&record).context(|| format!("saving container {id}"))?;
        let event = self
            .event(EventType::Container, "rename", id.as_str())
            .with("name", record.name.as_str())
            .with("image", &record.image)
            .with("oldName", format!("/{old}"));
        c.record = record;
        self.emit(event);
        Ok(())
    }
}
