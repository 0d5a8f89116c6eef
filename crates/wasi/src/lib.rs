//! Porthole's `wasi_snapshot_preview1` host over a per-container mount namespace.
//!
//! wasmtime-wasi gives each preopen its own sandbox, so a symlink from one volume into another
//! can be neither created with an absolute target nor followed across preopens. A container
//! needs the opposite: one file system tree assembled from mounts. Here every mount is a
//! preopen backed by a `cap_std::fs::Dir` (the escape barrier), and every path is walked like a
//! kernel would, across mounts, through symlinks, never above `/`. See ARCHITECTURE.md.
//!
//! Use: build a [`Namespace`], a [`WasiHost`] over it, and [`add_to_linker`].

mod abi;
mod budget;
mod devices;
mod errno;
mod fdtable;
mod filestat;
mod host;
mod linker;
mod memory;
mod namespace;
mod ops;
mod overlay;
mod path;
mod pipe;
mod process;
mod quota;
mod tty;
mod walks;

pub use budget::{FdBudget, FdLease, MIN_SHARE, guest_share_of};
pub use devices::Device;
pub use errno::Errno;
pub use host::{
    DEFAULT_MAX_FDS, GuestExit, IoCounters, Mutation, MutationKind, MutationObserver, StopSignal, Stopped, WasiHost,
    WasiHostBuilder, signal,
};
pub use linker::{HostGetter, add_to_linker};
pub use namespace::{Location, Mount, MountSource, MountSpec, Namespace, NamespaceError};
pub use ops::{apply_mode, mode_of};
pub use overlay::{
    Found, Layers, MAX_LAYERS, Memo, MergedEntry, OPAQUE, Overlay, OverlayError, WHITEOUT_PREFIX, is_reserved,
};
pub use path::{GuestPath, MAX_SYMLINK_HOPS, Node, Trace};
pub use process::{Pid, ProcessContext, ProcessHost, SpawnRequest};
pub use quota::{Quota, measure};
pub use stdio::{Input, Output, Stdio};
pub use tty::{InterruptHook, Tty, TtyMode};
pub use walks::{Walk, WalkBreak, WalkEnd, WalkLink, WalkOp};

mod stdio;

/// Re-exported so callers open mount directories with the same cap-std as the host.
pub use cap_std;
