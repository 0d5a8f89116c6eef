// Porthole dashboard: draws the mount graph the controller renders (/porthole/graph.svg),
// keeps it current from the event stream (/porthole/events, no polling), and shows the
// selected node's files and logs, and a container's path walks drawn on the graph.
// Read-only: it only GETs /porthole/*.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = {
  graph: { nodes: [], edges: [] }, // /porthole/graph, for names and details
  selected: document.body.dataset.focus || '',
  zoom: 1,
  userZoom: false, // set by +/-: then redraws keep the zoom instead of filling the pane
  dir: '/', // directory shown in the side panel's file list
  logs: null, // EventSource of the selected container's logs
  hot: new Map(), // node/edge selector -> expiry time, for write highlights
  doomed: [], // volumes the selected container's `rm -v` would delete
  walk: null, // the path walk drawn on the graph: { container key, mount points crossed, broken }
};
const HOT_MS = 3000;

// ---- helpers -------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}
const node = (key) => state.graph.nodes.find((n) => n.key === key);
const nameOf = (containerId) => (node('container:' + containerId) || {}).title || containerId.slice(0, 12);
const kindOf = (key) => key.slice(0, key.indexOf(':'));
const idOf = (key) => key.slice(key.indexOf(':') + 1);
const sel = (attr, value) => `[${attr}="${CSS.escape(value)}"]`;
const fmtTime = (nanos) => new Date(Number(nanos) / 1e6).toLocaleTimeString();
function human(bytes) {
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes, i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${bytes} B` : `${v.toFixed(1)} ${u[i]}`;
}
async function getJSON(url) {
  const r = await fetch(url, { cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || r.statusText);
  return body;
}

// ---- the graph -----------------------------------------------------------------------------

let graphTimer = null;
/** Coalesces bursts of events into one redraw. */
function scheduleGraph(delay = 120) {
  if (!graphTimer) graphTimer = setTimeout(() => { graphTimer = null; loadGraph(); }, delay);
}

async function loadGraph() {
  try {
    const [svg, graph] = await Promise.all([
      fetch('/porthole/graph.svg', { cache: 'no-store' }).then((r) => r.text()),
      getJSON('/porthole/graph'),
    ]);
    state.graph = graph;
    const pane = $('#graph');
    const first = !svgEl();
    pane.innerHTML = svg;
    // The drawing fills the pane until the user zooms; then it keeps the user's zoom.
    if (first || !state.userZoom) autoFit(); else applyZoom();
    paintSelection();
    paintHot();
    paintWalk();
    if (state.selected && !node(state.selected)) select(''); // it was removed
  } catch (e) {
    setStatus('offline', 'graph unavailable: ' + e.message);
  }
}

function svgEl() { return $('#graph svg'); }

function applyZoom() {
  const svg = svgEl();
  if (!svg) return;
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
  svg.style.width = `${w * state.zoom}px`;
  svg.style.height = `${h * state.zoom}px`;
}
function zoomBy(f) { state.userZoom = true; state.zoom = Math.min(4, Math.max(0.2, state.zoom * f)); applyZoom(); }
function zoomFit() { state.userZoom = false; autoFit(); }
// Fills the pane: as wide as it is, enlarged up to 2x for a small graph, but no taller than
// the pane unless that would shrink it below its natural size (a long graph scrolls).
function autoFit() {
  const svg = svgEl();
  if (!svg) return;
  const pane = $('#graph-pane');
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
  const byWidth = (pane.clientWidth - 24) / w, byHeight = (pane.clientHeight - 24) / h;
  let z = byWidth;
  if (h * z > pane.clientHeight - 24) z = Math.max(byHeight, Math.min(byWidth, 1));
  state.zoom = Math.min(2, Math.max(0.5, z));
  applyZoom();
}

function paintSelection() {
  document.querySelectorAll('#graph .selected, #graph .doomed').forEach((e) => e.classList.remove('selected', 'doomed'));
  for (const v of state.doomed) {
    const d = document.querySelector('#graph ' + sel('data-key', 'volume:' + v));
    if (d) d.classList.add('doomed');
  }
  if (!state.selected) return;
  const n = document.querySelector('#graph ' + sel('data-key', state.selected));
  if (n) n.classList.add('selected');
  document.querySelectorAll(`#graph ${sel('data-from', state.selected)}, #graph ${sel('data-to', state.selected)}`)
    .forEach((e) => e.classList.add('selected'));
}

/** Marks elements hot for a few seconds; survives redraws (re-applied after each). */
function heat(selector) {
  state.hot.set(selector, Date.now() + HOT_MS);
  paintHot();
  setTimeout(paintHot, HOT_MS + 50);
}
function paintHot() {
  const now = Date.now();
  document.querySelectorAll('#graph .hot').forEach((e) => e.classList.remove('hot'));
  for (const [s, until] of state.hot) {
    if (until < now) { state.hot.delete(s); continue; }
    document.querySelectorAll('#graph ' + s).forEach((e) => e.classList.add('hot'));
  }
}

// ---- selection and the side panel ----------------------------------------------------------

function select(key) {
  if (state.logs) { state.logs.close(); state.logs = null; }
  state.selected = key;
  state.dir = '/';
  state.doomed = [];
  state.walk = null;
  paintSelection();
  paintWalk();
  const url = key ? `/${kindOf(key) === 'container' || kindOf(key) === 'volume' ? kindOf(key) + '/' + encodeURIComponent(idOf(key)) : ''}` : '/';
  if (url !== '/' && location.pathname !== url) history.replaceState(null, '', url + location.search);
  if (!key) history.replaceState(null, '', '/' + location.search);
  renderDetails();
}

function renderDetails() {
  const box = $('#details');
  const n = node(state.selected);
  if (!n) {
    box.replaceChildren(el('h2', { text: 'Select a node' }),
      el('p', { class: 'hint', text: 'Click an image, container, volume or host directory to see its details, files and logs.' }));
    return;
  }
  const kind = kindOf(n.key), id = idOf(n.key);
  const parts = [el('h2', { text: `${kind}: ${n.title}` })];
  for (const l of n.lines) parts.push(el('p', { class: 'line', text: l }));
  const cmd = { container: `docker inspect ${n.title}`, volume: `docker volume inspect ${id}`, image: `docker image inspect ${n.title}` }[kind];
  if (cmd) parts.push(el('p', {}, el('code', { class: 'cmd', text: '$ ' + cmd })));
  const edges = state.graph.edges.filter((e) => e.kind === 'mount' && (e.from === n.key || e.to === n.key));
  if (edges.length) {
    const ul = el('ul', { class: 'mounts' });
    for (const e of edges) {
      const other = node(e.from === n.key ? e.to : e.from);
      ul.append(el('li', { text: `${other ? other.title : '?'} — ${e.label}` }));
    }
    parts.push(el('h3', { text: 'Mounts' }), ul);
  }
  if (kind === 'volume' || kind === 'container') parts.push(el('h3', { text: 'What would be deleted' }), el('div', { id: 'preview' }));
  if (kind === 'container') parts.push(el('h3', { text: 'Path walks' }), el('ol', { id: 'walks' }));
  if (kind === 'volume' || kind === 'container') parts.push(el('h3', { text: 'Files' }), el('div', { id: 'files' }));
  if (kind === 'container') parts.push(el('h3', { text: 'Logs' }), el('pre', { id: 'logs' }));
  box.replaceChildren(...parts);
  if (kind === 'volume' || kind === 'container') { loadFiles(); loadPreview(kind, id, n.title); }
  if (kind === 'container') { loadWalks(); followLogs(id); }
}

// ---- path walks ----------------------------------------------------------------------------
// Each file a container's guests read, or failed to open, as the host's walk resolved it:
// the path asked, each symlink followed and the mount (volume) it lies in, the file reached,
// or where the walk broke. The newest is drawn on the graph: the container → volume edges it
// crossed.

const WALKS_SHOWN = 30;
const shortVolume = (v) => (/^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v);
/** Where a step landed: `volume pulp at /var/lib/pulp`, `/ (container)`, `bind at /src`. */
function landed(step) {
  if (step.volume) return `volume ${shortVolume(step.volume)} at ${step.mount}`;
  return step.mount === '/' ? 'the container\'s own files' : `mount at ${step.mount}`;
}

function walkItem(w) {
  const li = el('li', { class: 'walk' + (w.error ? ' broken' : ''), 'data-path': w.path, tabindex: '0' },
    el('time', { text: fmtTime(w.time_nano) + ' ' }), el('code', { class: 'asked', text: w.path }));
  for (const s of w.steps) {
    const what = s.target ? `link ${s.path} → ${s.target}` : s.path;
    li.append(el('div', { class: 'step' + (s.target ? ' link' : ' end') }, el('code', { text: what }),
      el('span', { class: 'where', text: ` in ${landed(s)}` })));
  }
  const outcome = !w.error ? 'opened'
    : w.broke ? `${w.error}: broke at ${w.broke.existing.path} (in ${landed(w.broke.existing)}), no "${w.broke.missing}" there`
      : w.error;
  li.append(el('div', { class: 'outcome' + (w.error ? ' error' : ''), text: outcome }));
  const draw = () => { drawWalk(w); paintWalk(); };
  li.onmouseenter = draw;
  li.onfocus = draw;
  return li;
}

/** Remembers `w` as the walk to draw: the mount points its steps (and its break) lay in. */
function drawWalk(w) {
  const mounts = w.steps.map((s) => s.mount);
  if (w.broke) mounts.push(w.broke.existing.mount);
  state.walk = { container: state.selected, mounts, broken: !!w.error, path: w.path };
}

function paintWalk() {
  document.querySelectorAll('#graph .walked, #graph .walk-broken').forEach((e) => e.classList.remove('walked', 'walk-broken'));
  document.querySelectorAll('#walks li.drawn').forEach((e) => e.classList.remove('drawn'));
  const w = state.walk;
  if (!w || w.container !== state.selected) return;
  const c = document.querySelector('#graph ' + sel('data-key', w.container));
  if (c) c.classList.add(w.broken ? 'walk-broken' : 'walked');
  for (const m of w.mounts) {
    const edge = state.graph.edges.find((e) => e.kind === 'mount' && e.from === w.container && e.destination === m);
    if (!edge) continue; // the container's own files: no edge to cross
    document.querySelectorAll(`#graph ${sel('data-from', w.container)}${sel('data-to', edge.to)}, #graph ${sel('data-key', edge.to)}`)
      .forEach((e) => e.classList.add('walked'));
  }
  const li = document.querySelector('#walks li' + sel('data-path', w.path));
  if (li) li.classList.add('drawn');
}

async function loadWalks() {
  const box = $('#walks');
  if (!box || kindOf(state.selected) !== 'container') return;
  let walks;
  try {
    walks = await getJSON(`/porthole/containers/${encodeURIComponent(idOf(state.selected))}/walks`);
  } catch (e) {
    box.replaceChildren(el('li', { class: 'error', text: e.message }));
    return;
  }
  if (!walks.length) {
    box.replaceChildren(el('li', { class: 'hint', text: 'No file read yet. Each file the container reads, or fails to open, shows here with the mounts its path crossed.' }));
    return;
  }
  const newest = walks.slice(-WALKS_SHOWN).reverse();
  box.replaceChildren(...newest.map(walkItem));
  drawWalk(newest[0]);
  paintWalk();
}

let walksTimer = null;
function scheduleWalks() {
  if (!walksTimer) walksTimer = setTimeout(() => { walksTimer = null; loadWalks(); }, 80);
}

/** Previews `docker rm -v` / `docker volume prune` and marks the volumes they would delete. */
async function loadPreview(kind, id, title) {
  const box = $('#preview');
  const urls = kind === 'container'
    ? [`/porthole/containers/${encodeURIComponent(id)}/rm-preview`]
    : ['/porthole/volumes/prune-preview', '/porthole/volumes/prune-preview?all=1'];
  try {
    const previews = await Promise.all(urls.map(getJSON));
    box.replaceChildren(...previews.map((p) => {
      const cmd = kind === 'container' ? `docker rm -v ${title}` : p.command;
      const verdict = kind === 'container'
        ? (p.volumes.length ? `would delete ${p.volumes.length} anonymous volume(s)` : 'would delete no volume (named and shared ones are kept)')
        : (p.volumes.includes(id) ? 'would delete this volume' : 'would keep this volume');
      return el('p', {}, el('code', { class: 'cmd', text: '$ ' + cmd }), ' ' + verdict);
    }));
    state.doomed = kind === 'container' ? previews[0].volumes : [];
    if (document.body.dataset.actions === 'true') box.append(actionButtons(kind, id, title, previews));
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    state.doomed = [];
  }
  paintSelection();
}

let filesTimer = null;
function scheduleFiles() {
  if (!filesTimer) filesTimer = setTimeout(() => { filesTimer = null; loadFiles(); }, 80);
}

async function loadFiles() {
  const box = $('#files');
  if (!box) return;
  const kind = kindOf(state.selected), id = idOf(state.selected);
  const base = kind === 'volume' ? `/porthole/volumes/${encodeURIComponent(id)}` : `/porthole/containers/${encodeURIComponent(id)}`;
  let listing;
  try {
    listing = await getJSON(`${base}/files?path=${encodeURIComponent(state.dir)}`);
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  const table = el('table', { class: 'files' });
  table.append(el('tr', {}, el('th', { text: 'name' }), el('th', { text: 'size' }), el('th', { text: 'guest path' }),
    el('th', { text: 'host path' }), el('th', { text: 'last writer' })));
  if (state.dir !== '/') {
    const up = state.dir.replace(/\/[^/]+$/, '') || '/';
    const a = el('a', { href: '#', text: '..' });
    a.onclick = (ev) => { ev.preventDefault(); state.dir = up; loadFiles(); };
    table.append(el('tr', {}, el('td', {}, a)));
  }
  const now = Date.now();
  for (const f of listing.entries) {
    const name = f.kind === 'dir' ? el('a', { href: '#', text: f.name + '/' }) : el('span', { text: f.name });
    if (f.kind === 'dir') name.onclick = (ev) => { ev.preventDefault(); state.dir = (state.dir === '/' ? '' : state.dir) + '/' + f.name; loadFiles(); };
    if (f.kind === 'file' && kind === 'volume') {
      name.classList.add('viewable');
      name.onclick = () => viewFile(id, (state.dir === '/' ? '' : state.dir) + '/' + f.name);
    }
    const nameCell = el('td', {}, name);
    if (f.link_target) nameCell.append(el('span', { class: 'link', text: ` → ${f.link_target}` }));
    // For a container: where the link leads in its namespace (or that it leads nowhere here).
    if (f.resolves_to && f.resolves_to !== f.link_target) nameCell.append(el('span', { class: 'link', text: ` ⇒ ${f.resolves_to}` }));
    if (f.dangling) nameCell.append(el('span', { class: 'badge', text: 'dangling here' }));
    if (f.mount_point) nameCell.append(el('span', { class: 'badge', text: 'mount' }));
    const w = f.last_writer;
    const row = el('tr', { 'data-name': f.name },
      nameCell,
      el('td', { text: f.kind === 'file' ? human(f.size) : '' }),
      el('td', { class: 'path', text: f.guest_path || '—' }),
      el('td', { class: 'path', text: f.host_path }),
      el('td', { class: 'writer', text: w ? `${w.container} at ${fmtTime(w.time_nano)}` : '' }));
    if (w && now - Number(w.time_nano) / 1e6 < HOT_MS + 2000) row.classList.add('hot');
    table.append(row);
  }
  const where = listing.mounted_at && listing.mounted_at.length ? ` — mounted at ${listing.mounted_at.join(', ')}` : '';
  box.replaceChildren(el('p', { class: 'path', text: `${state.dir}  (host: ${listing.host_path})${where}` }), table,
    el('pre', { id: 'file-view', hidden: '' }));
}

async function viewFile(volume, path) {
  const pre = $('#file-view');
  try {
    const f = await getJSON(`/porthole/volumes/${encodeURIComponent(volume)}/file?path=${encodeURIComponent(path)}`);
    pre.textContent = f.encoding === 'text'
      ? f.content + (f.truncated ? `\n… (first ${human(f.content.length)} of ${human(f.size)})` : '')
      : `(binary file, ${human(f.size)})`;
  } catch (e) {
    pre.textContent = e.message;
  }
  pre.hidden = false;
}

/**
 * Mutating actions, only with `porthole serve --allow-actions`. Each button is labelled with
 * its docker command and asks first, listing what would be deleted (the preview above, also
 * marked on the graph). They call the Docker API, under the same same-origin checks.
 */
function actionButtons(kind, id, title, previews) {
  const enc = encodeURIComponent(id);
  const actions = kind === 'container'
    ? [[`docker stop ${title}`, 'POST', `/containers/${enc}/stop`, ''],
      [`docker rm -f -v ${title}`, 'DELETE', `/containers/${enc}?force=1&v=1`, previews[0].volumes]]
    : [['docker volume prune', 'POST', '/volumes/prune', previews[0].volumes]];
  const box = el('p', { class: 'actions' });
  for (const [cmd, method, url, deletes] of actions) {
    const b = el('button', { class: 'action', text: cmd });
    b.onclick = async () => {
      const what = deletes === '' ? '' : `\n\nIt deletes ${deletes.length ? 'volumes ' + deletes.join(', ') : 'no volume'}.`;
      if (!confirm(`Run ${cmd}?${what}`)) return;
      const r = await fetch(url, { method });
      if (!r.ok) alert(`${cmd}: ${(await r.json().catch(() => ({}))).message || r.statusText}`);
    };
    box.append(b);
  }
  return box;
}

function followLogs(id) {
  const pre = $('#logs');
  if (state.logs) state.logs.close();
  state.logs = new EventSource(`/porthole/containers/${encodeURIComponent(id)}/logs`);
  state.logs.onmessage = (m) => {
    const line = JSON.parse(m.data);
    pre.append(el('span', { class: line.stream, text: line.log }));
    while (pre.childNodes.length > 500) pre.firstChild.remove();
    pre.scrollTop = pre.scrollHeight;
  };
}

// ---- events --------------------------------------------------------------------------------

/** The docker command a user would type for an event, where one exists. */
function dockerCommand(e) {
  const a = e.attributes || {};
  const name = a.name || (e.kind === 'container' ? nameOf(e.actor_id) : e.actor_id);
  const table = {
    'container create': `docker create --name ${name} ${a.image || ''}`,
    'container start': `docker start ${name}`,
    'container kill': `docker kill ${name}`,
    'container die': `# ${name} exited with code ${a.exitCode}`,
    'container destroy': `docker rm ${name}`,
    // A 64-hex name is an anonymous volume: `docker run` made it, nobody typed its name.
    'volume create': /^[0-9a-f]{64}$/.test(e.actor_id) ? '# anonymous volume, made by docker create/run' : `docker volume create ${e.actor_id}`,
    'volume destroy': `docker volume rm ${e.actor_id}`,
    'volume prune': 'docker volume prune',
    'volume mount': `# mounted at ${a.destination} in ${nameOf(a.container || '')}`,
    'image tag': `docker tag ${e.actor_id.slice(0, 12)} ${a.name || ''}`,
    'image build': `docker build -t ${a.name || ''} .`,
    'image delete': `docker rmi ${e.actor_id.slice(0, 12)}`,
  };
  if (e.kind === 'file') {
    return e.action === 'burst'
      ? `# ${nameOf(e.actor_id)}: ${a.count} more changes (last ${a.path})`
      : `docker exec ${nameOf(e.actor_id)} … # ${e.action} ${a.path}`;
  }
  return table[`${e.kind} ${e.action}`] || '';
}

function addTimeline(e) {
  const list = $('#timeline');
  const who = e.kind === 'file' ? nameOf(e.actor_id) : (e.attributes.name || (e.kind === 'container' ? nameOf(e.actor_id) : e.actor_id.slice(0, 24)));
  const li = el('li', { class: `ev ${e.kind}` },
    el('time', { text: fmtTime(e.time_nano) }),
    el('span', { class: 'what', text: `${e.kind} ${e.action}` }),
    el('span', { class: 'who', text: who }),
    el('code', { class: 'cmd', text: dockerCommand(e) }));
  list.prepend(li);
  // File activity is kept short so that a flood of writes cannot push out the commands.
  if (e.kind === 'file') [...list.querySelectorAll('li.file')].slice(40).forEach((old) => old.remove());
  while (list.childNodes.length > 300) list.lastChild.remove();
  filterTimeline(li);
}
function filterTimeline(only) {
  const q = $('#timeline-filter').value.trim().toLowerCase();
  for (const li of only ? [only] : $('#timeline').children) li.hidden = q !== '' && !li.textContent.toLowerCase().includes(q);
}

function onFileEvent(e) {
  const a = e.attributes || {};
  const ckey = 'container:' + e.actor_id;
  const edge = state.graph.edges.find((x) => x.from === ckey && x.destination === a.mount);
  heat(sel('data-key', ckey));
  if (edge) {
    heat(sel('data-key', edge.to));
    heat(`${sel('data-from', ckey)}${sel('data-to', edge.to)}`);
  }
  const list = $('#write-list');
  const text = e.action === 'burst' ? `+${a.count} more changes, last ${a.path}` : `${e.action} ${a.path}`;
  list.prepend(el('li', { class: 'hot' }, el('b', { text: nameOf(e.actor_id) }), ' ', el('span', { text: text }),
    el('time', { text: ' ' + fmtTime(e.time_nano) })));
  setTimeout(() => list.firstChild && [...list.children].forEach((li, i) => i > 0 && li.classList.remove('hot')), HOT_MS);
  while (list.childNodes.length > 8) list.lastChild.remove();
  // The open file list may be the one written to.
  if (state.selected === ckey || (edge && state.selected === edge.to)) scheduleFiles();
  scheduleGraph(800); // sizes and file counts; slower than structural changes
}

function setStatus(cls, text) {
  const s = $('#status');
  s.className = 'status ' + cls;
  s.textContent = text;
}

function connect() {
  // `history=1`: the events since the controller started come first, so the timeline tells
  // what the class did before the page was opened.
  const es = new EventSource('/porthole/events?history=1');
  // Sent on every (re)connection, before the history: after a controller restart, catch up
  // from the current state, and let the replay rebuild the timeline.
  es.addEventListener('hello', () => {
    setStatus('live', 'live');
    $('#timeline').replaceChildren();
    loadGraph().then(renderDetails);
  });
  es.addEventListener('resync', () => loadGraph());
  es.onmessage = (m) => {
    const e = JSON.parse(m.data);
    // Walks have their own panel: a web server's requests would bury the docker commands.
    if (e.kind === 'walk') {
      if (state.selected === 'container:' + e.actor_id) scheduleWalks();
      return;
    }
    addTimeline(e);
    if (e.kind === 'file') onFileEvent(e); else scheduleGraph();
    if (e.kind !== 'file' && typeof lessonEvent === 'function') lessonEvent();
  };
  es.onerror = () => {
    setStatus('offline', 'reconnecting…');
    // EventSource retries by itself unless the server answered with an error: then start over.
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  };
}

// ---- wiring --------------------------------------------------------------------------------

function togglePresenter() {
  document.body.classList.toggle('presenter');
  const url = new URL(location.href);
  if (document.body.classList.contains('presenter')) url.searchParams.set('presenter', '1'); else url.searchParams.delete('presenter');
  history.replaceState(null, '', url);
  if (!state.userZoom) autoFit();
}

async function exportPng() {
  const svg = svgEl();
  if (!svg) return;
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height'));
  const img = new Image();
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(svg));
  await img.decode();
  const canvas = el('canvas', { width: w * 2, height: h * 2 });
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.scale(2, 2);
  ctx.drawImage(img, 0, 0);
  el('a', { href: canvas.toDataURL('image/png'), download: 'porthole-graph.png' }).click();
}

$('#graph').addEventListener('click', (ev) => {
  const g = ev.target.closest('g.node');
  select(g ? g.dataset.key : '');
});
$('#graph').addEventListener('keydown', (ev) => {
  const g = ev.target.closest && ev.target.closest('g.node');
  if (g && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); select(g.dataset.key); }
});
document.addEventListener('keydown', (ev) => {
  if (ev.target.matches('input, textarea')) return;
  if (ev.key === 'p') togglePresenter();
  else if (ev.key === 'l') $('#lessons').click();
  else if (ev.key === '+' || ev.key === '=') zoomBy(1.25);
  else if (ev.key === '-') zoomBy(0.8);
  else if (ev.key === '0') zoomFit();
  else if (ev.key === 'Escape') select('');
});
$('#zoom-in').onclick = () => zoomBy(1.25);
$('#zoom-out').onclick = () => zoomBy(0.8);
$('#zoom-fit').onclick = () => zoomFit();
$('#presenter').onclick = togglePresenter;
$('#export-png').onclick = exportPng;
$('#timeline-filter').addEventListener('input', () => filterTimeline());
window.addEventListener('resize', () => { if (!state.userZoom) autoFit(); });

connect();
