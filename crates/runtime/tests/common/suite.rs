//! The official WASI preview1 conformance suite (`../shared/wasi-testsuite`, prebuilt modules,
//! never copied into the project): finding its cases, reading their specs, laying out a fresh
//! fixture for each, judging an outcome as the official runner does, and the project's
//! expectations file — the only list of cases allowed to fail, each with its reason.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the suite lies: `$PORTHOLE_WASI_TESTSUITE`, else `shared/wasi-testsuite` beside the
/// project. `None` if absent; under `CI` the callers fail instead of skipping.
pub fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PORTHOLE_WASI_TESTSUITE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/wasi-testsuite"),
    };
    dir.join("README.md").exists().then_some(dir)
}

/// The suite, or a skip (a failure under `CI`).
pub fn suite_or_skip() -> Option<PathBuf> {
    let dir = suite_dir();
    if dir.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the WASI testsuite is missing (expected ../shared/wasi-testsuite or $PORTHOLE_WASI_TESTSUITE)"
        );
        eprintln!("skipping: the WASI testsuite is not here");
    }
    dir
}

/// One test module and what its spec asks.
#[derive(Debug, Clone)]
pub struct Case {
    /// `rust/fd_readdir`, `c/lseek`, `assemblyscript/proc_exit-failure`.
    pub id: String,
    pub wasm: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The fixture to copy as the guest's `/`, if the spec names one.
    pub root: Option<PathBuf>,
    pub exit_code: i32,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// Every `wasm32-wasip1` case, sorted by id.
pub fn cases(suite: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for lang in ["rust", "c", "assemblyscript"] {
        let dir = suite.join(lang).join("testsuite/wasm32-wasip1");
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "wasm") {
                out.push(case(lang, &path));
            }
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn case(lang: &str, wasm: &Path) -> Case {
    let name = wasm.file_stem().unwrap().to_string_lossy().into_owned();
    let spec_path = wasm.with_extension("json");
    let spec: serde_json::Value = match std::fs::read_to_string(&spec_path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", spec_path.display())),
        Err(_) => serde_json::json!({}),
    };
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
    };
    let env = spec["env"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
        .unwrap_or_default();
    assert!(spec.get("dirs").is_none() && spec.get("operations").is_none(), "{name}: spec format not handled");
    Case {
        id: format!("{lang}/{name}"),
        wasm: wasm.to_path_buf(),
        args: strings(&spec["args"]),
        env,
        root: spec["root"].as_str().map(|r| wasm.parent().unwrap().join(r)),
        exit_code: spec["exit_code"].as_i64().unwrap_or(0) as i32,
        stdout: spec["stdout"].as_str().map(str::to_string),
        stderr: spec["stderr"].as_str().map(str::to_string),
    }
}

/// A fresh, writable copy of the case's fixture (an empty directory if it has none), with
/// `*.cleanup` entries left out, as the official runner prepares it.
pub fn fixture(case: &Case) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(root) = &case.root {
        copy_fixture(root, dir.path());
    }
    dir
}

fn copy_fixture(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".cleanup") {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            std::fs::create_dir(&dst).unwrap();
            copy_fixture(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
            // The shared copy has no write bits; the guest's copy is its own to change.
            let mode = std::fs::metadata(&dst).unwrap().permissions().mode() | 0o200;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

/// How one run ended, in the terms the official runner compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code; a trap counts as the runner sees a crashed process (never a match).
    pub exit: Result<i32, String>,
    pub stdout: String,
    pub stderr: String,
}

/// Why `outcome` fails `case`, or `None` if it passes (exit code equal, stdout/stderr prefixes).
pub fn verdict(case: &Case, outcome: &Outcome) -> Option<String> {
    match &outcome.exit {
        Ok(code) if *code == case.exit_code => {}
        Ok(code) => return Some(format!("exit code {code}, expected {}{}", case.exit_code, tail(outcome))),
        Err(trap) => return Some(format!("trapped ({trap}), expected exit {}{}", case.exit_code, tail(outcome))),
    }
    for (name, want, got) in [("stdout", &case.stdout, &outcome.stdout), ("stderr", &case.stderr, &outcome.stderr)] {
        if let Some(want) = want
            && !got.replace("\r\n", "\n").starts_with(want.as_str())
        {
            return Some(format!("{name} {got:?} does not start with {want:?}"));
        }
    }
    None
}

fn tail(o: &Outcome) -> String {
    let last = |s: &str| s.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
    format!("; stderr: {}; stdout: {}", last(&o.stderr), last(&o.stdout))
}

/// The expectations file: `<scope> <case id>  <reason>` per line, `#` comments. Scopes:
/// `host` (fails under Porthole's WASI host, so everywhere), `engine` (differs only through
/// `docker run`, which adds environment variables), `differential` (Porthole and wasmtime-wasi
/// answer differently, with the reason), `varying` (output differs between runs of one host, so
/// the differential test compares exit codes only).
pub fn expectations(scope: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wasi-testsuite-expectations.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let (Some(s), Some(id), Some(reason)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("{}:{}: expected `<scope> <case> <reason>`", path.display(), n + 1);
        };
        let known = matches!(s, "host" | "engine" | "differential" | "varying");
        assert!(known, "{}:{}: unknown scope {s}", path.display(), n + 1);
        if s == scope {
            out.insert(id.to_string(), reason.trim().to_string());
        }
    }
    out
}

/// Compares each case's verdict with the expectations: a failure not listed and a listed case
/// that passes are both reported. Prints `N passed, M failed` as the official runner does.
pub fn judge(label: &str, results: &[(Case, Option<String>)], expected: &BTreeMap<String, String>) {
    let mut problems = Vec::new();
    let mut failed = 0;
    for (case, why) in results {
        match (why, expected.get(&case.id)) {
            (Some(why), None) => problems.push(format!("FAIL {}: {why}", case.id)),
            (None, Some(reason)) => problems
                .push(format!("PASS {} is listed as expected to fail ({reason}): take it off the list", case.id)),
            _ => {}
        }
        failed += why.is_some() as usize;
    }
    for id in expected.keys() {
        if !results.iter().any(|(c, _)| &c.id == id) {
            problems.push(format!("{id} is listed in the expectations but is not in the suite"));
        }
    }
    eprintln!("{label}: {} passed, {failed} failed ({} expected)", results.len() - failed, expected.len());
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
}
