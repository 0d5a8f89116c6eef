//! Porthole's process interface end to end: the `spawner` guest spawns copies of itself through
//! a real process table (pipes, wait statuses, signals, the process limit, the shared mount
//! namespace and memory cap, a stop ending every process). Each scenario prints what it saw.

mod common;

use std::sync::Arc;

use common::{Captured, open_dir, program, runtime};
use porthole_runtime::{Exit, GuestSpec, GuestTree, Limits, MountDesc, Processes, RootDesc, Stdio, Usage};

struct Container {
    dir: tempfile::TempDir,
    tree: GuestTree,
    table: Processes,
    usage: Arc<Usage>,
    limits: Limits,
}

fn container(pids_limit: Option<usize>, memory: Option<u64>) -> Container {
    let dir = tempfile::tempdir().unwrap();
    let (root, data) = (dir.path().join("root"), dir.path().join("data"));
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(porthole_guests::SPAWNER, root.join("bin/spawner")).unwrap();
    std::fs::write(root.join("notwasm"), "#just text\n").unwrap();
    let tree = GuestTree::new(
        RootDesc { dir: open_dir(&root), lowers: Vec::new(), read_only: false, quota: None },
        vec![MountDesc::dir("/data", open_dir(&data), false), MountDesc::dir("/ro", open_dir(&data), true)],
    )
    .unwrap();
    let usage = Arc::new(Usage::default());
    let limits = Limits::with_memory(memory);
    let table =
        Processes::new(runtime(), Arc::new(common::BinLauncher), limits.clone(), Some(usage.clone()), pids_limit);
    Container { dir, tree, table, usage, limits }
}

/// Runs `spawner args…` as the container's pid 1; its stdout and how it ended.
fn run_in(c: &Container, args: &[&str]) -> (String, Exit) {
    let out = Captured::default();
    let stdio = Stdio { stdout: Box::new(out.clone()), stderr: Box::new(std::io::stderr()), ..Stdio::default() };
    let guest = GuestSpec {
        args: std::iter::once("spawner").chain(args.iter().copied()).map(String::from).collect(),
        stdio,
        stopper: Some(runtime().stopper()),
        processes: Some(c.table.clone()),
        usage: Some(c.usage.clone()),
        ..GuestSpec::new(c.tree.clone())
    }
    .prepare()
    .unwrap();
    let exit = runtime().run(&program(porthole_guests::SPAWNER), guest, &c.limits).unwrap();
    (out.text(), exit)
}

fn run(args: &[&str]) -> String {
    let c = container(None, None);
    let (out, exit) = run_in(&c, args);
    assert_eq!(exit, Exit::Code(0), "{out}");
    assert_eq!(c.table.list().len(), 0);
    assert!(c.table.is_empty(), "every process left the table: {:?}", c.table.list());
    out
}

#[test]
fn a_pipeline_of_two_children_passes_megabytes_and_ends_with_eof() {
    assert_eq!(run(&["pipeline", "3145728"]), "counted 3145728\nstatuses 0 0\n");
}

#[test]
fn a_writer_blocks_on_a_full_pipe_until_it_is_read() {
    assert_eq!(run(&["backpressure", "1048576"]), "blocked true\nread 1048576 status 0\n");
}

#[test]
fn a_writer_without_a_reader_ends_with_sigpipe() {
    assert_eq!(run(&["sigpipe"]), "status 141\n");
}

#[test]
fn wait_gives_exit_codes_and_128_plus_the_signal() {
    // ECHILD is WASI's 12, ESRCH 71.
    assert_eq!(run(&["statuses"]), "exit 3\nterm 143\nint 130\nkill 137\nspin 143\nnochild 12\nnosuch 71\n");
}

#[test]
fn a_missing_program_is_enoent_and_a_non_module_enoexec() {
    // ENOENT is WASI's 44 (a shell's 127), ENOEXEC 45 (126).
    assert_eq!(run(&["notfound"]), "missing 44\nmissing-path 44\nnot-wasm 45\n");
}

#[test]
fn the_process_limit_refuses_with_eagain() {
    let c = container(Some(5), None);
    let (out, exit) = run_in(&c, &["limit"]);
    // pid 1 and four children fill five places; EAGAIN is WASI's 6.
    assert_eq!((out.as_str(), exit), ("spawned 4 then 6\n", Exit::Code(0)));
}

#[test]
fn children_share_the_mount_namespace() {
    assert_eq!(run(&["namespace"]), "status 0\nread hello\n");
}

#[test]
fn the_memory_cap_is_shared_by_every_process() {
    let c = container(None, Some(64 << 20));
    let (out, exit) = run_in(&c, &["memory", "40", "40"]);
    assert_eq!((out.as_str(), exit), ("child 137\n", Exit::Code(0)));
    let (out, exit) = run_in(&container(None, Some(64 << 20)), &["memory", "1", "8"]);
    assert_eq!((out.as_str(), exit), ("ate 8\nchild 0\n", Exit::Code(0)));
}

#[test]
fn a_caught_signal_interrupts_a_blocking_read_and_is_pending() {
    // EINTR is WASI's 27; INT is bit 2.
    assert_eq!(run(&["caught"]), "read 27\npending 4\nkiller 0\n");
}

#[test]
fn stopping_the_container_ends_every_process() {
    let c = Arc::new(container(None, None));
    let main = {
        let c = c.clone();
        std::thread::spawn(move || run_in(&c, &["family"]))
    };
    while c.table.list().len() < 2 {
        std::thread::yield_now();
    }
    let table = c.table.list();
    assert_eq!(
        table.iter().map(|p| (p.pid, p.ppid, p.argv.join(" "))).collect::<Vec<_>>(),
        [(1, 0, "spawner family".to_string()), (2, 1, "spawner sleep".to_string())]
    );
    c.table.stop_all();
    let (_, exit) = main.join().unwrap();
    assert_eq!(exit, Exit::Stopped);
    while !c.table.is_empty() {
        std::thread::yield_now();
    }
}

#[test]
fn file_modes_are_kept_and_applied_to_the_host_file_without_taking_the_controllers_access() {
    use std::os::unix::fs::PermissionsExt;
    let c = container(None, None);
    let (out, exit) = run_in(&c, &["modes"]);
    // EROFS is WASI's 69.
    assert_eq!((out.as_str(), exit), ("/data/f 4750\n/data/f 644\n/data/f 0\n/data/d 555\nro 69\n", Exit::Code(0)));
    let host = |p: &str| std::fs::metadata(c.dir.path().join("data").join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!((host("f"), host("d")), (0o600, 0o755));
}
