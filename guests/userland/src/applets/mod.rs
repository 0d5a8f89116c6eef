//! The table of applets: each name, where it comes from and how it is entered.

mod archive;
mod awk;
mod dd;
mod diff;
mod gzip;
mod less;
mod opts;
mod tar;
mod vi;
mod zip;

use std::ffi::OsString;

/// Where an applet's implementation comes from (for `--list` readers and the docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Coreutils,
    Sed,
    Diffutils,
    Awk,
    Kibi,
    /// Written here, on the tar, flate2 and zip crates where they apply.
    Own,
}

impl Source {
    /// The crate (or, for the ones written here, the crates) an applet is built on.
    pub fn crate_name(self) -> &'static str {
        match self {
            Source::Coreutils => "uutils coreutils",
            Source::Sed => "uutils sed",
            Source::Diffutils => "uutils diffutils",
            Source::Awk => "awk-rs",
            Source::Kibi => "kibi",
            Source::Own => "written here",
        }
    }
}

pub struct Applet {
    pub name: &'static str,
    pub source: Source,
    pub run: fn(Vec<OsString>) -> i32,
}

/// A uutils coreutils utility: its message bundle first (the name it is filed under, `[` being
/// `test`'s), then its `uumain`.
fn uutil(bundle: &str, args: Vec<OsString>, uumain: fn(std::vec::IntoIter<OsString>) -> i32) -> i32 {
    if let Err(e) = uucore::locale::setup_localization(bundle) {
        eprintln!("Could not init the localization system: {e}");
        return 99;
    }
    uumain(args.into_iter())
}

macro_rules! coreutils {
    ($($name:literal $bundle:literal $krate:ident),* $(,)?) => {
        &[$(Applet {
            name: $name,
            source: Source::Coreutils,
            run: |args| uutil($bundle, args, $krate::uumain),
        }),*]
    };
}

/// uutils coreutils' `feat_wasm` set, and `[`.
const COREUTILS: &[Applet] = coreutils![
    "[" "test" uu_test,
    "arch" "arch" uu_arch,
    "base32" "base32" uu_base32,
    "base64" "base64" uu_base64,
    "basename" "basename" uu_basename,
    "basenc" "basenc" uu_basenc,
    "cat" "cat" uu_cat,
    "cksum" "cksum" uu_cksum,
    "b2sum" "b2sum" uu_b2sum,
    "md5sum" "md5sum" uu_md5sum,
    "nice" "nice" uu_nice,
    "sha1sum" "sha1sum" uu_sha1sum,
    "sha224sum" "sha224sum" uu_sha224sum,
    "sha256sum" "sha256sum" uu_sha256sum,
    "sha384sum" "sha384sum" uu_sha384sum,
    "sha512sum" "sha512sum" uu_sha512sum,
    "comm" "comm" uu_comm,
    "cp" "cp" uu_cp,
    "csplit" "csplit" uu_csplit,
    "cut" "cut" uu_cut,
    "date" "date" uu_date,
    "dir" "ls" uu_dir,
    "dircolors" "dircolors" uu_dircolors,
    "dirname" "dirname" uu_dirname,
    "echo" "echo" uu_echo,
    "expand" "expand" uu_expand,
    "expr" "expr" uu_expr,
    "factor" "factor" uu_factor,
    "false" "false" uu_false,
    "fmt" "fmt" uu_fmt,
    "fold" "fold" uu_fold,
    "head" "head" uu_head,
    "hostid" "hostid" uu_hostid,
    "join" "join" uu_join,
    "link" "link" uu_link,
    "ln" "ln" uu_ln,
    "ls" "ls" uu_ls,
    "mkdir" "mkdir" uu_mkdir,
    "mktemp" "mktemp" uu_mktemp,
    "mv" "mv" uu_mv,
    "nl" "nl" uu_nl,
    "numfmt" "numfmt" uu_numfmt,
    "od" "od" uu_od,
    "paste" "paste" uu_paste,
    "pathchk" "pathchk" uu_pathchk,
    "pr" "pr" uu_pr,
    "printenv" "printenv" uu_printenv,
    "printf" "printf" uu_printf,
    "ptx" "ptx" uu_ptx,
    "pwd" "pwd" uu_pwd,
    "readlink" "readlink" uu_readlink,
    "realpath" "realpath" uu_realpath,
    "rm" "rm" uu_rm,
    "rmdir" "rmdir" uu_rmdir,
    "seq" "seq" uu_seq,
    "shred" "shred" uu_shred,
    "shuf" "shuf" uu_shuf,
    "sleep" "sleep" uu_sleep,
    "sort" "sort" uu_sort,
    "split" "split" uu_split,
    "sum" "sum" uu_sum,
    "tail" "tail" uu_tail,
    "tee" "tee" uu_tee,
    "test" "test" uu_test,
    "touch" "touch" uu_touch,
    "tr" "tr" uu_tr,
    "true" "true" uu_true,
    "truncate" "truncate" uu_truncate,
    "tsort" "tsort" uu_tsort,
    "tty" "tty" uu_tty,
    "uname" "uname" uu_uname,
    "unexpand" "unexpand" uu_unexpand,
    "uniq" "uniq" uu_uniq,
    "unlink" "unlink" uu_unlink,
    "vdir" "ls" uu_vdir,
    "wc" "wc" uu_wc,
    "yes" "yes" uu_yes,
    "nproc" "nproc" uu_nproc,
];

/// Everything else: the other uutils projects, awk, and the applets written here.
const OTHERS: &[Applet] = &[
    Applet { name: "sed", source: Source::Sed, run: sed },
    Applet { name: "diff", source: Source::Diffutils, run: diff::diff },
    Applet { name: "cmp", source: Source::Diffutils, run: diff::cmp },
    Applet { name: "awk", source: Source::Awk, run: awk::awk },
    Applet { name: "dd", source: Source::Own, run: dd::dd },
    Applet { name: "tar", source: Source::Own, run: tar::tar },
    Applet { name: "gzip", source: Source::Own, run: gzip::gzip },
    Applet { name: "gunzip", source: Source::Own, run: gzip::gunzip },
    Applet { name: "zcat", source: Source::Own, run: gzip::zcat },
    Applet { name: "zip", source: Source::Own, run: zip::zip },
    Applet { name: "unzip", source: Source::Own, run: zip::unzip },
    Applet { name: "less", source: Source::Own, run: less::less },
    Applet { name: "vi", source: Source::Kibi, run: vi::vi },
];

/// Every applet, in no particular order.
pub fn all() -> impl Iterator<Item = &'static Applet> {
    COREUTILS.iter().chain(OTHERS)
}

/// uutils sed: a uucore utility like coreutils', with its own message bundle.
fn sed(args: Vec<OsString>) -> i32 {
    uutil("sed", args, ::sed::sed::uumain)
}
