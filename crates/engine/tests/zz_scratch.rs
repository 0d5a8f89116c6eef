use porthole_runtime::{Runtime, RuntimeConfig};
#[test]
fn scratch() {
    let dir = tempfile::tempdir().unwrap();
    for (label, cache) in [("no cache", None), ("cold disk cache", Some(dir.path().to_path_buf())), ("warm disk cache", Some(dir.path().to_path_buf()))] {
        let rt = Runtime::new(RuntimeConfig { module_cache: cache }).unwrap();
        let t = std::time::Instant::now();
        rt.load(porthole_guests::USERLAND_WASM).unwrap();
        println!("userland {} bytes, {label}: {:?}", porthole_guests::USERLAND_WASM.len(), t.elapsed());
    }
}
