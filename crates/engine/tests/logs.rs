//! Container logs as json-file keeps them: rotated at `max-size`, at most `max-file` files,
//! and read back (all, or a tail) without loading them.

mod common;

use std::collections::BTreeMap;

use common::engine;
use porthole_core::log_config::LogConfig;
use porthole_engine::{CreateOptions, Engine, LogOptions, WaitCondition};

fn log_config(opts: &[(&str, &str)]) -> LogConfig {
    let opts: BTreeMap<String, String> = opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    LogConfig::parse("json-file", &opts).unwrap()
}

/// The log files of a container, by name, with their sizes.
fn log_files(e: &Engine, id: &str) -> Vec<(String, u64)> {
    let dir = e.inspect(id).unwrap().log_path.parent().unwrap().to_path_buf();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|d| d.unwrap())
        .filter(|d| d.file_name().to_string_lossy().starts_with("container.log"))
        .map(|d| (d.file_name().to_string_lossy().into_owned(), d.metadata().unwrap().len()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_chatty_container_keeps_max_file_files_of_max_size_and_tails_its_last_lines() {
    let (_t, e) = engine();
    // About 1.2 MB of log lines (each ~100 bytes of JSON) against 2 files of 100 kB.
    let script = "i=0; while [ $i -lt 12000 ]; do echo line-$i; i=$((i+1)); done";
    let id = e
        .create(CreateOptions {
            image: "busybox".into(),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            log: log_config(&[("max-size", "100k"), ("max-file", "2")]),
            ..Default::default()
        })
        .unwrap();
    let id = id.as_str();
    e.start(id).unwrap();
    assert_eq!(e.wait(id, WaitCondition::NotRunning).unwrap(), 0);

    let files = log_files(&e, id);
    assert_eq!(files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["container.log", "container.log.1"]);
    // One line past max-size at most.
    assert!(files.iter().all(|(_, len)| *len <= 100_000 + 200), "{files:?}");

    let tail: Vec<String> =
        e.logs(id, LogOptions { tail: Some(5), ..Default::default() }).unwrap().past.map(|l| l.unwrap().log).collect();
    assert_eq!(tail, (11_995..12_000).map(|i| format!("line-{i}\n")).collect::<Vec<_>>());

    // Everything kept, oldest first, ending with the last line and without gaps.
    let all: Vec<String> = e.logs(id, LogOptions::default()).unwrap().past.map(|l| l.unwrap().log).collect();
    let first: usize = all[0].trim_end().strip_prefix("line-").unwrap().parse().unwrap();
    assert!(first > 0, "the oldest lines were rotated away");
    assert_eq!(all, (first..12_000).map(|i| format!("line-{i}\n")).collect::<Vec<_>>());

    // The record keeps the options as given, defaults merged in.
    let record = e.inspect(id).unwrap().record;
    assert_eq!(record.host.log.options.get("max-size").map(String::as_str), Some("100k"));
}

#[test]
fn defaults_are_ten_megabytes_and_five_files() {
    let (_t, e) = engine();
    let id = e
        .create(CreateOptions { image: "busybox".into(), cmd: Some(vec!["true".into()]), ..Default::default() })
        .unwrap();
    let log = e.inspect(id.as_str()).unwrap().record.host.log;
    assert_eq!((log.max_size, log.max_file), (10_000_000, 5));
}
