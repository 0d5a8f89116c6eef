//! The `wasi_snapshot_preview1` functions, as methods on [`WasiHost`](crate::WasiHost), grouped
//! by what they touch. Each takes the guest's memory and its raw arguments and returns an errno
//! or a trap; [`crate::linker`] binds them to the import names.

mod dev;
mod fd;
mod misc;
mod mode;
pub use mode::{apply_mode, mode_of};
pub(crate) mod path;
pub(crate) mod poll;
mod sock;
