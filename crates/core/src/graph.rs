//! The mount graph the dashboard draws: images → containers → volumes → host directories,
//! built from plain summaries, laid out in rows per column (each box as tall as its text and
//! mount labels need, each column as wide as its names), then rendered as SVG text.
//!
//! Pure: the engine gathers the summaries, this module decides what is drawn where. Rows are
//! ordered by creation time then id, so a new container or volume is appended at the bottom of
//! its column and nothing already on a projector moves.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// An image as the graph needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageSummary {
    pub id: String,
    pub tags: Vec<String>,
    /// The image's `VOLUME` paths.
    pub volumes: Vec<String>,
    pub created: i64,
}

/// A container as the graph needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    pub image_id: String,
    /// The image reference it was created from (`busybox`).
    pub image: String,
    /// Docker's state word: `created`, `running`, `exited`, …
    pub state: String,
    pub command: String,
    pub created: i64,
    pub mounts: Vec<MountSummary>,
    /// Its published ports while it runs, as `docker ps` shows them (`127.0.0.1:8080->80/tcp`).
    #[serde(default)]
    pub ports: Vec<String>,
    /// The created networks it is on (not the default ones): records only, which the box says.
    #[serde(default)]
    pub networks: Vec<String>,
    /// The pod it belongs to (its `POD_LABEL`), drawn as a frame around the pod's containers.
    #[serde(default)]
    pub pod: Option<String>,
}

/// The label that puts a container in a pod: what Kubernetes' container runtimes set and
/// `porthole kube play` sets, so the graph groups a pod's containers.
pub const POD_LABEL: &str = "io.kubernetes.pod.name";

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MountSummary {
    pub destination: String,
    /// The volume behind it, for volume mounts.
    pub volume: Option<String>,
    /// The host directory, for bind mounts.
    pub bind_source: Option<String>,
    pub rw: bool,
    /// The container it was taken from by `--volumes-from` (id).
    pub inherited_from: Option<String>,
    /// The mount exists because the image declares `VOLUME <destination>`.
    pub from_image_volume: bool,
}

/// A volume as the graph needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VolumeSummary {
    pub name: String,
    pub anonymous: bool,
    pub created: i64,
    pub size: u64,
    pub files: u64,
    pub host_path: String,
}

/// Everything the graph is built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GraphInput {
    pub images: Vec<ImageSummary>,
    pub containers: Vec<ContainerSummary>,
    pub volumes: Vec<VolumeSummary>,
}

/// The four columns, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Column {
    Image,
    Container,
    Volume,
    Host,
}

impl Column {
    const ALL: [Column; 4] = [Column::Image, Column::Container, Column::Volume, Column::Host];

    fn heading(self) -> &'static str {
        match self {
            Column::Image => "Images",
            Column::Container => "Containers",
            Column::Volume => "Volumes",
            Column::Host => "Host directories",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Column::Image => "image",
            Column::Container => "container",
            Column::Volume => "volume",
            Column::Host => "host",
        }
    }
}

/// A box on the graph. `key` is `image:<id>`, `container:<id>`, `volume:<name>` or
/// `host:<path>`: stable across updates, so the page can find a node again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    pub key: String,
    pub column: Column,
    pub row: usize,
    pub title: String,
    /// Smaller lines under the title (state, command, VOLUME lines, size, origin).
    pub lines: Vec<String>,
    /// Extra CSS classes: the container's state, `anonymous` / `named`.
    pub tags: Vec<String>,
}

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// image → container.
    Instance,
    /// container → volume, or container → host directory for a bind.
    Mount,
    /// volume → its host directory.
    Backing,
}

/// An arrow between two nodes (by key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// `instance of`, `/var/lib/pulp rw`, …
    pub label: String,
    /// For mounts: the guest path.
    pub destination: Option<String>,
    pub rw: bool,
    /// The name of the container a `--volumes-from` mount came from.
    pub inherited_from: Option<String>,
}

/// A pod: containers the drawing frames together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pod {
    pub name: String,
    /// Its containers' node keys, in row order.
    pub containers: Vec<String>,
}

/// The laid-out graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub pods: Vec<Pod>,
}

pub fn image_key(id: &str) -> String {
    format!("image:{id}")
}
pub fn container_key(id: &str) -> String {
    format!("container:{id}")
}
pub fn volume_key(name: &str) -> String {
    format!("volume:{name}")
}
pub fn host_key(path: &str) -> String {
    format!("host:{path}")
}

/// The first 12 characters, as `docker ps` shows ids.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// `1.5 KiB`: sizes a class reads at a glance.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// Builds the graph. Summaries may come in any order; the result does not depend on it.
pub fn build(input: &GraphInput) -> Graph {
    let mut images: Vec<&ImageSummary> = input.images.iter().collect();
    images.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut containers: Vec<&ContainerSummary> = input.containers.iter().collect();
    containers.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut volumes: Vec<&VolumeSummary> = input.volumes.iter().collect();
    volumes.sort_by(|a, b| (a.created, &a.name).cmp(&(b.created, &b.name)));
    let names: BTreeMap<&str, &str> = containers.iter().map(|c| (c.id.as_str(), c.name.as_str())).collect();
    let image_names: BTreeMap<&str, String> = images.iter().map(|i| (i.id.as_str(), image_title(i))).collect();

    let mut g = Graph::default();
    for (row, img) in images.iter().enumerate() {
        let lines = img.volumes.iter().map(|v| format!("VOLUME {v}")).collect();
        g.nodes.push(Node {
            key: image_key(&img.id),
            column: Column::Image,
            row,
            title: image_title(img),
            lines,
            tags: vec![],
        });
    }
    for (row, c) in containers.iter().enumerate() {
        g.nodes.push(Node {
            key: container_key(&c.id),
            column: Column::Container,
            row,
            title: c.name.clone(),
            lines: std::iter::once(format!("{} · {}", c.state, short(&c.id)))
                // A long command would make a tall box; its whole text is in the details.
                .chain(std::iter::once(clip(&c.command, COMMAND_CHARS)))
                .chain((!c.ports.is_empty()).then(|| format!("ports {}", c.ports.join(", "))))
                .chain(
                    (!c.networks.is_empty())
                        .then(|| format!("network {} (no connectivity in Porthole)", c.networks.join(", "))),
                )
                .chain(c.pod.as_ref().map(|p| format!("pod {p}")))
                .collect(),
            tags: vec![c.state.clone()],
        });
        if let Some(pod) = &c.pod {
            match g.pods.iter_mut().find(|p| p.name == *pod) {
                Some(p) => p.containers.push(container_key(&c.id)),
                None => g.pods.push(Pod { name: pod.clone(), containers: vec![container_key(&c.id)] }),
            }
        }
        if image_names.contains_key(c.image_id.as_str()) {
            g.edges.push(Edge {
                from: image_key(&c.image_id),
                to: container_key(&c.id),
                kind: EdgeKind::Instance,
                label: "instance of".into(),
                destination: None,
                rw: false,
                inherited_from: None,
            });
        }
    }
    for (row, v) in volumes.iter().enumerate() {
        let mut lines = vec![format!(
            "{} · {} · {} file{}",
            if v.anonymous { "anonymous" } else { "named" },
            human_size(v.size),
            v.files,
            if v.files == 1 { "" } else { "s" }
        )];
        if v.anonymous {
            lines.extend(origin(v, &containers, &image_names));
        }
        let title = if v.anonymous { short(&v.name).to_string() } else { v.name.clone() };
        let tag = if v.anonymous { "anonymous" } else { "named" };
        g.nodes.push(Node {
            key: volume_key(&v.name),
            column: Column::Volume,
            row,
            title,
            lines,
            tags: vec![tag.into()],
        });
    }

    // Host directories, ordered by when whatever introduced them was created (the volume, or
    // the first container binding it), so they append like the other columns; with no binds
    // they line up with their volumes and backing edges run straight.
    let mut introduced: Vec<(i64, &str)> = volumes.iter().map(|v| (v.created, v.host_path.as_str())).collect();
    for c in &containers {
        introduced.extend(c.mounts.iter().filter_map(|m| m.bind_source.as_deref()).map(|src| (c.created, src)));
    }
    introduced.sort();
    let mut hosts: Vec<&str> = Vec::new();
    for (_, path) in introduced {
        if !hosts.contains(&path) {
            hosts.push(path);
        }
    }
    for (row, h) in hosts.iter().enumerate() {
        g.nodes.push(Node {
            key: host_key(h),
            column: Column::Host,
            row,
            title: h.to_string(),
            lines: vec![],
            tags: vec![],
        });
    }

    let known_volumes: Vec<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    for c in &containers {
        for m in &c.mounts {
            let to = match (&m.volume, &m.bind_source) {
                (Some(v), _) if known_volumes.contains(&v.as_str()) => volume_key(v),
                (None, Some(src)) => host_key(src),
                _ => continue,
            };
            let inherited =
                m.inherited_from.as_deref().map(|id| names.get(id).copied().unwrap_or(short(id)).to_string());
            let mut label = format!("{} {}", m.destination, if m.rw { "rw" } else { "ro" });
            if let Some(from) = &inherited {
                let _ = write!(label, " (from {from})");
            }
            g.edges.push(Edge {
                from: container_key(&c.id),
                to,
                kind: EdgeKind::Mount,
                label,
                destination: Some(m.destination.clone()),
                rw: m.rw,
                inherited_from: inherited,
            });
        }
    }
    for v in &volumes {
        g.edges.push(Edge {
            from: volume_key(&v.name),
            to: host_key(&v.host_path),
            kind: EdgeKind::Backing,
            label: "stored in".into(),
            destination: None,
            rw: true,
            inherited_from: None,
        });
    }
    g
}

fn image_title(img: &ImageSummary) -> String {
    img.tags.first().cloned().unwrap_or_else(|| short(img.id.strip_prefix("sha256:").unwrap_or(&img.id)).to_string())
}

/// Where an anonymous volume came from: the first container that mounted it directly (not
/// through `--volumes-from`) is the one it was created for.
fn origin(v: &VolumeSummary, containers: &[&ContainerSummary], image_names: &BTreeMap<&str, String>) -> Option<String> {
    containers.iter().find_map(|c| {
        let m = c.mounts.iter().find(|m| m.inherited_from.is_none() && m.volume.as_deref() == Some(v.name.as_str()))?;
        Some(if m.from_image_volume {
            let image = image_names.get(c.image_id.as_str()).cloned().unwrap_or_else(|| c.image.clone());
            format!("from VOLUME {} of image {image}, created for container {}", m.destination, c.name)
        } else {
            format!("from -v {}, created for container {}", m.destination, c.name)
        })
    })
}

/// Pixel geometry of the SVG. Text widths are estimated from character counts at the sizes
/// of the dashboard's presenter mode (the largest it draws), with a margin for wide fonts, so
/// boxes and gaps are wide enough that no two texts overlap in either mode; the page scales the
/// whole drawing to its pane with the viewBox.
const TOP: usize = 48;
const LEFT: usize = 20;
const PAD: usize = 12;
/// How far a pod's frame stands out from its boxes: within the gaps, so it touches nothing.
const POD_MARGIN: usize = 7;
/// Vertical space between two boxes of a column.
const V_GAP: usize = 16;
/// Horizontal space between columns without labels (the edges' bends).
const H_GAP: usize = 64;
const MIN_NODE_WIDTH: usize = 200;
/// Widest box: a title of about 24 characters fits whole (longer ones are cut with `…`, a
/// host path from the left; the full text is in `<title>` and the details panel); longer
/// lines wrap onto more lines.
const MAX_NODE_WIDTH: usize = 320;
/// Widest mount label column.
const MAX_LABEL_WIDTH: usize = 240;
const MIN_NODE_HEIGHT: usize = 70;
/// A container's command as shown in its box.
const COMMAND_CHARS: usize = 28;
const TITLE_BASELINE: usize = 24;
const LINE_HEIGHT: usize = 21;
/// Mount labels: two lines each, stacked right of their container.
const LABEL_HEIGHT: usize = 38;
/// Estimated advance per character, in pixels: the title (19px bold), a line (16px), a label
/// (15px bold), each as about 0.64 em (DejaVu Sans, Chromium's default sans on Debian,
/// averages under 0.6 em on names and paths).
const TITLE_CHAR: f64 = 12.2;
const LINE_CHAR: f64 = 10.3;
const LABEL_CHAR: f64 = 9.7;

fn text_width(chars: usize, per_char: f64) -> usize {
    (chars as f64 * per_char).ceil() as usize
}

/// How many characters fit in `width` pixels at `per_char`.
fn fitting(width: usize, per_char: f64) -> usize {
    ((width as f64) / per_char).floor().max(4.0) as usize
}

/// Where everything goes: each column's x and width, each node's y and height (by index in
/// `Graph::nodes`), the mount-label gap, and the drawing's size.
struct Layout {
    x: [usize; 4],
    width: [usize; 4],
    y: Vec<usize>,
    height: Vec<usize>,
    svg_width: usize,
    svg_height: usize,
}

impl Layout {
    fn of(g: &Graph) -> Layout {
        let mut width = [MIN_NODE_WIDTH; 4];
        for n in &g.nodes {
            let col = n.column as usize;
            let title = text_width(n.title.chars().count(), TITLE_CHAR);
            let line = n.lines.iter().map(|l| text_width(l.chars().count(), LINE_CHAR)).max().unwrap_or(0);
            width[col] = width[col].max((title.max(line) + 2 * PAD).min(MAX_NODE_WIDTH));
        }
        // The gap right of the containers holds the mount labels.
        let label = g
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Mount)
            .flat_map(|e| [e.destination.as_deref().unwrap_or_default().chars().count(), mount_mode(e).chars().count()])
            .map(|c| text_width(c, LABEL_CHAR))
            .max()
            .unwrap_or(0);
        let label_gap = (label + 2 * PAD + 24).clamp(H_GAP, MAX_LABEL_WIDTH + 2 * PAD + 24);
        let gaps = [H_GAP, label_gap, H_GAP];
        let mut x = [LEFT; 4];
        for c in 1..4 {
            x[c] = x[c - 1] + width[c - 1] + gaps[c - 1];
        }
        let mut next_y = [TOP; 4];
        let mut order: Vec<usize> = (0..g.nodes.len()).collect();
        order.sort_by_key(|&i| (g.nodes[i].column, g.nodes[i].row));
        let (mut y, mut height) = (vec![0; g.nodes.len()], vec![0; g.nodes.len()]);
        for i in order {
            let n = &g.nodes[i];
            let col = n.column as usize;
            let text = TITLE_BASELINE + wrapped(&n.lines, width[col]).len() * LINE_HEIGHT + PAD;
            let mounts = g.edges.iter().filter(|e| e.kind == EdgeKind::Mount && e.from == n.key).count();
            let labels = if mounts == 0 { 0 } else { 6 + mounts * LABEL_HEIGHT };
            height[i] = MIN_NODE_HEIGHT.max(text).max(labels);
            y[i] = next_y[col];
            next_y[col] += height[i] + V_GAP;
        }
        let svg_width = x[3] + width[3] + LEFT;
        let svg_height = next_y.iter().max().copied().unwrap_or(TOP) + LEFT;
        Layout { x, width, y, height, svg_width, svg_height }
    }

    fn node_box(&self, g: &Graph, key: &str) -> Option<(usize, usize, usize, usize, usize)> {
        let i = g.nodes.iter().position(|n| n.key == key)?;
        let col = g.nodes[i].column as usize;
        Some((i, self.x[col], self.y[i], self.width[col], self.height[i]))
    }
}

/// A node's lines as drawn in a box `width` wide: each wrapped at spaces (a word longer than
/// the box is split), so nothing is cut.
fn wrapped(lines: &[String], width: usize) -> Vec<String> {
    let room = fitting(width - 2 * PAD, LINE_CHAR);
    let mut out = Vec::new();
    for line in lines {
        let mut current = String::new();
        for word in line.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let used = current.chars().count();
                let sep = usize::from(used > 0);
                if used + sep + word.len() <= room {
                    if sep == 1 {
                        current.push(' ');
                    }
                    current.extend(word.iter());
                    break;
                }
                if used > 0 {
                    out.push(std::mem::take(&mut current));
                    continue;
                }
                // A word wider than the box on its own: split it.
                let rest = word.split_off(room);
                out.push(word.iter().collect());
                word = rest;
            }
        }
        out.push(current);
    }
    out
}

/// A mount label's second line: `rw`, or `ro · from web`.
fn mount_mode(e: &Edge) -> String {
    let mut mode = (if e.rw { "rw" } else { "ro" }).to_string();
    if let Some(from) = &e.inherited_from {
        let _ = write!(mode, " · from {from}");
    }
    mode
}

/// Escapes text for SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { s.chars().take(max - 1).chain(['…']).collect() }
}

/// Cuts from the left: the end of a host path (`…/volumes/pulp/_data`) is the telling part.
fn clip_start(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max { s.to_string() } else { std::iter::once('…').chain(s.chars().skip(n - (max - 1))).collect() }
}

impl Graph {
    /// The drawing as a standalone SVG document. Nodes carry `data-key`, edges `data-from`
    /// and `data-to`, so the page can select and highlight them without re-rendering.
    pub fn to_svg(&self) -> String {
        let layout = Layout::of(self);
        let (width, height) = (layout.svg_width, layout.svg_height);
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="mount-graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif">"#
        );
        s.push_str(concat!(
            "<style>.node rect{fill:#fff;stroke:#445;stroke-width:1.5}.node.container rect{fill:#eef4ff}",
            ".node.volume rect{fill:#effaf0}.node.volume.anonymous rect{stroke-dasharray:5 3}.node.host rect{fill:#f6f6f6}",
            ".node.image rect{fill:#fff6e5}.node.running rect{stroke:#1a7f37;stroke-width:3}",
            ".node text{font-size:14px;fill:#111}.node text.title{font-size:17px;font-weight:bold}",
            ".edge{fill:none;stroke:#667;stroke-width:1.6}.edge.ro{stroke-dasharray:6 4}",
            ".edge.inherited{stroke:#8250df;stroke-width:2.4}.edge.instance{stroke:#bbb}",
            ".label{font-size:13px;fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}",
            ".heading{font-size:18px;font-weight:bold;fill:#333}",
            ".pod rect{fill:#f3ecff;stroke:#8250df;stroke-width:2;stroke-dasharray:8 4}</style>"
        ));
        for col in Column::ALL {
            let x = layout.x[col as usize];
            let _ = write!(s, r#"<text class="heading" x="{x}" y="28">{}</text>"#, col.heading());
        }
        for p in &self.pods {
            self.pod_svg(&mut s, p, &layout);
        }
        for e in &self.edges {
            self.edge_svg(&mut s, e, &layout);
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let col = n.column as usize;
            node_svg(&mut s, n, (layout.x[col], layout.y[i], layout.width[col], layout.height[i]));
        }
        s.push_str("</svg>\n");
        s
    }

    /// A frame behind a pod's container boxes, from the first to the last (`kube play` creates
    /// them one after another, so they are neighbours in the column), in the gaps around them.
    fn pod_svg(&self, s: &mut String, p: &Pod, layout: &Layout) {
        let boxes: Vec<_> = p.containers.iter().filter_map(|k| layout.node_box(self, k)).collect();
        let (Some(top), Some(bottom)) = (boxes.iter().map(|b| b.2).min(), boxes.iter().map(|b| b.2 + b.4).max()) else {
            return;
        };
        let (_, x, _, width, _) = boxes[0];
        let m = POD_MARGIN;
        let _ = write!(
            s,
            r#"<g class="pod" data-pod="{}"><title>pod {}</title><rect x="{}" y="{}" width="{}" height="{}" rx="12"/></g>"#,
            escape(&p.name),
            escape(&p.name),
            x - m,
            top - m,
            width + 2 * m,
            bottom - top + 2 * m
        );
    }

    fn edge_svg(&self, s: &mut String, e: &Edge, layout: &Layout) {
        let (Some(a), Some(b)) = (layout.node_box(self, &e.from), layout.node_box(self, &e.to)) else { return };
        let (_, ax, ay, aw, ah) = a;
        let (_, bx, by, _, bh) = b;
        let (x1, y1, x2, y2) = (ax + aw, ay + ah / 2, bx, by + bh / 2);
        let mid = (x1 + x2) / 2;
        let mut class = format!(
            "edge {}",
            match e.kind {
                EdgeKind::Instance => "instance",
                EdgeKind::Mount => "mount",
                EdgeKind::Backing => "backing",
            }
        );
        if e.kind == EdgeKind::Mount {
            class.push_str(if e.rw { " rw" } else { " ro" });
        }
        if e.inherited_from.is_some() {
            class.push_str(" inherited");
        }
        let _ = write!(
            s,
            r#"<g class="{class}-group" data-from="{}" data-to="{}"><path class="{class}" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"><title>{}</title></path>"#,
            escape(&e.from),
            escape(&e.to),
            escape(&e.label)
        );
        if e.kind == EdgeKind::Mount {
            // Two short lines in the gap right of the container, stacked by the mount's place
            // among that container's mounts; the container's box is as tall as its stack, so
            // no label reaches into the next container's.
            let nth = self
                .edges
                .iter()
                .filter(|o| o.kind == EdgeKind::Mount && o.from == e.from)
                .position(|o| std::ptr::eq(o, e))
                .unwrap_or(0);
            let (lx, ly) = (x1 + 8, ay + 20 + nth * LABEL_HEIGHT);
            let room = fitting(layout.x[Column::Volume as usize].saturating_sub(lx + 8), LABEL_CHAR);
            let dst = e.destination.as_deref().unwrap_or_default();
            let _ = write!(
                s,
                r#"<text class="label" x="{lx}" y="{ly}">{}<tspan x="{lx}" dy="16">{}</tspan></text>"#,
                escape(&clip(dst, room)),
                escape(&clip(&mount_mode(e), room))
            );
        }
        s.push_str("</g>");
    }
}

fn node_svg(s: &mut String, n: &Node, (x, y, width, height): (usize, usize, usize, usize)) {
    let mut class = format!("node {}", n.column.class());
    for t in &n.tags {
        class.push(' ');
        class.push_str(&escape(t));
    }
    let tooltip =
        std::iter::once(n.title.as_str()).chain(n.lines.iter().map(String::as_str)).collect::<Vec<_>>().join("\n");
    let _ = write!(
        s,
        r#"<g class="{class}" data-key="{}" tabindex="0"><title>{}</title><rect x="{x}" y="{y}" width="{width}" height="{height}" rx="8"/>"#,
        escape(&n.key),
        escape(&tooltip)
    );
    let title_room = fitting(width - 2 * PAD, TITLE_CHAR);
    let title = if n.column == Column::Host { clip_start(&n.title, title_room) } else { clip(&n.title, title_room) };
    let _ = write!(s, r#"<text class="title" x="{}" y="{}">{}</text>"#, x + PAD, y + TITLE_BASELINE, escape(&title));
    for (i, line) in wrapped(&n.lines, width).iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}">{}</text>"#,
            x + PAD,
            y + TITLE_BASELINE + (i + 1) * LINE_HEIGHT,
            escape(line)
        );
    }
    s.push_str("</g>");
}

/// The text form used by tests and handy in a terminal: one line per node (by column and
/// row) and per edge.
impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut nodes: Vec<&Node> = self.nodes.iter().collect();
        nodes.sort_by_key(|n| (n.column, n.row));
        for n in nodes {
            write!(f, "{:?}[{}] {} {:?}", n.column, n.row, n.key, n.title)?;
            for l in &n.lines {
                write!(f, " | {l}")?;
            }
            writeln!(f)?;
        }
        for e in &self.edges {
            writeln!(f, "{} -> {} : {}", e.from, e.to, e.label)?;
        }
        for p in &self.pods {
            writeln!(f, "pod {}: {}", p.name, p.containers.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
