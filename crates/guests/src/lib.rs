//! Paths and bytes of the guest programs in `guests/`, built for `wasm32-wasip1` by this
//! crate's build script. The engine embeds the toolbox (`BUSYBOX_WASM`) as its base image;
//! tests and benchmarks run the others by path.

include!(concat!(env!("OUT_DIR"), "/paths.rs"));
