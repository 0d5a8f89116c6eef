//! The `busybox` binary: hands its arguments to the toolbox and exits with the applet's code.

use std::io::Write;

fn main() {
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let code = toolbox::main(argv);
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
