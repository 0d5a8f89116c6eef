//! The copy-on-write root through a real guest (the toolbox's shell) on real layer
//! directories: reads from the topmost layer, copy-up on write (data, mode, mtime), whiteouts,
//! merged listings, renames and removals of lower trees, opaque directories, links into lower
//! layers, and two containers of one image not seeing each other's changes.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use porthole_runtime::{Exit, GuestTree, MountDesc, RootDesc};

/// An image of two layers (`base` under `top`) and an empty upper per container.
struct Layers {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    top: PathBuf,
}

impl Layers {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (base, top) = (tmp.path().join("base"), tmp.path().join("top"));
        let file = |root: &Path, p: &str, text: &str| {
            fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
            fs::write(root.join(p), text).unwrap();
        };
        file(&base, "etc/motd", "base motd\n");
        file(&base, "etc/shadowed", "from base\n");
        file(&base, "srv/tree/a/one", "1\n");
        file(&base, "srv/tree/b/two", "2\n");
        file(&base, "opt/old/keep", "old\n");
        file(&top, "etc/shadowed", "from top\n");
        file(&top, "etc/app.conf", "conf\n");
        fs::set_permissions(base.join("etc/motd"), fs::Permissions::from_mode(0o640)).unwrap();
        let old = filetime(1_000_000_000);
        fs::File::options().write(true).open(base.join("etc/motd")).unwrap().set_modified(old).unwrap();
        symlink("/srv/tree/a", top.join("etc/tree-a")).unwrap();
        // A whiteout in the top layer hides a base file.
        file(&base, "etc/gone", "hidden\n");
        file(&top, "etc/.wh.gone", "");
        Self { _tmp: tmp, base, top }
    }

    /// A fresh, empty upper directory: a new container of the image.
    fn container(&self, name: &str) -> PathBuf {
        let upper = self.base.parent().unwrap().join(name);
        fs::create_dir(&upper).unwrap();
        upper
    }

    /// The container's tree: its upper over the image's two layers, and the base image's
    /// programs the scripts use at `/bin` (a read-only mount, so no layer holds them).
    fn tree(&self, upper: &Path) -> GuestTree {
        let bin = self.base.parent().unwrap().join("bin");
        if !bin.exists() {
            common::base_bin(&bin, &["sh", "ls"], &["cat", "touch", "rm", "mv", "mkdir", "ln"]);
        }
        let root = RootDesc {
            dir: common::open_dir(upper),
            lowers: vec![common::open_dir(&self.top), common::open_dir(&self.base)],
            read_only: false,
            quota: None,
        };
        GuestTree::new(root, vec![MountDesc::dir("/bin", common::open_dir(&bin), true)]).unwrap()
    }

    fn sh(&self, upper: &Path, script: &str) -> String {
        let (out, exit) = common::run_in_container(self.tree(upper), &["sh", "-c", script]);
        assert_eq!(exit, Exit::Code(0), "script: {script}\noutput: {out}");
        out
    }
}

fn filetime(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

#[test]
fn reads_come_from_the_topmost_layer_and_whiteouts_hide() {
    let l = Layers::new();
    let c = l.container("c");
    let out = l.sh(&c, "cat /etc/motd /etc/shadowed /etc/tree-a/one; ls /etc; test -e /etc/gone || echo gone");
    assert_eq!(out, "base motd\nfrom top\n1\napp.conf\nmotd\nshadowed\ntree-a\ngone\n");
    assert_eq!(fs::read_dir(&c).unwrap().count(), 0, "reading copies nothing up");
}

#[test]
fn a_write_copies_up_data_mode_and_mtime_and_leaves_the_layer_alone() {
    let l = Layers::new();
    let c = l.container("c");
    l.sh(&c, "echo more >> /etc/motd");
    assert_eq!(fs::read_to_string(c.join("etc/motd")).unwrap(), "base motd\nmore\n");
    assert_eq!(fs::read_to_string(l.base.join("etc/motd")).unwrap(), "base motd\n");
    assert_eq!(fs::metadata(c.join("etc/motd")).unwrap().mode() & 0o7777, 0o640);
    // A change of times alone copies up and keeps the data.
    l.sh(&c, "touch /etc/shadowed");
    assert_eq!(fs::read_to_string(c.join("etc/shadowed")).unwrap(), "from top\n");
}

#[test]
fn removals_leave_whiteouts_and_listings_merge() {
    let l = Layers::new();
    let c = l.container("c");
    let out = l.sh(&c, "rm /etc/motd /etc/shadowed; rm -rf /srv/tree; ls /etc; ls /srv; echo x > /etc/new; ls /etc");
    assert_eq!(out, "app.conf\ntree-a\napp.conf\nnew\ntree-a\n");
    assert!(
        c.join("etc/.wh.motd").is_file() && c.join("etc/.wh.shadowed").is_file() && c.join("srv/.wh.tree").is_file()
    );
    assert!(l.base.join("srv/tree/a/one").is_file(), "the lower layer is untouched");
    // The link into the removed lower directory now dangles, as it would on overlayfs.
    assert_eq!(l.sh(&c, "cat /etc/tree-a/one 2>/dev/null || echo dangling"), "dangling\n");
}

#[test]
fn renaming_a_lower_directory_moves_its_merged_contents() {
    let l = Layers::new();
    let c = l.container("c");
    let out = l.sh(&c, "mv /srv/tree /srv/moved; ls /srv; cat /srv/moved/a/one /srv/moved/b/two; ls /srv/tree 2>/dev/null || echo none");
    assert_eq!(out, "moved\n1\n2\nnone\n");
    assert!(c.join("srv/.wh.tree").is_file());
}

#[test]
fn a_directory_removed_and_made_again_is_opaque() {
    let l = Layers::new();
    let c = l.container("c");
    let out = l.sh(&c, "rm -rf /opt/old; mkdir /opt/old; echo new > /opt/old/fresh; ls /opt/old");
    assert_eq!(out, "fresh\n");
    assert!(c.join("opt/old/.wh..wh..opq").is_file());
    assert!(!c.join("opt/.wh.old").exists(), "the whiteout gave way to the opaque directory");
}

#[test]
fn a_symlink_into_a_lower_directory_writes_into_the_upper() {
    let l = Layers::new();
    let c = l.container("c");
    l.sh(&c, "echo via-link > /etc/tree-a/one; ln -s /etc/motd /etc/motd-link");
    assert_eq!(fs::read_to_string(c.join("srv/tree/a/one")).unwrap(), "via-link\n");
    assert_eq!(fs::read_link(c.join("etc/motd-link")).unwrap(), Path::new("/etc/motd"));
    assert_eq!(fs::read_to_string(l.base.join("srv/tree/a/one")).unwrap(), "1\n");
}

#[test]
fn one_containers_changes_are_not_anothers() {
    let l = Layers::new();
    let (a, b) = (l.container("a"), l.container("b"));
    l.sh(&a, "echo changed > /etc/motd; rm /etc/app.conf");
    assert_eq!(l.sh(&b, "cat /etc/motd /etc/app.conf"), "base motd\nconf\n");
    assert_eq!(l.sh(&a, "cat /etc/motd; ls /etc"), "changed\nmotd\nshadowed\ntree-a\n");
}

/// Names made and removed over and over in a directory of the image, as a build's temporary
/// files are: new names (which the upper takes without asking for whiteouts), and a lower
/// file removed and made again (whose whiteout each create takes away and each removal puts
/// back), while the directory's lower listing is kept after the first questions.
#[test]
fn names_made_and_removed_again_and_again_in_a_lower_directory() {
    let l = Layers::new();
    let c = l.container("c");
    let out = l.sh(
        &c,
        "for i in 1 2 3; do echo $i > /etc/motd; rm /etc/motd; echo n$i > /etc/new$i; cat /etc/new$i; rm /etc/new$i; done; \
         ls /etc; echo back > /etc/motd; cat /etc/motd /etc/shadowed; ls /etc",
    );
    assert_eq!(out, "n1\nn2\nn3\napp.conf\nshadowed\ntree-a\nback\nfrom top\napp.conf\nmotd\nshadowed\ntree-a\n");
    assert!(!c.join("etc/.wh.motd").exists(), "the last create took the whiteout away");
    let names: Vec<_> = fs::read_dir(c.join("etc")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["motd"], "no whiteout of a name no layer below has");
    assert_eq!(fs::read_to_string(l.base.join("etc/motd")).unwrap(), "base motd\n");
}
