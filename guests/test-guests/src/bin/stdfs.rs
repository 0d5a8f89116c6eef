//! Exercises `std::fs` broadly under the directory given as the first argument and checks every
//! result; prints `stdfs ok` and exits 0, or panics naming the step that failed.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

fn main() {
    let base = std::env::args().nth(1).expect("usage: stdfs DIR");
    let base = Path::new(&base);
    let root = base.join("stdfs");
    let _ = fs::remove_dir_all(&root);

    fs::create_dir_all(root.join("a/b/c")).expect("create_dir_all");
    assert!(fs::metadata(root.join("a/b/c")).unwrap().is_dir(), "metadata of new dir");

    fs::write(root.join("a/one.txt"), b"hello").expect("write");
    assert_eq!(fs::read_to_string(root.join("a/one.txt")).unwrap(), "hello", "read back");
    assert_eq!(fs::metadata(root.join("a/one.txt")).unwrap().len(), 5, "len");

    // seek, overwrite, append, set_len
    let mut f = OpenOptions::new().read(true).write(true).open(root.join("a/one.txt")).unwrap();
    f.seek(SeekFrom::Start(1)).unwrap();
    f.write_all(b"EL").unwrap();
    assert_eq!(f.stream_position().unwrap(), 3, "position after write");
    f.seek(SeekFrom::End(-1)).unwrap();
    let mut last = String::new();
    f.read_to_string(&mut last).unwrap();
    assert_eq!(last, "o", "read after SeekFrom::End");
    f.set_len(3).unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(root.join("a/one.txt")).unwrap(), "hEL", "set_len truncates");
    let mut f = OpenOptions::new().append(true).open(root.join("a/one.txt")).unwrap();
    f.write_all(b"+tail").unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(root.join("a/one.txt")).unwrap(), "hEL+tail", "append");
    let f = File::open(root.join("a/one.txt")).unwrap();
    f.set_len(0).expect_err("set_len on a read-only handle must fail");

    // read_dir
    fs::write(root.join("a/two.txt"), b"2").unwrap();
    let mut names: Vec<String> =
        fs::read_dir(root.join("a")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["b", "one.txt", "two.txt"], "read_dir");
    let types: Vec<bool> =
        fs::read_dir(root.join("a")).unwrap().map(|e| e.unwrap().file_type().unwrap().is_dir()).collect();
    assert_eq!(types.iter().filter(|d| **d).count(), 1, "file_type from read_dir");

    // rename file and directory
    fs::rename(root.join("a/two.txt"), root.join("a/b/two.txt")).expect("rename file");
    assert!(!root.join("a/two.txt").exists(), "rename source gone");
    fs::rename(root.join("a/b"), root.join("a/bee")).expect("rename dir");
    assert_eq!(fs::read_to_string(root.join("a/bee/two.txt")).unwrap(), "2", "file moved with dir");

    // symlinks, relative and absolute
    #[allow(deprecated)]
    fs::soft_link("one.txt", root.join("a/link")).expect("relative symlink");
    assert_eq!(fs::read_link(root.join("a/link")).unwrap(), Path::new("one.txt"), "read_link");
    assert_eq!(fs::read_to_string(root.join("a/link")).unwrap(), "hEL+tail", "follow symlink");
    assert!(fs::symlink_metadata(root.join("a/link")).unwrap().file_type().is_symlink(), "symlink_metadata");
    let abs_target = root.join("a/bee/two.txt");
    #[allow(deprecated)]
    fs::soft_link(&abs_target, root.join("a/abslink")).expect("absolute symlink");
    assert_eq!(fs::read_link(root.join("a/abslink")).unwrap(), abs_target, "absolute read_link stored verbatim");
    assert_eq!(fs::read_to_string(root.join("a/abslink")).unwrap(), "2", "follow absolute symlink");

    // hard link
    fs::hard_link(root.join("a/one.txt"), root.join("a/hard")).expect("hard_link");
    assert_eq!(fs::read_to_string(root.join("a/hard")).unwrap(), "hEL+tail", "hard link content");

    // canonicalize: wasi-libc has no realpath, so std may say Unsupported; when it works it must
    // resolve the links.
    match fs::canonicalize(root.join("a/abslink")) {
        Ok(p) => assert_eq!(p, abs_target, "canonicalize"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "canonicalize error {e}"),
    }

    // copy and times
    fs::copy(root.join("a/one.txt"), root.join("copy.txt")).expect("copy");
    assert_eq!(fs::read(root.join("copy.txt")).unwrap(), b"hEL+tail", "copy content");
    let modified = fs::metadata(root.join("copy.txt")).unwrap().modified().unwrap();
    assert!(modified.elapsed().map(|d| d.as_secs() < 3600).unwrap_or(true), "mtime is recent");

    // errors
    assert_eq!(fs::create_dir(root.join("a")).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(root.join("missing")).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    assert!(fs::remove_dir(root.join("a")).is_err(), "remove non-empty dir");

    // remove_dir_all, with links inside that must not be followed
    fs::remove_dir_all(&root).expect("remove_dir_all");
    assert!(!root.exists(), "tree removed");
    assert!(fs::read_dir(base).is_ok(), "base still there");
    println!("stdfs ok");
}
