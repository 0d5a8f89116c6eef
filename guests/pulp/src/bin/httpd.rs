//! `httpd`: a static HTTP/1.1 server for the document root, on the listening sockets the host
//! hands in (`LISTEN_FDS` of them from `LISTEN_FD`). See `pulp::server` for the event loop and why it is poll-based.

use std::process::ExitCode;

use pulp::options::{HTTPD_USAGE, HttpdOptions, OptionsError, listen_fds};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match HttpdOptions::parse(&args) {
        Ok(o) => o,
        Err(OptionsError::Help) => {
            println!("{HTTPD_USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("httpd: {e}\n{HTTPD_USAGE}");
            return ExitCode::from(2);
        }
    };
    let var = |name| std::env::var(name).ok();
    let fds = match listen_fds(var("LISTEN_FD").as_deref(), var("LISTEN_FDS").as_deref()) {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!("httpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    serve(&fds, opts)
}

#[cfg(target_os = "wasi")]
fn serve(fds: &[u32], opts: HttpdOptions) -> ExitCode {
    let config =
        pulp::server::Config { root: opts.root.clone(), timeout: std::time::Duration::from_secs(opts.timeout_secs) };
    println!("httpd: serving {} on fd {fds:?}", opts.root.display());
    match pulp::server::run(fds, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("httpd: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(target_os = "wasi"))]
fn serve(_fds: &[u32], _opts: HttpdOptions) -> ExitCode {
    eprintln!("httpd: this program runs as a wasm32-wasip1 guest");
    ExitCode::FAILURE
}
