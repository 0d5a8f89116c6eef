//! Porthole's side of image registries: Docker's references ([`reference`], pure) and a client
//! of the OCI distribution API ([`client`]) that moves OCI image layouts ([`layout`]) to and
//! from a registry, speaking plain HTTP only to the registries [`endpoint`] allows.
//!
//! The layout directory is the whole interface with the engine: a pull writes one, the engine
//! loads it; the engine saves one, a push sends it. Nothing here knows Porthole's store.

pub mod client;
pub mod endpoint;
mod error;
pub mod layout;
mod progress;
pub mod reference;

pub use client::{CONNECT_TIMEOUT, Credentials, Pulled, Pushed, Registry};
pub use error::{ErrorKind, RegistryError};
pub use progress::{Progress, short};
pub use reference::{Reference, ReferenceError};
