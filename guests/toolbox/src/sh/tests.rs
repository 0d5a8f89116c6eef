//! The shell's table tests, run natively: parsing (and printing back, which child shells rely
//! on), expansion and the builtins, through a real [`Shell`] whose output is captured. Starting
//! programs needs the host, so these scripts use builtins only; the end-to-end tests in
//! `crates/engine/tests/shell.rs` run the rest in a container.
//!
//! Many cases are derived from a POSIX shell's own test suite (mrsh's `test/*.sh`, MIT) and
//! from the POSIX Shell Command Language's examples; each table says where it comes from.

use super::builtins::{GetoptsStep, getopts_step};
use super::exec::{Shell, Unwind};
use super::{parser, print};
use crate::ctx::Env;
use crate::stream::{Input, Io, Output};

/// Runs `script` in a fresh non-interactive shell: `status|stdout|stderr`.
fn run(script: &str) -> String {
    run_in(&mut shell(), script)
}

fn shell() -> Shell {
    let mut env = Env::default();
    env.set("HOME", "/root");
    env.set("PATH", "/bin");
    Shell::new(&env, "sh", vec!["a b".into(), "c".into()], false)
}

/// Runs `script` in `sh`: `status|stdout|stderr`.
fn run_in(sh: &mut Shell, script: &str) -> String {
    let (out, err) = (Output::capture(), Output::capture());
    // The buffers themselves: `exec >&2` retargets the streams, not what they collected.
    let (out_buffer, err_buffer) = (out.dup(), err.dup());
    let io = Io { stdin: Input::empty(), stdout: out.clone(), stderr: err.clone() };
    let status = match parser::parse(script) {
        Ok(list) => match sh.run_list(&list, &io) {
            Ok(s) | Err(Unwind::Exit(s) | Unwind::Return(s)) => s,
            Err(_) => sh.status,
        },
        Err(e) => {
            err.note(&format!("{e}\n"));
            2
        }
    };
    let text = |o: &Output| String::from_utf8_lossy(&o.take()).into_owned();
    format!("{status}|{}|{}", text(&out_buffer), text(&err_buffer))
}

fn check_all(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (script, want) in cases {
        let got = run(script);
        if got != *want {
            failures.push(format!("script: {script:?}\n  want: {want:?}\n   got: {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failing:\n{}", failures.len(), failures.join("\n"));
}

/// Parse → print → parse gives the same tree: what a child shell runs is what was written.
#[test]
fn printed_scripts_parse_back_to_the_same_tree() {
    let scripts = [
        "echo hello world",
        "a=1 b='x y' env | grep -v c >out 2>&1 </dev/null",
        "echo \"$HOME\" '$x' \"a${b}c\" ${#x} ${x:-d e} \"${x:+\"q\"}\" ${x%.*} \"${x##*/}\" ${x/a/b} ${x//a/\"$y\"} ${x:1:2}",
        "echo $(echo a | tr a b) \"$(cat <<EOF\nin $x\nEOF\n)\" `echo back`",
        "if true; then echo y; elif false; then :; else echo n; fi",
        "for i in 1 2 \"$@\"; do echo $i; done; for j; do :; done",
        "while read l; do echo \"$l\"; done <f; until false; do break; done",
        "case $x in a|b) echo ab;; (*.c) echo c;; *) ;; esac",
        "f() { local v=1; echo $v; }; g() ( cd /; pwd )",
        "sleep 1 & wait $!; ! true && false || echo $?",
        "cat <<-'END' | wc -l\n\tliteral $x\n\tEND\necho after",
        "cat <<X\n$(echo sub) $((1+2)) \\$ \\` \\\\ done\nX",
        "echo $((x * (y + 2))) \"$((1<<3))\"; exec 3>f 4<&0; echo hi >&3 1>&-",
        "echo a\\ b \\\"q\\\" 'it'\\''s' \"tab\\there\"",
        "x=$(case a in a) echo in;; esac)",
    ];
    for script in scripts {
        let tree = parser::parse(script).unwrap_or_else(|e| panic!("{script:?}: {e}"));
        let text = print::list(&tree);
        let again = parser::parse(&text).unwrap_or_else(|e| panic!("{script:?} printed as {text:?}: {e}"));
        assert_eq!(tree, again, "{script:?} printed as:\n{text}");
    }
}

/// A pipeline stage that is a builtin or compound command runs in a child shell given the
/// prelude and the stage's text: that child must do what the stage does in the shell itself
/// (unexported variables, functions, positional parameters, options, `$?`).
#[test]
fn a_child_shell_given_the_prelude_runs_a_stage_as_the_shell_would() {
    let setup = "x='it'\\''s'; y=\"two words\"; f() { echo \"f:$x:$1:$#:$-\"; return 3; }; set -f -o pipefail; false";
    let stages = [
        "{ f arg; echo \"$? ${x%s}\" $y; }",
        "{ echo \"status $?\"; for a in \"$@\"; do echo \"[$a]\"; done; }",
        "case $y in two*) f \"$y\";; esac",
        "while read l; do echo \"$l\"; done <<EOF\n$x and $(echo sub)\nEOF",
    ];
    for stage in stages {
        let mut parent = shell();
        run_in(&mut parent, setup);
        let tree = parser::parse(stage).unwrap();
        let child_text = format!("{}{}", parent.prelude(), print::command(&tree[0].first.commands[0]));
        let mut child = shell();
        let in_child = run_in(&mut child, &child_text);
        let in_parent = run_in(&mut parent, stage);
        assert_eq!(in_child, in_parent, "{stage}\nchild text:\n{child_text}");
    }
}

/// POSIX 2.6.2 parameter expansion, quoted and not, with patterns; bash's `${x/…}` and
/// `${x:o:l}`. Cases after mrsh's test/word.sh and the table in POSIX 2.6.2.
#[test]
fn parameter_expansions() {
    check_all(&[
        ("x=abc; e=; echo ${x:-d} ${u:-d} ${u-d} ${e:-d} \"${e-d}\".", "0|abc d d d .\n|"),
        ("e=; echo ${e:-d} \"${e-d}\"x", "0|d x\n|"),
        ("echo ${u:=new} $u; e=; echo ${e:=set} $e; echo ${e=no}", "0|new new\nset set\nset\n|"),
        ("x=1; echo ${x:+alt} ${u:+alt}. \"${x+a b}\"", "0|alt . a b\n|"),
        ("echo ${u:?}", "2||sh: u: parameter not set\n"),
        ("echo ${u:?custom text}; echo not here", "2||sh: u: custom text\n"),
        ("x=abc; echo ${#x} ${#u}", "0|3 0\n|"),
        (
            "p=/usr/local/lib.tar.gz; echo ${p%.*} ${p%%.*} ${p#*/} ${p##*/}",
            "0|/usr/local/lib.tar /usr/local/lib usr/local/lib.tar.gz lib.tar.gz\n|",
        ),
        (
            "p=/usr/local/lib.tar.gz; echo \"${p%.*}\" \"${p%%.*}\" \"${p#*/}\" \"${p##*/}\"",
            "0|/usr/local/lib.tar /usr/local/lib usr/local/lib.tar.gz lib.tar.gz\n|",
        ),
        ("x='a*b'; echo ${x%'*b'} ${x%\\*b} \"${x#\"a*\"}\"", "0|a a b\n|"),
        ("x=aXbXc; echo ${x/X/-} ${x//X/-} ${x/#a/S} ${x/%c/E} ${x/Y/-}", "0|a-bXc a-b-c SXbXc aXbXE aXbXc\n|"),
        ("x=abcdef; echo ${x:2} ${x:1:3} ${x: -2} ${x:0:$((1+1))}", "0|cdef bcd ef ab\n|"),
        ("set -- one two three; echo $# ${#} \"$2\" ${3}", "0|3 3 two three\n|"),
        ("x='a  b'; printf '[%s]' $x \"$x\"; echo", "0|[a][b][a  b]\n|"),
        ("set -- 'a b' c; printf '[%s]' \"$@\" \"$*\" $*; echo", "0|[a b][c][a b c][a][b][c]\n|"),
        ("IFS=:; x=a:b::c; printf '[%s]' $x; echo", "0|[a][b][][c]\n|"),
        ("echo ~ ~/x \"~\"", "0|/root /root/x ~\n|"),
        ("x=5; echo $((x*2+1)) $((x>3)) $(( (x+1)%4 ))", "0|11 1 2\n|"),
    ]);
}

/// mrsh's test/word.sh (emersion/mrsh, MIT): tilde and parameter expansion, with the output a
/// POSIX shell gives (dash's and busybox ash's agree on these lines).
#[test]
fn mrsh_word_expansions() {
    check_all(&[
        ("echo ~ ~/stuff ~/\"stuff\" \"~/stuff\"", "0|/root /root/stuff /root/stuff ~/stuff\n|"),
        ("echo '~/stuff' ~\"/stuff\" \"/\"~ \"a\"~\"a\"", "0|~/stuff ~/stuff /~ a~a\n|"),
        ("a=~/stuff; echo $a", "0|/root/stuff\n|"),
        ("a=a; b=B; echo $a ${b} \">$a<\"; echo \\$a '$a'", "0|a B >a<\n$a $a\n|"),
        (
            "a=a; null=; echo ${a:-BAD} ${idontexist:-GOOD} ${null:-GOOD} ${idontexist:-}; echo ${a-BAD} ${idontexist-GOOD} ${null-BAD} ${null-}",
            "0|a GOOD GOOD\na GOOD\n|",
        ),
        (
            "echo ${c:=GOOD} $c; echo ${c:=BAD} $c; c=\"\"; echo ${c:=GOOD} $c; unset c; echo ${c=GOOD} $c; echo ${c=BAD} $c; c=\"\"; echo ${c=BAD} $c",
            "0|GOOD GOOD\nGOOD GOOD\nGOOD GOOD\nGOOD GOOD\nGOOD GOOD\n\n|",
        ),
        (
            "a=a; null=; echo ${a:+GOOD} ${idontexist:+BAD} ${null:+BAD} ${idontexist:+}; echo ${a+GOOD} ${idontexist+BAD} ${null-GOOD} ${null+}",
            "0|GOOD\nGOOD\n|",
        ),
        ("hello=hello; null=; echo ${#hello} ${#null} ${#idontexist}", "0|5 0 0\n|"),
        (
            "foo=asdf; echo ${foo-bar}xyz}; foo=; echo ${foo-bar}xyz}; unset foo; echo ${foo-bar}xyz}",
            "0|asdfxyz}\nxyz}\nbarxyz}\n|",
        ),
        (
            "unset X; echo ${X:=abc}; set a b c; echo ${3:+posix}; posix=/usr/posix; echo ${#posix}",
            "0|abc\nposix\n10\n|",
        ),
        // The spec's commented-out examples, which busybox and dash do handle.
        (
            "x=file.c; echo ${x%.c}.o; x=posix/src/std; echo ${x%%/*}; x=$HOME/src/cmd; echo ${x#$HOME}; x=/one/two/three; echo ${x##*/}",
            "0|file.o\nposix\n/src/cmd\nthree\n|",
        ),
        ("echo $(echo asdf); echo `echo asdf`", "0|asdf\nasdf\n|"),
    ]);
}

/// Command substitution parsed into the tree: any list, nested, quoted, backquoted; the
/// trailing newlines go; `$?` is its status. After mrsh's test/command-subst.sh.
#[test]
fn command_substitution() {
    check_all(&[
        ("x=$(echo hello); echo \"[$x]\"", "0|[hello]\n|"),
        ("x=$(echo a; echo b); echo \"$x\"", "0|a\nb\n|"),
        ("echo \"$(echo \"$(echo nested)\")\"", "0|nested\n|"),
        ("echo `echo back` \"`echo q`\"", "0|back q\n|"),
        ("x=$(printf 'a\\n\\n\\n'); echo \"[$x]\"", "0|[a]\n|"),
        ("x=$(false); echo $?", "0|1\n|"),
        ("x=$(case a in a) echo arm;; esac); echo $x", "0|arm\n|"),
        ("f() { echo in-f; }; echo $(f)", "0|in-f\n|"),
        ("x=1; y=$(x=2; echo $x); echo $x $y", "0|1 2\n|"),
        ("echo $(echo 'a  b')", "0|a b\n|"),
    ]);
}

/// Control flow, functions and builtins. After mrsh's test/{if,loop,case,function}.sh.
#[test]
fn control_flow_and_builtins() {
    check_all(&[
        ("if false; then echo a; elif true; then echo b; else echo c; fi", "0|b\n|"),
        ("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", "0|1\n3\n|"),
        ("i=0; while [ $i -lt 5 ]; do i=$((i+1)); [ $i = 3 ] && break; done; echo $i", "0|3\n|"),
        ("for a in 1 2; do for b in x y; do [ $b = y ] && continue 2; echo $a$b; done; done", "0|1x\n2x\n|"),
        ("case foo.c in *.h) echo h;; *.c|*.cc) echo c;; esac", "0|c\n|"),
        ("f() { return 3; }; f; echo $?", "0|3\n|"),
        ("f() { local x=in; echo $x; }; x=out; f; echo $x", "0|in\nout\n|"),
        ("! true; echo $?; ! false; echo $?", "0|1\n0\n|"),
        ("true && echo and || echo or; false && echo no || echo or", "0|and\nor\n|"),
        ("set -e; false || true; echo still; false; echo never", "1|still\n|"),
        ("echo -n a; printf '%s-%d\\n' b 4", "0|ab-4\n|"),
        ("[ -z '' ] && test 1 -eq 1 && echo yes", "0|yes\n|"),
        ("x=1; unset x; echo ${x-unset}", "0|unset\n|"),
        ("set -- a b c; shift 2; echo $1 $#", "0|c 1\n|"),
        ("eval 'x=5; echo $x'", "0|5\n|"),
        ("trap 'echo bye' EXIT; trap", "0|trap -- 'echo bye' EXIT\n|"),
        (
            "trap 'echo int' INT; trap '' TERM; trap; trap - INT; trap",
            "0|trap -- 'echo int' INT\ntrap -- '' TERM\ntrap -- '' TERM\n|",
        ),
        ("trap 'x' NOPE", "1||sh: trap: NOPE: bad trap\n"),
        ("type cd echo nosuch", "1|cd is a shell builtin\necho is a shell builtin\nnosuch: not found\n|"),
        ("(exit 7); echo $?", "0|7\n|"),
        ("hash cd; echo $?; hash nosuch-program", "1|0\n|sh: hash: nosuch-program: not found\n"),
    ]);
}

/// `getopts` as POSIX's example in the getopts utility page uses it.
#[test]
fn getopts_walks_options() {
    check_all(&[
        (
            "set -- -a -b val -cfile rest; while getopts ab:c: o; do echo \"$o ${OPTARG-}\"; done; shift $((OPTIND-1)); echo \"$@\"",
            "0|a \nb val\nc file\nrest\n|",
        ),
        ("set -- -xy; while getopts xy o; do echo $o; done; echo $OPTIND", "0|x\ny\n2\n|"),
        ("set -- -q; getopts a o; echo $o $?", "0|? 0\n|sh: illegal option -- q\n"),
        ("set -- -q; getopts :a o; echo $o $OPTARG", "0|? q\n|"),
        ("set -- -a; getopts :a: o; echo $o $OPTARG", "0|: a\n|"),
        ("set -- -- -a; getopts a o; echo $? $OPTIND", "0|1 2\n|"),
    ]);
    let args: Vec<String> = ["-ab", "x"].iter().map(|s| s.to_string()).collect();
    let (mut optind, mut at) = (1, 0);
    assert_eq!(getopts_step("ab:", &args, &mut optind, &mut at), GetoptsStep::Option('a', None));
    assert_eq!(getopts_step("ab:", &args, &mut optind, &mut at), GetoptsStep::Option('b', Some("x".into())));
    assert_eq!((optind, at), (3, 0));
    assert_eq!(getopts_step("ab:", &args, &mut optind, &mut at), GetoptsStep::End);
}

/// `exec` with only redirections changes the shell's own streams for what follows; on a
/// compound command's redirected stream the change ends with it.
#[test]
fn exec_redirections_persist() {
    check_all(&[
        ("exec 2>&1; echo err >&2", "0|err\n|"),
        ("exec 3>&1; echo three >&3; exec 3>&-; echo x >&3", "1|three\n|sh: 3: Bad file descriptor\n"),
        ("{ exec >&2; echo moved; }; echo back", "0||moved\nback\n"),
        ("{ exec >&2; echo inside; } >&1; echo outside", "0|outside\n|inside\n"),
        ("exec 2>&1; exec >&-; echo gone; echo err >&2", "0|err\n|"),
    ]);
}

/// What the shell says for syntax errors and failed redirections (busybox's texts).
#[test]
fn errors() {
    check_all(&[
        ("if true; then", "2||syntax error: unexpected end of file (expecting \"fi\")\n"),
        ("echo ${x", "2||syntax error: missing '}'\n"),
        ("cat <nope/file", "1||sh: can't open 'nope/file': No such file or directory\n"),
        ("echo hi >&7", "1||sh: 7: Bad file descriptor\n"),
        ("x=$RANDOM; y=$RANDOM; [ \"$x\" != \"$y\" ] && [ $x -ge 0 ] && [ $x -lt 32768 ] && echo ok", "0|ok\n|"),
    ]);
}
