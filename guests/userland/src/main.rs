//! The userland's multi-call program: `argv[0]`'s file name picks the applet (`/bin/sort` is a
//! hard link to it), or `userland NAME ARGS…` names it.

fn main() {
    std::process::exit(userland::main(std::env::args_os().collect()));
}
