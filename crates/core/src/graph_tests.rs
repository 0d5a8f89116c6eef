//! Tests for `graph`: the Pulp walkthrough as input, the graph's text form as the expected
//! output, and checks that the SVG carries every node and edge.

use crate::graph::*;

fn image(id: &str, tag: &str, volumes: &[&str], created: i64) -> ImageSummary {
    ImageSummary {
        id: id.into(),
        tags: vec![tag.into()],
        volumes: volumes.iter().map(|v| v.to_string()).collect(),
        created,
    }
}

fn container(id: &str, name: &str, image_id: &str, created: i64, mounts: Vec<MountSummary>) -> ContainerSummary {
    ContainerSummary {
        id: id.into(),
        name: name.into(),
        image_id: image_id.into(),
        image: "img".into(),
        state: "running".into(),
        command: "/bin/sh".into(),
        created,
        mounts,
        ports: vec![],
        networks: vec![],
        pod: None,
    }
}

fn volume_mount(
    dst: &str,
    volume: &str,
    rw: bool,
    inherited_from: Option<&str>,
    from_image_volume: bool,
) -> MountSummary {
    MountSummary {
        destination: dst.into(),
        volume: Some(volume.into()),
        bind_source: None,
        rw,
        inherited_from: inherited_from.map(String::from),
        from_image_volume,
    }
}

fn volume(name: &str, anonymous: bool, created: i64) -> VolumeSummary {
    VolumeSummary {
        name: name.into(),
        anonymous,
        created,
        size: 2048,
        files: 3,
        host_path: format!("/root/volumes/{name}/_data"),
    }
}

const ANON1: &str = "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111";
const ANON2: &str = "bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222";

/// The Pulp arrangement: a data container made from an image with two `VOLUME`s, a worker
/// taking them with `--volumes-from`, read-only, and a bind mount.
fn pulp() -> GraphInput {
    let bind = MountSummary {
        destination: "/src".into(),
        volume: None,
        bind_source: Some("/home/t/src".into()),
        rw: false,
        inherited_from: None,
        from_image_volume: false,
    };
    GraphInput {
        images: vec![
            image("sha256:p", "pulp-content:latest", &["/var/lib/pulp", "/var/www"], 1),
            image("sha256:b", "busybox:latest", &[], 0),
        ],
        containers: vec![
            container(
                "c2worker0000000",
                "worker",
                "sha256:b",
                20,
                vec![
                    volume_mount("/var/lib/pulp", ANON1, false, Some("c1data000000000"), true),
                    volume_mount("/var/www", ANON2, false, Some("c1data000000000"), true),
                    bind,
                ],
            ),
            container(
                "c1data000000000",
                "volume-demo",
                "sha256:p",
                10,
                vec![
                    volume_mount("/var/lib/pulp", ANON1, true, None, true),
                    volume_mount("/var/www", ANON2, true, None, true),
                ],
            ),
        ],
        volumes: vec![volume(ANON2, true, 11), volume(ANON1, true, 11), volume("pulp", false, 30)],
    }
}

fn check(input: &GraphInput, expect: &str) {
    assert_eq!(build(input).to_string().trim_end(), expect.trim());
}

#[test]
fn pulp_walkthrough() {
    check(
        &pulp(),
        r#"
Image[0] image:sha256:b "busybox:latest"
Image[1] image:sha256:p "pulp-content:latest" | VOLUME /var/lib/pulp | VOLUME /var/www
Container[0] container:c1data000000000 "volume-demo" | running · c1data000000 | /bin/sh
Container[1] container:c2worker0000000 "worker" | running · c2worker0000 | /bin/sh
Volume[0] volume:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111 "aaaaaaaaaaaa" | anonymous · 2.0 KiB · 3 files | from VOLUME /var/lib/pulp of image pulp-content:latest, created for container volume-demo
Volume[1] volume:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222 "bbbbbbbbbbbb" | anonymous · 2.0 KiB · 3 files | from VOLUME /var/www of image pulp-content:latest, created for container volume-demo
Volume[2] volume:pulp "pulp" | named · 2.0 KiB · 3 files
Host[0] host:/root/volumes/aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111/_data "/root/volumes/aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111/_data"
Host[1] host:/root/volumes/bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222/_data "/root/volumes/bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222/_data"
Host[2] host:/home/t/src "/home/t/src"
Host[3] host:/root/volumes/pulp/_data "/root/volumes/pulp/_data"
image:sha256:p -> container:c1data000000000 : instance of
image:sha256:b -> container:c2worker0000000 : instance of
container:c1data000000000 -> volume:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111 : /var/lib/pulp rw
container:c1data000000000 -> volume:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222 : /var/www rw
container:c2worker0000000 -> volume:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111 : /var/lib/pulp ro (from volume-demo)
container:c2worker0000000 -> volume:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222 : /var/www ro (from volume-demo)
container:c2worker0000000 -> host:/home/t/src : /src ro
volume:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111 -> host:/root/volumes/aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111/_data : stored in
volume:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222 -> host:/root/volumes/bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222/_data : stored in
volume:pulp -> host:/root/volumes/pulp/_data : stored in
"#,
    );
}

#[test]
fn anonymous_volume_from_dash_v() {
    let mut input = GraphInput::default();
    input.containers.push(container(
        "c1",
        "web",
        "sha256:x",
        1,
        vec![volume_mount("/cache", ANON1, true, None, false)],
    ));
    input.volumes.push(volume(ANON1, true, 1));
    let g = build(&input);
    let v = g.nodes.iter().find(|n| n.key == volume_key(ANON1)).unwrap();
    assert_eq!(v.lines[1], "from -v /cache, created for container web");
    // No image node for an unknown image, so no dangling edge either.
    assert!(g.edges.iter().all(|e| e.kind != EdgeKind::Instance));
}

#[test]
fn adding_a_container_appends() {
    let before = build(&pulp());
    let mut input = pulp();
    input.containers.push(container(
        "c0late",
        "late",
        "sha256:b",
        99,
        vec![volume_mount("/data", "pulp", true, None, false)],
    ));
    input.volumes.push(volume("zzz", false, 98));
    let after = build(&input);
    for n in &before.nodes {
        let same = after.nodes.iter().find(|m| m.key == n.key).unwrap();
        assert_eq!((same.column, same.row), (n.column, n.row), "{} moved", n.key);
    }
    let late = after.nodes.iter().find(|n| n.key == "container:c0late").unwrap();
    assert_eq!(late.row, 2);
}

#[test]
fn svg_has_every_node_and_edge_escaped() {
    let mut input = pulp();
    input.containers[0].name = "<evil & \"name\">".into();
    let svg = build(&input).to_svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains(r#"data-key="volume:pulp""#));
    assert!(svg.contains(r#"data-key="container:c1data000000000""#));
    assert!(svg.contains(r#"data-from="container:c2worker0000000" data-to="host:/home/t/src""#));
    assert!(svg.contains("/var/lib/pulp ro (from volume-demo)</title>"));
    assert!(svg.contains(">ro · from volume-demo</tspan>"));
    assert!(svg.contains("class=\"edge mount ro inherited\""));
    assert!(svg.contains("&lt;evil &amp; &quot;name&quot;&gt;"));
    assert!(!svg.contains("<evil"));
    assert_eq!(svg.matches("<g class=\"node ").count(), 11);
    assert_eq!(svg.matches("<path class=\"edge").count(), 10);
}

#[test]
fn hundreds_of_nodes_stack_in_their_columns() {
    let mut input = GraphInput::default();
    for i in 0..150 {
        let name = format!("v{i:03}");
        input.containers.push(container(
            &format!("c{i:03}"),
            &format!("c{i}"),
            "x",
            i,
            vec![volume_mount("/d", &name, true, None, false)],
        ));
        input.volumes.push(volume(&name, false, i));
    }
    let svg = build(&input).to_svg();
    // 150 containers of 78 px (a title and two lines) and a 16 px gap each, under a 48 px
    // header, plus the margin.
    assert!(svg.contains(r#"viewBox="0 0 1235 14168""#), "{}", &svg[..200]);
}

/// The rectangles and texts of an SVG as `(x, y, width, height)` and `(x, y, text)`.
fn rects(svg: &str) -> Vec<(usize, usize, usize, usize)> {
    let num = |part: &str, attr: &str| -> usize {
        let at = part.find(&format!(" {attr}=\"")).unwrap() + attr.len() + 3;
        part[at..].split('"').next().unwrap().parse().unwrap()
    };
    svg.split("<rect").skip(1).map(|p| (num(p, "x"), num(p, "y"), num(p, "width"), num(p, "height"))).collect()
}

#[test]
fn boxes_grow_for_their_mount_labels_and_names_stay_whole() {
    let mounts =
        (0..4).map(|i| volume_mount(&format!("/var/lib/data{i}"), &format!("v{i}"), true, None, false)).collect();
    let input = GraphInput {
        images: vec![image("i1", "markllama/pulp-content", &["/var/lib/pulp", "/var/www"], 1)],
        containers: vec![container("c1", "many-mounts", "i1", 1, mounts), container("c2", "after", "i1", 2, vec![])],
        volumes: (0..4).map(|i| volume(&format!("v{i}"), false, i)).collect(),
    };
    let svg = build(&input).to_svg();
    assert!(svg.contains(">markllama/pulp-content</text>"), "the image's name is whole");
    // The container column: many-mounts holds four two-line labels, then comes after.
    let boxes = rects(&svg);
    let (first, second) = (boxes[1], boxes[2]);
    assert!(first.3 >= 4 * 38, "{first:?}");
    assert!(second.1 >= first.1 + first.3, "{first:?} {second:?}");
    // Every label starts in the gap and ends before the volumes' column.
    let volume_x = boxes[3].0;
    for label in svg.split("<text class=\"label\" x=\"").skip(1) {
        let x: usize = label.split('"').next().unwrap().parse().unwrap();
        assert!(x > first.0 + first.2 && x < volume_x, "{x}");
    }
}

#[test]
fn a_container_with_published_ports_lists_them_under_its_command() {
    let mut web = container("c1", "pulp-apache", "i1", 1, vec![]);
    web.ports = vec!["127.0.0.1:8080->80/tcp".into()];
    let g = build(&GraphInput { images: vec![], containers: vec![web], volumes: vec![] });
    let node = g.nodes.iter().find(|n| n.title == "pulp-apache").unwrap();
    assert_eq!(node.lines, ["running · c1", "/bin/sh", "ports 127.0.0.1:8080->80/tcp"]);
}

/// A container on a created network says what that network is: a record, no connectivity.
#[test]
fn a_container_on_a_created_network_says_it_gives_no_connectivity() {
    let mut web = container("c1", "pulp-apache", "i1", 1, vec![]);
    web.networks = vec!["pulp_default".into()];
    let g = build(&GraphInput { images: vec![], containers: vec![web], volumes: vec![] });
    let node = g.nodes.iter().find(|n| n.title == "pulp-apache").unwrap();
    assert_eq!(node.lines, ["running · c1", "/bin/sh", "network pulp_default (no connectivity in Porthole)"]);
}

#[test]
fn long_lines_wrap_within_the_box() {
    let lines =
        vec!["from VOLUME /var/www of image markllama/pulp-content, created for container volume-demo".to_string()];
    let out = super::wrapped(&lines, 320);
    assert!(out.len() > 1, "{out:?}");
    assert_eq!(out.join(" "), lines[0], "nothing is lost");
    let long = vec!["x".repeat(100)];
    assert_eq!(super::wrapped(&long, 200).concat(), long[0]);
}

/// A played pod's containers: each says its pod, and the SVG frames them together.
#[test]
fn a_pods_containers_are_framed_together() {
    let mut worker = container("c1", "pulp-worker", "i1", 1, vec![]);
    let mut web = container("c2", "pulp-apache", "i1", 2, vec![]);
    let lone = container("c3", "lonely", "i1", 3, vec![]);
    worker.pod = Some("pulp".into());
    web.pod = Some("pulp".into());
    let g = build(&GraphInput { images: vec![], containers: vec![lone, web, worker], volumes: vec![] });
    assert_eq!(g.pods, [Pod { name: "pulp".into(), containers: vec!["container:c1".into(), "container:c2".into()] }]);
    let node = g.nodes.iter().find(|n| n.title == "pulp-apache").unwrap();
    assert_eq!(node.lines.last().unwrap(), "pod pulp");
    assert!(g.to_string().ends_with("pod pulp: container:c1, container:c2\n"), "{g}");
    let svg = g.to_svg();
    let frame = svg.split(r#"<g class="pod" data-pod="pulp">"#).nth(1).expect("a frame");
    // From just above the first box (the first row's top, less the margin) around both.
    let frame = frame.split("</g>").next().unwrap();
    assert!(frame.starts_with("<title>pod pulp</title><rect x="), "{frame}");
    assert!(frame.contains(r#" y="41" "#), "{frame}");
}
