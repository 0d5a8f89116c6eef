//! Paths of the guest programs in `guests/`, built for `wasm32-wasip1` by this crate's build
//! script. Only tests and benchmarks depend on it.

include!(concat!(env!("OUT_DIR"), "/paths.rs"));
