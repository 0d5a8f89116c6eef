//! `docker pull`, `docker push` and `docker login`: the registry client (`porthole-registry`)
//! moves an OCI image layout, and the layout is loaded into the store or saved from it
//! (`load_oci_layout` / `save_oci_layout`). The layout is in one of the store's transfer
//! directories (`oci::Transfer`), so recovery sweeps what a controller that died mid-transfer
//! left.

use porthole_registry::{Credentials, Progress, Reference};

use crate::oci::Transfer;
use crate::{Engine, EngineError, Result};

impl Engine {
    /// Pulls `reference` (normalized, with a tag or digest) and tags the image by its familiar
    /// name (`busybox:latest`, `127.0.0.1:5000/app:1`), reporting Docker's progress steps.
    pub fn pull(
        &self,
        reference: &Reference,
        credentials: &Credentials,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let local = reference.familiar_string();
        let before = self.image_inspect(&local).ok().map(|(image, _)| image.id);
        // The base image is built in, not a registry's (Docker Hub's busybox is Linux): a
        // tutorial's `docker pull busybox` finds it here, as before Porthole pulled.
        if local == crate::images::BASE_IMAGE && before.is_some() {
            progress(Progress::Status(format!("Status: Image is up to date for {local}")));
            return Ok(());
        }
        let transfer = Transfer::new(&self.inner.store)?;
        let (dir, _) = transfer.dir("layout")?;
        let pulled = self.inner.registry.pull(reference, credentials, &dir, progress)?;
        // The layout names the image by its full name, which the load tags by its familiar
        // one (`local`); a pull by digest names nothing, as Docker tags nothing.
        self.load_oci_layout(&dir)?;
        for layer in &pulled.layers {
            progress(Progress::PullComplete(layer.clone()));
        }
        progress(Progress::Digest(pulled.digest));
        let after = self.image_inspect(&local).ok().map(|(image, _)| image.id);
        let status =
            if before.is_some() && before == after { "Image is up to date for" } else { "Downloaded newer image for" };
        progress(Progress::Status(format!("Status: {status} {local}")));
        Ok(())
    }

    /// Pushes the local image `reference` names (its familiar name) to its registry.
    pub fn push(
        &self,
        reference: &Reference,
        credentials: &Credentials,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let local = reference.familiar_string();
        if self.image_inspect(&local).is_err() {
            return Err(EngineError::NoSuchTag(local));
        }
        let transfer = Transfer::new(&self.inner.store)?;
        let (dir, _) = transfer.dir("layout")?;
        self.save_oci_layout(std::slice::from_ref(&local), &dir)?;
        self.inner.registry.push(&dir, reference, credentials, progress)?;
        Ok(())
    }

    /// `docker login`: the registry at `server` is asked with the credentials.
    pub fn login(&self, server: &str, credentials: &Credentials) -> Result<()> {
        Ok(self.inner.registry.login(server, credentials)?)
    }
}
