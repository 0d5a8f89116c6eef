//! The walks the engine keeps for the dashboard, made by the toolbox: `cat` through a symlink
//! from one volume into another (each step with its volume), the same link in a container that
//! lacks the content volume (broken, naming where), which walks are kept and which are not, and
//! the live `walk` events.

mod common;

use porthole_core::event::EventType;
use porthole_core::mounts::MountRequests;
use porthole_engine::{CreateOptions, Engine, WalkRecord};

fn opts(name: &str, binds: &[&str], cmd: Option<Vec<String>>) -> CreateOptions {
    CreateOptions {
        name: Some(name.into()),
        image: "busybox".into(),
        cmd,
        mounts: MountRequests { binds: binds.iter().map(|b| b.to_string()).collect(), ..Default::default() },
        ..Default::default()
    }
}

/// Fills the volumes `www` and `pulp` as the Pulp worker would: the content, and a link to it.
fn mirror(e: &Engine) {
    let script = "mkdir -p /var/lib/pulp/content /var/www/pub && echo mirrored > /var/lib/pulp/content/abc \
                  && ln -s /var/lib/pulp/content/abc /var/www/pub/f";
    let (code, out, id) = common::run(e, opts("worker", &["www:/var/www", "pulp:/var/lib/pulp"], common::sh(script)));
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(e.walks(&id).unwrap(), [], "writes and directory opens are not kept");
}

/// A walk as one line: `path: step [mount volume] -> target; … error (broke at …)`.
fn render(w: &WalkRecord) -> String {
    let mut s = format!("{}:", w.path);
    for step in &w.steps {
        s += &format!(" {} [{} {}]", step.path, step.mount, step.volume.as_deref().unwrap_or("-"));
        if let Some(t) = &step.target {
            s += &format!(" -> {t};");
        }
    }
    s += &format!(" {}", w.error.as_deref().unwrap_or("ok"));
    if let Some(b) = &w.broke {
        s += &format!(" (broke at {} [{}]: {} missing)", b.existing.path, b.existing.mount, b.missing);
    }
    s
}

fn walks(e: &Engine, id: &str) -> Vec<String> {
    e.walks(id).unwrap().iter().map(render).collect()
}

#[test]
fn cat_through_a_link_from_one_volume_into_another() {
    let (_tmp, e) = common::engine();
    mirror(&e);
    let mut events = e.subscribe_walks();
    let cat = Some(vec!["cat".into(), "/var/www/pub/f".into()]);
    let (code, out, id) = common::run(&e, opts("web", &["www:/var/www:ro", "pulp:/var/lib/pulp:ro"], cat));
    assert_eq!((code, out.as_str()), (0, "mirrored\n"));
    assert_eq!(
        walks(&e, &id),
        ["/var/www/pub/f: /var/www/pub/f [/var/www www] -> /var/lib/pulp/content/abc; \
          /var/lib/pulp/content/abc [/var/lib/pulp pulp] ok"]
    );
    // The guest ended before `wait` returned, so its events are already in the channel.
    let walk_events: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter(|ev| ev.kind == EventType::Walk)
        .map(|ev| format!("{} {} {}", ev.action, ev.actor_id == id, ev.attributes["path"]))
        .collect();
    assert_eq!(walk_events, ["walk true /var/www/pub/f"]);
}

#[test]
fn without_the_content_volume_the_walk_breaks_where_the_volume_would_be() {
    let (_tmp, e) = common::engine();
    mirror(&e);
    let cat = Some(vec!["cat".into(), "/var/www/pub/f".into()]);
    let (code, out, id) = common::run(&e, opts("web", &["www:/var/www:ro"], cat));
    assert_eq!((code, out.as_str()), (1, "cat: /var/www/pub/f: No such file or directory\n"));
    assert_eq!(
        walks(&e, &id),
        ["/var/www/pub/f: /var/www/pub/f [/var/www www] -> /var/lib/pulp/content/abc; ENOENT \
          (broke at /var [/]: lib missing)"]
    );
}

#[test]
fn a_plain_file_and_a_missing_one_are_kept_while_the_container_exists() {
    let (_tmp, e) = common::engine();
    // A redirection is an open: the userland's `cat` looks a missing file up with a stat first,
    // and failed stats are kept only through a link (a shell's PATH search would flood the ring).
    let cat = common::sh("cat /etc/hostname; cat < /etc/nope");
    let (code, _, id) = common::run(&e, opts("reader", &[], cat));
    assert_ne!(code, 0);
    let kept = e.walks(&id).unwrap();
    assert_eq!(
        kept.iter().map(|w| (w.path.as_str(), w.error.as_deref())).collect::<Vec<_>>(),
        [("/etc/hostname", None), ("/etc/nope", Some("ENOENT"))]
    );
    e.remove(&id, Default::default()).unwrap();
    assert!(e.walks(&id).is_err(), "no such container");
}
