//! The base image's `vi` (kibi) on `docker run -it`: it opens `/dev/tty`, asks the terminal
//! for its size with a cursor-position query, draws its screen, and quits on Ctrl-Q. Typed
//! through a pseudo-terminal into the real docker CLI, the terminal's answer typed as a
//! terminal would send it.
//!
//! Skipped (with a note) where no `docker` CLI is installed, but never under `CI`.

mod common;

use std::time::Duration;

use common::terminal::Terminal;
use common::{Daemon, docker_available};

#[test]
fn vi_opens_the_terminal_draws_its_screen_and_quits() {
    if !docker_available() {
        return;
    }
    let d = Daemon::start();
    let mut t = Terminal::spawn(d.command(&["run", "-it", "--rm", "busybox", "vi"]));
    // kibi moves to the far corner and asks where the cursor is (Device Status Report).
    t.expect("\x1b[6n");
    // The answer, as a 24x80 terminal gives it. kibi reads it through a fresh buffered reader
    // on /dev/tty for each part, so each part must arrive as a read of its own: the pauses keep
    // them apart on the way (they decide nothing the test asserts).
    for part in ["\x1b[", "24;", "80R"] {
        t.type_keys(part);
        std::thread::sleep(Duration::from_millis(300));
    }
    t.expect("Kibi 0.3");
    t.type_keys("\x11");
    let (status, screen) = t.finish();
    assert!(status.success(), "vi ended with {status}:\n{screen}");
    assert!(!screen.contains("vi needs the container's terminal"), "{screen}");
}
