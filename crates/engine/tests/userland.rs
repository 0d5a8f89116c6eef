//! The base image's userland end to end: each applet runs as `docker exec c NAME …` would run it
//! in a `busybox` container, on real files in a bind-mounted host directory, and its output is
//! compared with what GNU's tools print for the same input (the expected texts were taken from
//! GNU coreutils, sed, gawk, diffutils, tar and gzip). Archives are checked both ways: made in
//! the container and read back there byte for byte, and read by the host's GNU tar and gzip.

mod common;

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use porthole_engine::{CreateOptions, Engine, ExecOptions, Input, MountRequests, Stdio};

/// A running `busybox` container with a host directory at `/d`.
struct Container {
    _tmp: tempfile::TempDir,
    e: Engine,
    id: String,
    /// The host side of `/d`.
    dir: PathBuf,
}

impl Container {
    fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        fs::create_dir(&dir).unwrap();
        let e = common::open_engine(tmp.path(), None);
        let id = e
            .create(CreateOptions {
                image: "busybox".into(),
                cmd: Some(vec!["sleep".into(), "3600".into()]),
                mounts: MountRequests { binds: vec![format!("{}:/d", dir.display())], ..Default::default() },
                ..Default::default()
            })
            .unwrap()
            .to_string();
        e.start(&id).unwrap();
        Self { _tmp: tmp, e, id, dir }
    }

    /// `docker exec -i c CMD…` with `stdin`: the exit code, standard output and standard error.
    fn exec(&self, cmd: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
        let (out, err) = (common::Captured::default(), common::Captured::default());
        let stdio = Stdio {
            stdin: Input::Reader(Box::new(Cursor::new(stdin.to_vec()))),
            stdout: Box::new(out.clone()),
            stderr: Box::new(err.clone()),
            ..Default::default()
        };
        let cmd = cmd.iter().map(|s| s.to_string()).collect();
        let code = self.e.exec(&self.id, ExecOptions { cmd, stdio, ..Default::default() }).unwrap();
        (code, out.bytes(), err.text())
    }

    /// Runs `cmd` and expects exit 0; gives standard output as text.
    fn ok(&self, cmd: &[&str]) -> String {
        let (code, out, err) = self.exec(cmd, b"");
        assert_eq!(code, 0, "{cmd:?}: {err}");
        String::from_utf8(out).unwrap()
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.e.kill(&self.id, None);
    }
}

const WORDS: &str = "pear\napple\nfig\napple\n";

#[test]
fn text_applets_print_what_gnu_prints() {
    let c = Container::start();
    c.write("words", WORDS.as_bytes());
    c.write("pw", b"root:x:0:0\nbin:x:1:1\n");
    c.write("kv", b"a 1\nb 2\n");
    c.write("a", b"a\nb\n");
    c.write("b", b"a\nc\n");
    // (command, standard input, standard output, exit code)
    let table: &[(&[&str], &str, &str, i32)] = &[
        (&["sort", "/d/words"], "", "apple\napple\nfig\npear\n", 0),
        (&["sort", "-ru"], WORDS, "pear\nfig\napple\n", 0),
        (&["uniq", "-c"], "a\na\nb\n", "      2 a\n      1 b\n", 0),
        (&["wc", "/d/words"], "", " 4  4 21 /d/words\n", 0),
        (&["wc", "-l"], WORDS, "4\n", 0),
        (&["cut", "-d:", "-f1,3", "/d/pw"], "", "root:0\nbin:1\n", 0),
        (&["tr", "a-z", "A-Z"], "fig\n", "FIG\n", 0),
        (&["head", "-n", "2", "/d/words"], "", "pear\napple\n", 0),
        (&["tail", "-n", "1", "/d/words"], "", "apple\n", 0),
        (&["sed", "-e", "s/p/P/g", "/d/words"], "", "Pear\naPPle\nfig\naPPle\n", 0),
        (&["sed", "-n", "2p"], WORDS, "apple\n", 0),
        (
            &["awk", "-v", "x=5", "BEGIN { OFS = \"-\" } { print $1, $2 * x } END { print NR }", "/d/kv"],
            "",
            "a-5\nb-10\n2\n",
            0,
        ),
        (&["awk", "-F:", "-v", "OFS=|", "{ print $1, $3 }", "/d/pw"], "", "root|0\nbin|1\n", 0),
        (&["awk", "-v", "msg=a\\tb", "BEGIN { print msg }"], "", "a\tb\n", 0),
        (&["diff", "-u", "/d/a", "/d/a"], "", "", 0),
        // busybox's (and uutils') wording; GNU cmp 3.8 says "byte".
        (&["cmp", "/d/a", "/d/b"], "", "/d/a /d/b differ: char 3, line 2\n", 1),
        (&["md5sum", "/d/words"], "", "2eb12aa005ac1d5270af737ff2751764  /d/words\n", 0),
        (
            &["sha256sum", "/d/words"],
            "",
            "08ac0db682cf1c0387d7a34a1f18a8c2f8b1a734c4ac83d412d903a6fc21161e  /d/words\n",
            0,
        ),
        (&["base64", "/d/words"], "", "cGVhcgphcHBsZQpmaWcKYXBwbGUK\n", 0),
        (&["base64", "-d"], "cGVhcgphcHBsZQpmaWcKYXBwbGUK\n", WORDS, 0),
        (&["od", "-An", "-tx1"], "abc\n", " 61 62 63 0a\n", 0),
        (&["expr", "6", "*", "7"], "", "42\n", 0),
        (&["expr", "1", "=", "2"], "", "0\n", 1),
        (&["realpath", "/d/../d/words"], "", "/d/words\n", 0),
        (&["seq", "3"], "", "1\n2\n3\n", 0),
        (&["seq", "-s,", "1", "2", "7"], "", "1,3,5,7\n", 0),
        (&["date", "-u", "-d", "@0", "+%Y-%m-%d %H:%M:%S"], "", "1970-01-01 00:00:00\n", 0),
        // Not on a terminal, less copies its input through, as less does.
        (&["less", "/d/words"], "", WORDS, 0),
        (&["less"], WORDS, WORDS, 0),
    ];
    let mut wrong = Vec::new();
    for (cmd, stdin, want, want_code) in table {
        let (code, out, err) = c.exec(cmd, stdin.as_bytes());
        let out = String::from_utf8_lossy(&out);
        if (code, out.as_ref()) != (*want_code, *want) {
            wrong
                .push(format!("{cmd:?}: exit {code}, stdout {out:?}, stderr {err:?}; want exit {want_code}, {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn files_are_changed_in_place_as_gnu_does() {
    let c = Container::start();
    let edit = c.write("edit", WORDS.as_bytes());
    c.ok(&["sed", "-i", "s/fig/FIG/", "/d/edit"]);
    assert_eq!(fs::read_to_string(&edit).unwrap(), "pear\napple\nFIG\napple\n");

    let trunc = c.write("trunc", b"abcdef");
    c.ok(&["truncate", "-s", "3", "/d/trunc"]);
    assert_eq!(fs::read(&trunc).unwrap(), b"abc");

    c.write("words", WORDS.as_bytes());
    let (code, _, err) = c.exec(&["dd", "if=/d/words", "of=/d/dd.out", "bs=4", "count=2"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(err.starts_with("2+0 records in\n2+0 records out\n8 bytes copied"), "{err}");
    assert_eq!(fs::read(c.dir.join("dd.out")).unwrap(), b"pear\napp");

    let made = c.ok(&["mktemp", "-p", "/d"]);
    let name = made.trim_end().strip_prefix("/d/").expect(&made);
    assert!(name.starts_with("tmp.") && c.dir.join(name).is_file(), "{made}");

    // diff's differences, past the two header lines (which carry the files' times).
    c.write("a", b"a\nb\n");
    c.write("b", b"a\nc\n");
    let (code, out, _) = c.exec(&["diff", "-u", "/d/a", "/d/b"], b"");
    let out = String::from_utf8(out).unwrap();
    let mut lines = out.lines();
    assert!(
        lines.next().unwrap().starts_with("--- /d/a\t") && lines.next().unwrap().starts_with("+++ /d/b\t"),
        "{out}"
    );
    assert_eq!((code, lines.collect::<Vec<_>>()), (1, vec!["@@ -1,2 +1,2 @@", " a", "-b", "+c"]));
    let (code, _, err) = c.exec(&["diff", "/d/a", "/d/missing"], b"");
    assert_eq!((code, err.as_str()), (2, "diff: /d/missing: No such file or directory\n"));
}

/// A small tree with known times: `src/a.txt`, `src/sub/b.bin`.
fn tree(c: &Container) -> Vec<(&'static str, Vec<u8>, u64)> {
    let files = vec![
        ("src/a.txt", b"hello tar\n".to_vec(), 1_600_000_000),
        ("src/sub/b.bin", (0..=255u8).cycle().take(70_000).collect(), 1_500_000_000),
    ];
    for (name, bytes, mtime) in &files {
        let path = c.write(name, bytes);
        let f = fs::File::options().write(true).open(path).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(*mtime)).unwrap();
    }
    files
}

fn same_files(root: &Path, files: &[(&str, Vec<u8>, u64)]) {
    for (name, bytes, mtime) in files {
        let path = root.join(name);
        assert_eq!(&fs::read(&path).unwrap(), bytes, "{name}");
        let got = fs::metadata(&path).unwrap().modified().unwrap().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(got, *mtime, "{name}'s mtime");
    }
}

#[test]
fn tar_round_trips_with_times_and_gnu_tar_reads_it() {
    let c = Container::start();
    let files = tree(&c);
    c.ok(&["tar", "czf", "/d/t.tgz", "-C", "/d", "src"]);
    assert_eq!(c.ok(&["tar", "-tzf", "/d/t.tgz"]), "src/\nsrc/a.txt\nsrc/sub/\nsrc/sub/b.bin\n");
    c.ok(&["mkdir", "/d/out"]);
    c.ok(&["tar", "-xzf", "/d/t.tgz", "-C", "/d/out"]);
    same_files(&c.dir.join("out"), &files);

    let gnu = std::process::Command::new("tar").arg("-tzvf").arg(c.dir.join("t.tgz")).output().unwrap();
    let listing = String::from_utf8(gnu.stdout).unwrap();
    assert!(
        gnu.status.success() && listing.contains("root/root     70000 2017-07-14 02:40 src/sub/b.bin"),
        "{listing}"
    );
}

#[test]
fn gzip_and_zip_round_trip() {
    let c = Container::start();
    let files = tree(&c);
    c.ok(&["gzip", "/d/src/a.txt"]);
    assert!(!c.dir.join("src/a.txt").exists() && c.dir.join("src/a.txt.gz").exists());
    c.ok(&["gunzip", "/d/src/a.txt.gz"]);
    same_files(&c.dir, &files[..1]);

    let (code, gz, err) = c.exec(&["gzip", "-c", "/d/src/sub/b.bin"], b"");
    assert_eq!(code, 0, "{err}");
    c.write("b.gz", &gz);
    let gnu = std::process::Command::new("gzip").arg("-dc").arg(c.dir.join("b.gz")).output().unwrap();
    assert!(gnu.status.success() && gnu.stdout == files[1].1, "GNU gzip could not read it");
    let (code, plain, _) = c.exec(&["zcat"], &gz);
    assert_eq!((code, plain), (0, files[1].1.clone()));
    let (code, _, err) = c.exec(&["gunzip", "-c"], b"not gzip at all");
    assert_eq!((code, err.as_str()), (1, "gunzip: stdin: not in gzip format\n"));

    c.ok(&["zip", "-qr", "/d/z.zip", "/d/src"]);
    c.ok(&["unzip", "-q", "/d/z.zip", "-d", "/d/unz"]);
    same_files(&c.dir.join("unz/d"), &files);
}

#[test]
fn every_listed_applet_is_in_bin_and_runs() {
    let c = Container::start();
    let list = c.ok(&["/bin/userland", "--list"]);
    let names: Vec<&str> = list.lines().collect();
    for must in
        ["sort", "sed", "awk", "diff", "cmp", "tar", "gzip", "gunzip", "zcat", "zip", "unzip", "md5sum", "less", "vi"]
    {
        assert!(names.contains(&must), "{must} missing from {names:?}");
    }
    let sources = c.ok(&["/bin/userland", "--sources"]);
    for line in [
        "sort\tuutils coreutils",
        "sed\tuutils sed",
        "diff\tuutils diffutils",
        "awk\tawk-rs",
        "vi\tkibi",
        "tar\twritten here",
    ] {
        assert!(sources.lines().any(|l| l == line), "{line:?} not in {sources}");
    }
    let mut failed = Vec::new();
    // The base image keeps the toolbox's `ls` and `tail` (see images.rs); the rest are the
    // userland's.
    assert_eq!(c.ok(&["ls", "/d"]), "");
    for name in names.iter().filter(|n| !["ls", "tail"].contains(n)) {
        let path = format!("/bin/{name}");
        let (code, _, err) = c.exec(&[&path, "--version"], b"");
        // GNU's `false` fails even when it prints its version.
        if code != i32::from(*name == "false") {
            failed.push(format!("{path} --version: exit {code}: {err}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
