//! `pulp-worker`: mirrors repositories into the content store and publishes them as symlinks
//! under the web root (see `pulp::sync`). Exits 1 if anything was refused, 2 on a bad command line.

use std::path::Path;
use std::process::ExitCode;

use pulp::options::{OptionsError, WORKER_USAGE, WorkerOptions};
use pulp::sync::{self, Repo, Report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match WorkerOptions::parse(&args) {
        Ok(o) => o,
        Err(OptionsError::Help) => {
            println!("{WORKER_USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("pulp-worker: {e}\n{WORKER_USAGE}");
            return ExitCode::from(2);
        }
    };
    loop {
        let refused = sync_all(&opts);
        match opts.interval {
            None => return if refused { ExitCode::FAILURE } else { ExitCode::SUCCESS },
            Some(secs) => std::thread::sleep(std::time::Duration::from_secs(secs)),
        }
    }
}

/// One round over every repository; says whether anything was refused.
fn sync_all(opts: &WorkerOptions) -> bool {
    let repos = match repositories(opts) {
        Ok(r) => r,
        Err(e) => {
            println!("refused {}: {e}", opts.upstream.display());
            return true;
        }
    };
    if repos.is_empty() {
        println!("refused {}: no repository (a directory with a MANIFEST) found", opts.upstream.display());
        return true;
    }
    if !opts.content.is_dir() {
        if let Err(e) = std::fs::create_dir_all(&opts.content) {
            println!("refused {}: cannot create the content store: {e}", opts.content.display());
            return true;
        }
        println!("created {}", opts.content.display());
    }
    let mut refused = false;
    for name in repos {
        let repo = Repo {
            upstream: opts.upstream.join(&name),
            content: opts.content.clone(),
            publish: opts.www.join("pub").join(&name),
            name,
        };
        let report: Report = sync::sync(&repo, &mut |line| println!("{line}"));
        println!("sync {}: {report}", repo.name);
        refused |= report.refused > 0;
    }
    refused
}

/// The repositories named with `--repo`, or else every directory under `--upstream` holding a MANIFEST.
fn repositories(opts: &WorkerOptions) -> std::io::Result<Vec<String>> {
    if !opts.repos.is_empty() {
        return Ok(opts.repos.clone());
    }
    let mut names: Vec<String> = std::fs::read_dir(&opts.upstream)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(&opts.upstream).join(n).join("MANIFEST").is_file())
        .collect();
    names.sort();
    Ok(names)
}
