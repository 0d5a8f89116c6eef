//! Porthole's pure domain. Nothing here does I/O, spawns, sleeps or knows wasmtime or HTTP:
//! functions take plain data and return plain data, so every Docker rule is unit-testable.

pub mod config;
pub mod dockerfile;
pub mod event;
pub mod graph;
pub mod guest_path;
pub mod health;
pub mod lesson;
pub mod log_config;
pub mod mounts;
pub mod names;
pub mod names_gen;
pub mod ports;
pub mod size;
pub mod state;
pub mod time;

#[cfg(test)]
mod mounts_tests;
