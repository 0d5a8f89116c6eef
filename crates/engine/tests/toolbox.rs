//! The base image's own programs as a container runs them: the toolbox (`/bin/busybox`: `sh`,
//! `ls`, `find`, `grep`, `mount`, …) and, where a script calls them, the userland's (`cat`,
//! `sort`, `cp`, …, GNU's texts), each a process of a `busybox` container started through the
//! engine, on real directories. Each test gets its own container (hostname `c0ffee`) with a host
//! directory bind-mounted at `/data`; most tests are a script run by `docker exec c sh -c` and
//! the standard output and exit code it must give. Standard error is not compared, so scripts
//! that check an error text redirect `2>&1`.

mod common;

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use porthole_engine::{CreateOptions, Engine, ExecOptions, Input, MountRequests, Stdio, Tty, WaitCondition};

/// A running `busybox` container with a host directory at `/data`.
struct Sandbox {
    _tmp: tempfile::TempDir,
    e: Engine,
    id: String,
    /// The container's rootfs on the host.
    root: PathBuf,
    /// The host side of `/data`.
    data: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        Self::running(&["sleep", "3600"])
    }

    /// A container whose main process is `cmd`, started.
    fn running(cmd: &[&str]) -> Sandbox {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        fs::create_dir_all(&data).unwrap();
        let e = common::open_engine(tmp.path(), None);
        let id = e
            .create(CreateOptions {
                image: "busybox".into(),
                cmd: Some(cmd.iter().map(|a| a.to_string()).collect()),
                hostname: Some("c0ffee".into()),
                mounts: MountRequests { binds: vec![format!("{}:/data", data.display())], ..Default::default() },
                ..Default::default()
            })
            .unwrap()
            .to_string();
        e.start(&id).unwrap();
        let root = e.inspect(&id).unwrap().rootfs;
        Sandbox { _tmp: tmp, e, id, root, data }
    }

    /// Writes `text` to `path` in the volume, creating directories.
    fn data_file(&self, path: &str, text: &str) -> &Sandbox {
        let p = self.data.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
        self
    }

    /// `docker exec` of `args` with `stdin` and `opts`' other settings: standard output and
    /// the exit code (standard error goes to the test's, to help a failing test's reader).
    fn exec_with(&self, args: &[&str], stdin: Input, tty: bool, workdir: Option<&str>) -> (String, i32) {
        let out = common::Captured::default();
        let stdio = Stdio { stdin, stdout: Box::new(out.clone()), stderr: Box::new(std::io::stderr()), tty };
        let cmd = args.iter().map(|a| a.to_string()).collect();
        let opts = ExecOptions { cmd, stdio, workdir: workdir.map(String::from), ..Default::default() };
        let code = self.e.exec(&self.id, opts).unwrap();
        (out.text(), code)
    }

    /// `docker exec c ARGS…`.
    fn run(&self, args: &[&str]) -> (String, i32) {
        self.exec_with(args, Input::Null, false, None)
    }

    /// `docker exec c sh -c SCRIPT`.
    fn sh(&self, script: &str) -> (String, i32) {
        self.run(&["sh", "-c", script])
    }

    /// Runs `script` and checks its stdout and exit code.
    fn check(&self, script: &str, stdout: &str, code: i32) {
        let (out, exit) = self.sh(script);
        assert_eq!((out.as_str(), exit), (stdout, code), "script: {script}");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.e.kill(&self.id, None);
    }
}

/// A script in a fresh container must print `stdout` and exit 0.
fn check(script: &str, stdout: &str) {
    Sandbox::new().check(script, stdout, 0);
}

/// `docker exec -i c ARGS…` with `input` as its stdin, or `-it` (a terminal typed `input`)
/// when `tty`.
fn run_with_stdin(sb: &Sandbox, args: &[&str], input: &str, tty: bool) -> (String, i32) {
    let typed = Cursor::new(input.as_bytes().to_vec());
    if !tty {
        return sb.exec_with(args, Input::Reader(Box::new(typed)), false, None);
    }
    // The terminal echoes to the same stream the programs write to, as a real one does.
    let out = common::Captured::default();
    let stdin = Input::Tty(Tty::new(typed, Box::new(out.clone())));
    let stdio = Stdio { stdin, stdout: Box::new(out.clone()), stderr: Box::new(out.clone()), tty: true };
    let cmd = args.iter().map(|a| a.to_string()).collect();
    let code = sb.e.exec(&sb.id, ExecOptions { cmd, stdio, ..Default::default() }).unwrap();
    (out.text(), code)
}

/// A container whose main process is `cmd`, which must keep running: stops it after a moment
/// (`docker stop`) and returns what it printed and its exit code.
fn run_until_stopped(cmd: &[&str]) -> (String, i32) {
    let sb = Sandbox::running(cmd);
    std::thread::sleep(Duration::from_millis(500));
    sb.e.stop(&sb.id, Some(Duration::from_secs(10))).unwrap();
    let code = sb.e.wait(&sb.id, WaitCondition::NotRunning).unwrap();
    (common::output(&sb.e, &sb.id), code)
}

/// Sets a host file's modification time to 2024-01-02 03:04:05 UTC.
fn set_old_mtime(path: &Path) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
    fs::File::open(path).unwrap().set_modified(t).unwrap();
}

// ---- dispatch ----

/// What the toolbox provides itself; the userland has the base image's other programs.
const TOOLBOX: &[&str] = &[
    "[", "ash", "chmod", "df", "du", "echo", "env", "false", "find", "grep", "hostname", "id", "kill", "ls", "mount",
    "printf", "ps", "pwd", "sh", "stat", "tail", "test", "top", "true", "which", "whoami", "xargs",
];

#[test]
fn busybox_lists_its_applets_and_refuses_unknown_ones() {
    let sb = Sandbox::new();
    let (out, exit) = sb.run(&["busybox", "--list"]);
    assert_eq!((out.lines().collect::<Vec<_>>(), exit), (TOOLBOX.to_vec(), 0));
    assert_eq!(sb.sh("busybox nosuch 2>&1"), ("busybox: applet not found: nosuch\n".to_string(), 127));
    assert_eq!(sb.sh("busybox cat /etc/hostname 2>&1"), ("busybox: applet not found: cat\n".to_string(), 127));
    assert_eq!(sb.run(&["busybox", "echo", "via", "busybox"]), ("via busybox\n".to_string(), 0));
}

/// Every name either program answers to has its link in `/bin`: the toolbox's, or the
/// userland's where it has one (but `ls`, whose modes are the toolbox's to show, and `tail`,
/// whose `-f` only the toolbox's has).
#[test]
fn every_applet_of_either_program_is_linked_in_bin() {
    use std::os::unix::fs::MetadataExt;
    let sb = Sandbox::new();
    // The programs are in the image's layer, under the container's own (empty) one.
    let bin = sb.e.inspect(&sb.id).unwrap().lowers.remove(0).join("bin");
    let inode = |name: &str| fs::metadata(bin.join(name)).unwrap_or_else(|e| panic!("/bin/{name}: {e}")).ino();
    let (userland, exit) = sb.run(&["userland", "--list"]);
    assert_eq!(exit, 0);
    for name in userland.lines().filter(|n| !["ls", "tail"].contains(n)) {
        assert_eq!(inode(name), inode("userland"), "/bin/{name} is the userland's");
    }
    for name in TOOLBOX.iter().filter(|n| !userland.lines().any(|u| u == **n)) {
        assert_eq!(inode(name), inode("busybox"), "/bin/{name} is the toolbox's");
    }
    assert_eq!((inode("ls"), inode("tail")), (inode("busybox"), inode("busybox")));
    assert_eq!(inode("cat"), inode("userland"), "the toolbox has no cat of its own any more");
}

#[test]
fn hard_links_to_the_binary_run_the_applet_they_are_named_after() {
    let sb = Sandbox::new();
    sb.data_file("f", "");
    sb.check(
        "/bin/ls /data; mkdir /x; ln /bin/busybox /x/ls; ln /bin/busybox /x/sh; ls /x; /x/ls /data; /x/sh -c 'echo $0' named; /bin/busybox echo direct",
        "f\nls\nsh\nf\nnamed\ndirect\n",
        0,
    );
}

// ---- the shell language ----

#[test]
fn echo_quotes_and_variables() {
    check(
        r#"A=b; echo "$A" '$A' \$A ${A}c "x  y" a\ b; echo -n no-newline; echo; echo -e 'tab\tend'; echo "${UNSET:-default}" "${#A}""#,
        "b $A $A bc x  y a b\nno-newline\ntab\tend\ndefault 1\n",
    );
}

#[test]
fn and_or_semicolons_and_exit_status() {
    check(
        "true && echo and; false && echo never; false || echo or; false; echo $?; true; echo $?; ! false && echo negated",
        "and\nor\n1\n0\nnegated\n",
    );
}

#[test]
fn positional_parameters_and_special_variables() {
    let sb = Sandbox::new();
    let (out, exit) = sb.run(&[
        "sh",
        "-c",
        r#"echo "$0|$1|$#|$@"; for a in "$@"; do echo "[$a]"; done; echo $$ | grep -c '^[0-9][0-9]*$'"#,
        "name",
        "one",
        "two words",
    ]);
    assert_eq!((out.as_str(), exit), ("name|one|2|one two words\n[one]\n[two words]\n1\n", 0));
}

#[test]
fn exit_code_of_the_script_is_the_guests() {
    let sb = Sandbox::new();
    assert_eq!(sb.sh("exit 3"), (String::new(), (3)));
    assert_eq!(sb.sh("echo before; exit 4; echo after"), ("before\n".to_string(), (4)));
    assert_eq!(sb.sh("false"), (String::new(), (1)));
}

#[test]
fn unknown_command_is_127_with_busybox_message() {
    Sandbox::new().check("nope 2>&1; echo $?", "sh: nope: not found\n127\n", 0);
    Sandbox::new().check("nope", "", 127);
}

#[test]
fn syntax_errors_exit_2() {
    Sandbox::new().check("echo a; fi 2>&1", "", 2);
    Sandbox::new().check(
        "sh -c 'if true; then' 2>&1; echo $?",
        "sh: syntax error: unexpected end of file (expecting \"fi\")\n2\n",
        0,
    );
}

#[test]
fn pipeline_counts_matching_lines() {
    check("seq 1 10 | grep 1 | wc -l", "2\n");
}

#[test]
fn endless_producer_ends_when_the_consumer_has_enough() {
    check("yes | head -n 3", "y\ny\ny\n");
    check("yes abc | head -n 2 | tail -n 1", "abc\n");
}

#[test]
fn pipeline_stages_run_in_subshells() {
    check("x=1; echo 2 | read x; echo $x; echo a b | { read p q; echo $q$p; }", "1\nba\n");
}

#[test]
fn redirections_write_read_and_append_host_files() {
    let sb = Sandbox::new();
    sb.check(
        "echo one > /data/out; echo two >> /data/out; cat < /data/out; echo err >&2 2>/dev/null; ls /nope 2> /data/err; echo hidden > /dev/null; echo both > /data/both 2>&1",
        "one\ntwo\n",
        0,
    );
    assert_eq!(fs::read_to_string(sb.data.join("out")).unwrap(), "one\ntwo\n");
    assert_eq!(fs::read_to_string(sb.data.join("err")).unwrap(), "ls: /nope: No such file or directory\n");
    assert_eq!(fs::read_to_string(sb.data.join("both")).unwrap(), "both\n");
    sb.check("cat /nope > /data/err2 2>&1; cat /data/err2", "cat: /nope: No such file or directory\n", 0);
    sb.check("echo x > /nodir/f 2>&1", "", 1);
}

#[test]
fn here_documents_expand_unless_quoted() {
    check("X=world; cat <<EOF\nhello $X\nEOF\ncat <<'EOF'\nraw $X\nEOF", "hello world\nraw $X\n");
}

#[test]
fn cd_then_relative_paths_resolve_against_it() {
    let sb = Sandbox::new();
    sb.data_file("a.txt", "A\n").data_file("b.txt", "B\n");
    sb.check("cd /data && pwd && ls", "/data\na.txt\nb.txt\n", 0);
    sb.check(
        "cd /data; mkdir sub; cd sub; echo x > f; cat ../sub/f; cd ..; pwd; ls; cd /etc/../data/sub; pwd; cd - ; cd /nope 2>&1",
        "x\n/data\na.txt\nb.txt\nsub\n/data/sub\n/data\nsh: cd: can't cd to /nope: No such file or directory\n",
        2,
    );
    assert_eq!(fs::read_to_string(sb.data.join("sub/f")).unwrap(), "x\n");
}

#[test]
fn if_for_while_until_case_and_functions() {
    check(
        r#"
        if false; then echo no; elif [ 1 -eq 1 ]; then echo elif; else echo else; fi
        for x in a b c; do echo -n $x; done; echo
        i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo -n $i; done; echo
        until [ $i -eq 0 ]; do i=$((i-1)); [ $i -eq 1 ] && continue; echo -n $i; done; echo
        for f in x.txt y.log; do case $f in *.txt) echo text;; *) echo other;; esac; done
        greet() { local who=$1; echo "hi $who"; return 3; }
        greet you; echo "status $? who=$who"
        for i in 1 2 3 4; do if [ $i = 3 ]; then break; fi; echo -n $i; done; echo
        "#,
        "elif\nabc\n123\n20\ntext\nother\nhi you\nstatus 3 who=\n12\n",
    );
}

#[test]
fn command_substitution_arithmetic_and_parameter_operations() {
    check(
        r#"n=$(echo 5); echo $((n * 2 + 1)) $(( (7 % 4) << 1 )) `echo back`; f=archive.tar.gz; echo ${f%.gz} ${f%%.*} ${f#*.} ${f##*.}; echo "${NONE:=set}" $NONE; x=$(false); echo $?"#,
        "11 6 back\narchive.tar archive tar.gz gz\nset set\n1\n",
    );
}

/// What used to give wrong answers without an error: a pipeline inside `$(…)` was empty, a
/// trim inside double quotes trimmed nothing; and bash's replace and substring forms.
#[test]
fn substitutions_of_pipelines_quoted_trims_replace_and_substring() {
    check(
        r#"b=$(echo hello | tr h j); echo "[$b]" "[`echo x | tr x y`]"; v=file.tar.gz; p=/a/b/c.txt; echo "${v%.*}" "${v##*.}" "${p##*/}" "${p%/*}" "${v%".gz"}" "${v%'.*'}""#,
        "[jello] [y]\nfile.tar gz c.txt /a/b file.tar file.tar.gz\n",
    );
    check(
        r#"x=banana; echo ${x/an/AN} ${x//an/AN} ${x/#b/B} ${x/%a/A} ${x/n} "${x//a/-}" ${x/z/q}"#,
        "bANana bANANa Banana bananA baana b-n-n- banana\n",
    );
    check(r#"x=abcdef; n=2; echo ${x:0:4} ${x:2} ${x:n:n+1} ${x: -2} ${x:1:-2} "${x:10}""#, "abcd cdef cde ef bcd \n");
}

#[test]
fn unquoted_expansions_split_and_quoted_ones_do_not() {
    check(
        r#"v="a  b"; for w in $v; do echo "[$w]"; done; for w in "$v"; do echo "[$w]"; done; e=; set -- $e; echo $#"#,
        "[a]\n[b]\n[a  b]\n0\n",
    );
}

#[test]
fn globbing_expands_against_the_directory_or_stays_as_written() {
    let sb = Sandbox::new();
    sb.data_file("a.txt", "")
        .data_file("b.txt", "")
        .data_file("c.log", "")
        .data_file(".hidden.txt", "")
        .data_file("d/e.txt", "");
    sb.check(
        "echo /data/*.txt; cd /data; echo ?.log *.none; echo */*.txt; echo '*.txt'",
        "/data/a.txt /data/b.txt\nc.log *.none\nd/e.txt\n*.txt\n",
        0,
    );
}

#[test]
fn exported_variables_are_what_env_shows() {
    let sb = Sandbox::new();
    let (out, exit) = sb.sh("export A=1; B=2; C=3 env | grep -e '^A=' -e '^B=' -e '^C='; env | grep -c '^C='");
    assert_eq!((out.as_str(), exit), ("A=1\nC=3\n0\n", (1)));
}

#[test]
fn scripts_run_from_files_shebangs_and_stdin() {
    let sb = Sandbox::new();
    sb.data_file("script.sh", "#!/bin/sh\necho \"$0 $1 $#\"\n");
    sb.data_file("plain", "echo plain $1\n");
    // A relative script path reaches its interpreter made absolute by the process interface
    // (Linux would give `./script.sh`).
    sb.check(
        "sh /data/script.sh a b; cd /data && ./script.sh x; ./plain y; . ./plain z",
        "/data/script.sh a 2\n/data/./script.sh x 1\nplain y\nplain z\n",
        0,
    );
    let (out, exit) =
        run_with_stdin(&sb, &["sh"], "echo from stdin\nif true\nthen echo multi-line\nfi\nexit 5\necho never\n", false);
    assert_eq!((out.as_str(), exit), ("from stdin\nmulti-line\n", (5)));
}

#[test]
fn interactive_session_prompts_with_the_current_directory() {
    let sb = Sandbox::new();
    let (out, exit) =
        run_with_stdin(&sb, &["sh", "-i"], "echo hello\ncd /data\npwd\nif true\nthen echo yes\nfi\nexit 4\n", false);
    assert_eq!((out.as_str(), exit), ("/ # hello\n/ # /data # /data\n/data # > > yes\n/data # ", (4)));
    let (out, exit) = run_with_stdin(&sb, &["sh", "-i"], "false\n", false);
    assert_eq!((out.as_str(), exit), ("/ # / # ", (1)));
}

#[test]
fn on_a_terminal_sh_is_interactive_and_ls_uses_columns() {
    let sb = Sandbox::new();
    sb.data_file("a.txt", "").data_file("b.txt", "").data_file("c.log", "");
    // What the terminal shows holds the line editor's redraws and the terminal's echo; the
    // results must be among them. Lines may end in \r, and backspace (DEL) edits the line.
    let (out, exit) = run_with_stdin(&sb, &["sh"], "ls /data\recho ab\x7fc\r\n", true);
    assert_eq!(exit, 0, "{out:?}");
    assert!(out.contains("\na.txt  b.txt  c.log\n") && out.contains("\nac\n"), "{out:?}");
    assert!(out.ends_with("/ # \x1b[K"), "{out:?}");
    let (out, exit) = run_with_stdin(&sb, &["sh"], "read x\rhello there\recho \"got $x\"\r", true);
    assert_eq!(exit, 0, "{out:?}");
    assert!(out.contains("\ngot hello there\n"), "{out:?}");
}

#[test]
fn set_e_trap_exit_exec_and_read_loops() {
    let sb = Sandbox::new();
    sb.data_file("lines", "one 1\ntwo 2\n");
    sb.check(
        "trap 'echo bye' EXIT; set -e; false || echo tolerated; if false; then :; fi; false; echo never",
        "tolerated\nbye\n",
        1,
    );
    sb.check(
        "while read name n; do echo \"$n:$name\"; done < /data/lines; cat /data/lines | while read l; do echo \"[$l]\"; done; exec echo last; echo never",
        "1:one\n2:two\n[one 1]\n[two 2]\nlast\n",
        0,
    );
}

#[test]
fn the_working_directory_is_where_the_shell_starts() {
    let sb = Sandbox::new();
    let (out, exit) = sb.exec_with(&["sh", "-c", "pwd; echo $PWD"], Input::Null, false, Some("/data"));
    assert_eq!((out.as_str(), exit), ("/data\n/data\n", 0));
}

#[test]
fn test_and_bracket() {
    let sb = Sandbox::new();
    sb.data_file("f", "x").data_file("empty", "");
    sb.check(
        r#"test -f /data/f && echo f; [ -d /data ] && echo d; [ -d /x ] || echo no-x; [ -s /data/empty ] || echo empty;
        [ abc = abc -a 2 -gt 1 ] && echo and; [ ! -e /nope ] && echo missing; [ -z "" ] && [ -n x ] && echo strings; [ 1 -eq 2 ]; echo $?; [ 1 -eq 1 2>&1; echo $?"#,
        "f\nd\nno-x\nempty\nand\nmissing\nstrings\n1\n[: missing ]\n2\n",
        0,
    );
}

// ---- file applets ----

#[test]
fn ls_long_lines_have_busybox_columns() {
    let sb = Sandbox::new();
    sb.data_file("a.txt", "12345").data_file("b.log", &"x".repeat(1234));
    set_old_mtime(&sb.data.join("a.txt"));
    set_old_mtime(&sb.data.join("b.log"));
    sb.check(
        "ls -l /data",
        "total 8\n-rw-r--r--    1 root     root             5 Jan  2  2024 a.txt\n-rw-r--r--    1 root     root          1234 Jan  2  2024 b.log\n",
        0,
    );
    std::os::unix::fs::symlink("a.txt", sb.data.join("link")).unwrap();
    let (out, _) = sb.sh("ls -l /data/link; ls -ld /data");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("lrwxrwxrwx    1 root     root             5 ")
            && lines[0].ends_with(" /data/link -> a.txt"),
        "{out}"
    );
    assert!(lines[1].starts_with("drwxr-xr-x ") && lines[1].ends_with(" /data"), "{out}");
}

#[test]
fn ls_all_one_per_line_and_several_paths() {
    let sb = Sandbox::new();
    sb.data_file(".hidden", "").data_file("x/1", "").data_file("y/2", "").data_file("top", "");
    sb.check("ls -a /data", ".\n..\n.hidden\ntop\nx\ny\n", 0);
    sb.check("ls -1 /data/x /data/top /data/y", "/data/top\n\n/data/x:\n1\n\n/data/y:\n2\n", 0);
    sb.check("ls /data/x /data/y", "/data/x:\n1\n\n/data/y:\n2\n", 0);
    sb.check("ls /nope 2>&1; echo $?", "ls: /nope: No such file or directory\n1\n", 0);
}

#[test]
fn find_filters_by_name_and_type() {
    let sb = Sandbox::new();
    sb.data_file("a.txt", "").data_file("b.log", "").data_file("d/c.txt", "").data_file("d/e/f.txt", "");
    sb.check("find /data -name '*.txt'", "/data/a.txt\n/data/d/c.txt\n/data/d/e/f.txt\n", 0);
    sb.check("find /data -type d", "/data\n/data/d\n/data/d/e\n", 0);
    sb.check("cd /data && find . -maxdepth 1 -type f ! -name '*.log'", "./a.txt\n", 0);
    sb.check("find /data/d -name 'c*' -exec cat {} ';' -print", "/data/d/c.txt\n", 0);
    sb.check("find /nope 2>&1", "find: /nope: No such file or directory\n", 1);
}

#[test]
fn file_management_changes_the_host_directory() {
    let sb = Sandbox::new();
    sb.data_file("src/a", "A").data_file("src/sub/b", "B");
    std::os::unix::fs::symlink("a", sb.data.join("src/link")).unwrap();
    sb.check(
        "cd /data && mkdir -p x/y/z && cp -r src copy && mv copy moved && touch t && ln -s /data/src/a abs && readlink abs && readlink -f abs && rm -rf src/sub && rmdir x/y/z && ls",
        "/data/src/a\n/data/src/a\nabs\nmoved\nsrc\nt\nx\n",
        0,
    );
    let d = &sb.data;
    assert!(d.join("x/y").is_dir() && !d.join("x/y/z").exists());
    assert_eq!(fs::read_to_string(d.join("moved/sub/b")).unwrap(), "B");
    assert!(!d.join("copy").exists());
    assert_eq!(fs::read_link(d.join("moved/link")).unwrap(), Path::new("a"), "cp -r keeps symlinks like busybox");
    assert_eq!(fs::read_link(d.join("abs")).unwrap(), Path::new("/data/src/a"), "symlink targets are stored verbatim");
    assert!(!d.join("src/sub").exists() && d.join("src/a").exists());
    assert_eq!(fs::metadata(d.join("t")).unwrap().len(), 0);
}

#[test]
fn links_times_and_touch() {
    let sb = Sandbox::new();
    sb.data_file("f", "x");
    set_old_mtime(&sb.data.join("f"));
    sb.check(
        "cp /data/f /data/new; ln /data/f /data/hard; ls -l /data/hard | cut -c1-50",
        "-rw-r--r--    2 root     root             1 Jan  2\n",
        0,
    );
    let old = fs::metadata(sb.data.join("f")).unwrap().modified().unwrap();
    assert!(fs::metadata(sb.data.join("new")).unwrap().modified().unwrap() > old);
    sb.check("touch /data/f /data/d; touch -c /data/none; ls /data", "d\nf\nhard\nnew\n", 0);
    assert!(fs::metadata(sb.data.join("f")).unwrap().modified().unwrap() > old, "touch updates the time");
}

#[test]
#[ignore = "known broken: uutils cp -a on WASI fails preserving attributes (Function not implemented)"]
fn cp_a_keeps_links_and_times() {
    let sb = Sandbox::new();
    sb.data_file("f", "x").data_file("src/a", "A").data_file("src/sub/b", "B");
    std::os::unix::fs::symlink("a", sb.data.join("src/link")).unwrap();
    set_old_mtime(&sb.data.join("f"));
    sb.check(
        "cp -a /data/f /data/kept && cp -a /data/src /data/archive && ls -l /data/kept | cut -c1-50",
        "-rw-r--r--    1 root     root             1 Jan  2\n",
        0,
    );
    let old = fs::metadata(sb.data.join("f")).unwrap().modified().unwrap();
    assert_eq!(
        fs::metadata(sb.data.join("kept")).unwrap().modified().unwrap(),
        old,
        "cp -a keeps the modification time"
    );
    assert_eq!(fs::read_link(sb.data.join("archive/link")).unwrap(), Path::new("a"));
    assert_eq!(fs::read_to_string(sb.data.join("archive/sub/b")).unwrap(), "B");
}

#[test]
fn cp_into_directories() {
    let sb = Sandbox::new();
    sb.data_file("f", "F").data_file("dir/g", "G");
    sb.check(
        "mkdir /data/into; cp /data/f /data/dir/g /data/into; ls /data/into; cp /data/dir /x 2>&1",
        "f\ng\ncp: -r not specified; omitting directory '/data/dir'\n",
        1,
    );
    assert_eq!(fs::read_to_string(sb.data.join("into/g")).unwrap(), "G");
}

#[test]
#[ignore = "known broken: uutils mv on WASI stops at EXDEV instead of copying and removing"]
fn mv_across_mounts_copies_and_removes() {
    let sb = Sandbox::new();
    sb.data_file("f", "F");
    sb.check("mv /data/f /tmpf; cat /tmpf", "F", 0);
    assert!(!sb.data.join("f").exists());
    assert_eq!(fs::read_to_string(sb.root.join("tmpf")).unwrap(), "F");
}

/// The file programs are uutils': GNU's texts, except `mkdir` on an existing path (GNU:
/// `cannot create directory '/data/d': File exists`) and `ln`'s error (GNU: `File exists`).
#[test]
fn error_messages_are_the_programs_own() {
    let sb = Sandbox::new();
    sb.data_file("d/f", "").data_file("file", "");
    sb.check(
        "cat /data/d 2>&1; rm /data/d 2>&1; rm /data/none 2>&1; rm -f /data/none; mkdir /data/d 2>&1; mkdir /data/a/b 2>&1; rmdir /data/d 2>&1; ln -s x /data/file 2>&1; cat /nope 2>&1; echo $?",
        "cat: /data/d: Is a directory\nrm: cannot remove '/data/d': Is a directory\nrm: cannot remove '/data/none': No such file or directory\nmkdir: /data/d: File exists\nmkdir: cannot create directory '/data/a/b': No such file or directory\nrmdir: failed to remove '/data/d': Directory not empty\nln: failed to create symbolic link '/data/file': Already exists\ncat: /nope: No such file or directory\n1\n",
        0,
    );
}

#[test]
fn stat_reports_size_and_type() {
    let sb = Sandbox::new();
    sb.data_file("f", "hello");
    let (out, exit) = sb.sh("stat /data/f; stat -c '%n %s %F' /data /data/f");
    assert_eq!(exit, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "  File: '/data/f'");
    assert!(lines[1].starts_with("  Size: 5 ") && lines[1].ends_with("regular file"), "{out}");
    assert!(lines[3].starts_with("Access: (0644/-rw-r--r--)  Uid: (    0/    root)"), "{out}");
    // A directory's size is the host file system's.
    assert!(lines[7].starts_with("/data ") && lines[7].ends_with(" directory"), "{out}");
    assert_eq!(lines[8], "/data/f 5 regular file");
}

#[test]
fn chmod_sets_real_modes_that_ls_and_stat_show() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    sb.data_file("f", "").data_file("d/g", "");
    sb.check(
        "chmod +x /data/f && stat -c %a /data/f; chmod u=rwx,g=rx,o= /data/f && stat -c '%a %A' /data/f; chmod 4750 /data/f && ls -l /data/f | cut -c1-10; chmod -R go-rwx /data/d && stat -c '%a %n' /data/d /data/d/g; chmod 999 /data/f 2>&1; echo $?; chmod +x /data/nope 2>&1; echo $?",
        "755\n750 -rwxr-x---\n-rwsr-x---\n700 /data/d\n600 /data/d/g\nchmod: invalid mode '999'\n2\nchmod: /data/nope: No such file or directory\n1\n",
        0,
    );
    // The host file has what it can represent: no setuid, the controller's own access kept.
    assert_eq!(fs::metadata(sb.data.join("f")).unwrap().permissions().mode() & 0o7777, 0o750);
}

// ---- text applets ----

#[test]
fn grep_options_and_exit_codes() {
    let sb = Sandbox::new();
    sb.data_file("t", "apple\nBanana\ncherry\napricot\n");
    sb.check(
        "cd /data; grep -q an t; echo $?; grep -q zz t; echo $?; grep -v a t; grep -c ap t; grep -n -i banana t; grep '^a.*t$' t; grep 'rr*y$' t; grep zz nope 2>&1; echo $?",
        "0\n1\ncherry\n2\n2:Banana\napricot\ncherry\ngrep: nope: No such file or directory\n2\n",
        0,
    );
    sb.check("grep -E 'ch|Ba' /data/t; grep -w appl /data/t", "Banana\ncherry\n", 1);
}

#[test]
fn head_tail_wc_sort_tee_seq() {
    let sb = Sandbox::new();
    sb.check(
        "seq 5 | head -n 2; seq 5 | tail -n 2; seq 3 | tail -n +2; printf 'b\\na\\nc\\na\\n' | sort -u; printf '10\\n9\\n100\\n' | sort -n -r; echo one two | wc -w; printf 'x\\ny\\n' | wc; seq 2 | tee /data/tee.out | wc -l; seq 3 -1 1",
        "1\n2\n4\n5\n2\n3\na\nb\nc\n100\n10\n9\n2\n      2       2       4\n2\n3\n2\n1\n",
        0,
    );
    assert_eq!(fs::read_to_string(sb.data.join("tee.out")).unwrap(), "1\n2\n");
}

#[test]
fn du_grep_o_xargs_tr_cut_which() {
    let sb = Sandbox::new();
    sb.data_file("a", "12345").data_file("d/b", &"x".repeat(5000)).data_file("csv", "a,b,c\n1,2,3\n");
    sb.check("du /data/d; du -s /data; du -sh /data/d", "12\t/data/d\n24\t/data\n12.0K\t/data/d\n", 0);
    sb.check("echo 'x12y345' | grep -o '[0-9][0-9]*'", "12\n345\n", 0);
    sb.check("echo a b c | xargs -n 2 echo; find /data/d -type f | xargs -I {} echo [{}]", "a b\nc\n[/data/d/b]\n", 0);
    sb.check("echo Hello | tr a-z A-Z; echo 'a  b' | tr -s ' ' '\\n'; echo hello | tr -d l", "HELLO\na\nb\nheo\n", 0);
    sb.check("cut -d, -f2 /data/csv; cut -c1-3 /data/csv; echo x:y:z | cut -d: -f1,3", "b\n2\na,b\n1,2\nx:z\n", 0);
    sb.check("which ls nope", "/bin/ls\n", 1);
}

/// `env CMD`, `xargs CMD` and `find -exec CMD` start their command as a process, found as the
/// shell finds it: any program of the image (here the userland's `printenv`, `cat`, `wc`) or a
/// script, with busybox's 127 and 126 when it is missing or cannot run.
#[test]
fn env_xargs_and_find_run_any_program_as_a_process() {
    let sb = Sandbox::new();
    sb.data_file("blob", "\0\x01 neither a module nor a script\n")
        .data_file("a.txt", "one\n")
        .data_file("b.txt", "two\nthree\n")
        .data_file("s", "#!/bin/sh\necho script $GREETING $1\n");
    sb.check(
        "chmod +x /data/s; env GREETING=hi printenv GREETING; env -i /bin/sh -c 'echo ${PATH:-none}'; env GREETING=yo /data/s arg; printf '/data/a.txt /data/b.txt' | xargs wc -l; find /data -name '*.txt' -exec cat {} ';'",
        "hi\nnone\nscript yo arg\n 1 /data/a.txt\n 2 /data/b.txt\n 3 total\none\ntwo\nthree\n",
        0,
    );
    sb.check(
        "env nope 2>&1; echo $?; env /data/blob 2>&1; echo $?; echo x | xargs nope 2>&1; echo $?; echo x | xargs false; echo $?; find /data/a.txt -exec nope {} ';' -print 2>&1; find /data/a.txt -exec false ';' -print; echo end",
        "env: can't execute 'nope': No such file or directory\n127\nenv: can't execute '/data/blob': Exec format error\n126\nxargs: can't execute 'nope': No such file or directory\n127\n123\nfind: can't execute 'nope': No such file or directory\nend\n",
        0,
    );
}

#[test]
fn printf_formats_and_reuses_its_format() {
    check(
        r#"printf '%s-%d\n' a 5 b 6; printf '[%5s|%-3s|%03d|%x]\n' ab c 7 255; printf 'no newline'; printf '\n%%\n'"#,
        "a-5\nb-6\n[   ab|c  |007|ff]\nno newline\n%\n",
    );
}

#[test]
fn basename_dirname() {
    check("basename /a/b.txt .txt; basename /a/b/; dirname /a/b; dirname b; dirname /", "b\nb\n/a\n.\n/\n");
}

// ---- system applets ----

#[test]
fn mount_lists_proc_mounts_like_busybox() {
    let sb = Sandbox::new();
    let data = sb.data.display();
    sb.check(
        "mount; mount -t bind",
        &format!(
            "rootfs on / type rootfs (rw)\n{data} on /data type bind (rw)\nproc on /proc type proc (ro)\n\
             tmpfs on /dev type tmpfs (ro,nosuid,mode=755)\nshm on /dev/shm type tmpfs (rw,nosuid,nodev,noexec)\n\
             {data} on /data type bind (rw)\n"
        ),
        0,
    );
    sb.check("mount -t volume; echo $?", "0\n", 0);
}

#[test]
fn df_walks_each_mount_for_used_space() {
    // Sizes count in 4 KiB units: /data holds itself, a and b (4K + 4K + 8K). `/` holds the
    // base image, whose size is the build's.
    let sb = Sandbox::new();
    sb.data_file("a", "12345").data_file("b", &"x".repeat(5000));
    let (out, exit) = sb.sh("df");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!((exit, lines.len()), (0, 6), "{out}");
    assert_eq!(lines[0], "Filesystem           1K-blocks      Used Available Use% Mounted on");
    assert!(lines[1].starts_with("rootfs                       -   ") && lines[1].ends_with("         -    - /"));
    assert!(
        lines[2].starts_with(&sb.data.display().to_string()) && lines[2].ends_with("       16         -    - /data")
    );
    assert!(lines[3].starts_with("proc    ") && lines[3].ends_with("         -    - /proc"));
    assert!(lines[4].starts_with("tmpfs    ") && lines[4].ends_with("         -    - /dev"), "{out}");
    assert!(lines[5].starts_with("shm    ") && lines[5].ends_with("         -    - /dev/shm"), "{out}");
    let (out, exit) = sb.sh("df -h /data");
    assert_eq!(exit, 0);
    assert_eq!(out.lines().next(), Some("Filesystem                Size      Used Available Use% Mounted on"));
    assert!(out.lines().nth(1).unwrap().ends_with("     16.0K         -    - /data"), "{out}");
}

/// `uname` is uutils', which names the platform it was built for (`wasi`), where GNU on Linux
/// prints `Linux`.
#[test]
fn hostname_id_uname_date() {
    let sb = Sandbox::new();
    sb.check(
        "hostname; id; id -u; whoami; uname; uname -n; date -d @0; date -d @1795185225 '+%Y-%m-%d %H:%M:%S %a %j'",
        "c0ffee\nuid=0(root) gid=0(root) groups=0(root)\n0\nroot\nwasi\nc0ffee\nThu Jan  1 00:00:00 UTC 1970\n2026-11-20 14:33:45 Fri 324\n",
        0,
    );
    let (out, _) = sb.sh("date");
    let fields: Vec<&str> = out.split_whitespace().collect();
    assert_eq!((fields.len(), fields[4]), (6, "UTC"), "{out}");
}

#[test]
fn sleep_waits_and_top_prints_one_screen() {
    let sb = Sandbox::new();
    let started = Instant::now();
    sb.check("sleep 0.2", "", 0);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let (out, exit) = sb.run(&["top", "-n", "1"]);
    assert_eq!(exit, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Mem: ") && lines[1].starts_with("CPU: ") && lines[4].ends_with(" top"), "{out}");
}

#[test]
fn top_and_tail_f_idle_until_the_container_stops() {
    // Not one of them catches TERM, so `docker stop` ends each at once: 128 + 15.
    let (out, code) = run_until_stopped(&["top"]);
    assert!(out.starts_with("Mem: ") && code == 143, "{code}: {out}");
    assert_eq!(run_until_stopped(&["sh", "-c", "echo up; sleep infinity"]), ("up\n".to_string(), 143));
}

#[test]
fn tail_f_idles_until_the_container_stops() {
    assert_eq!(run_until_stopped(&["tail", "-f", "/dev/null"]), (String::new(), 143));
}
