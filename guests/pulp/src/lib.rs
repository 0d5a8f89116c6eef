//! The Pulp workload's guests, `pulp-worker` and `httpd`. What decides (manifest and request
//! parsing, path rules, ranges, formats, what to answer) lives in plain modules that build and
//! are tested natively; only `sys` and `server`, the WASI system calls and the event loop, need
//! the guest target.

pub mod clf;
pub mod confine;
pub mod http;
pub mod listing;
pub mod manifest;
pub mod mime;
pub mod options;
pub mod range;
pub mod serve;
pub mod sync;
pub mod urlpath;

#[cfg(test)]
mod scratch;

#[cfg(target_os = "wasi")]
pub mod server;
#[cfg(target_os = "wasi")]
mod sys;
