// End-to-end test of the dashboard in Debian's headless Chromium, driven by playwright-core:
// the page follows real `docker` commands live (no reload), shows a guest's write with the
// container that made it within 1 s, shows a container's path walks (a link into another
// volume, and the same link broken without it) on the graph, and recovers after the
// controller restarts.
// Run by ./run.sh, which builds the binary and sets PORTHOLE_BIN, PORTHOLE_PORT, SCREENSHOTS.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BIN = process.env.PORTHOLE_BIN;
const PORT = process.env.PORTHOLE_PORT;
const SHOTS = process.env.SCREENSHOTS;
const DOCKER = process.env.DOCKER || 'docker'; // from PATH: scripts/setup.sh installs it
const BASE = `http://127.0.0.1:${PORT}`;
const root = mkdtempSync(join(tmpdir(), 'porthole-dash-'));
mkdirSync(SHOTS, { recursive: true });

/** Starts `porthole serve` on the shared root and resolves once it prints `ready`. */
function startServer(...extra) {
  const args = ['serve', '--root', root, '--listen', `127.0.0.1:${PORT}`, ...extra];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`porthole serve not ready: ${out}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => reject(new Error(`porthole serve exited with ${code}: ${out}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function docker(...args) {
  return dockerWithInput('', ...args);
}
function dockerWithInput(input, ...args) {
  const env = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${PORT}`, DOCKER_BUILDKIT: '0' };
  return execFileSync(DOCKER, args, { env, input, encoding: 'utf8' }).trim();
}

const q = (attr, value) => `[${attr}="${value}"]`;
// Each step is one check; the summary line is the count CI reads.
let started = 0;
const step = (name) => { started += 1; console.log(`- ${name}`); };

let server = await startServer();
let browser;
try {
  // A fresh profile each run: nothing cached from an earlier page or server.
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'porthole-chromium-')), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync', '--disable-quic'],
    viewport: { width: 1280, height: 720 },
  });
  const page = await browser.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e); process.exitCode = 1; });

  step('the page loads and goes live');
  await page.goto(BASE + '/');
  await page.waitForSelector('#status.live');
  await page.waitForSelector('[data-key^="image:"]');
  await page.evaluate(() => { window.__noReload = true; });

  step('docker run with a named volume and --volumes-from: nodes and edges appear without reload');
  const data = docker('run', '-d', '--name', 'data', '-v', 'pulp:/var/lib/pulp', 'busybox', 'sh', '-c', 'sleep 3600');
  const web = docker('run', '-d', '--name', 'web', '--volumes-from', 'data', 'busybox', 'sh', '-c', 'sleep 3600');
  await page.waitForSelector(q('data-key', `container:${data}`), { timeout: 5000 });
  await page.waitForSelector(q('data-key', `container:${web}`), { timeout: 5000 });
  await page.waitForSelector(q('data-key', 'volume:pulp'), { timeout: 5000 });
  await page.waitForSelector(`${q('data-from', `container:${data}`)}${q('data-to', 'volume:pulp')}`, { timeout: 5000 });
  const inherited = await page.waitForSelector(`${q('data-from', `container:${web}`)}${q('data-to', 'volume:pulp')}`, { timeout: 5000 });
  assert.match(await inherited.textContent(), /\/var\/lib\/pulp rw \(from data\)/); // the edge's <title>
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  await page.screenshot({ path: join(SHOTS, 'dashboard-graph.png') });

  step('a guest write shows in the volume with the writing container within 1 s');
  await page.click(q('data-key', 'volume:pulp'));
  await page.waitForSelector('table.files');
  docker('exec', 'data', 'sh', '-c', 'echo hi > /var/lib/pulp/new.txt');
  const wrote = Date.now();
  const row = await page.waitForSelector('table.files tr[data-name="new.txt"] td.writer:has-text("data")', { timeout: 1000 });
  console.log(`  shown ${Date.now() - wrote} ms after docker exec returned`);
  assert.match(await page.textContent('table.files tr[data-name="new.txt"]'), /\/var\/lib\/pulp\/new\.txt/);
  assert.match(await row.textContent(), /^data at /);
  await page.waitForSelector('#write-list li:has-text("/var/lib/pulp/new.txt")', { timeout: 1000 });
  await page.screenshot({ path: join(SHOTS, 'dashboard-write.png') });

  step('a guest writing 10,000 files is coalesced: the page keeps up');
  const flood = Date.now();
  docker('exec', 'data', 'sh', '-c', 'mkdir /var/lib/pulp/flood; i=0; while [ $i -lt 10000 ]; do echo x > /var/lib/pulp/flood/f$i; i=$((i+1)); done');
  console.log(`  the guest wrote 10,000 files in ${Date.now() - flood} ms`);
  await page.waitForSelector('#timeline li.file:has-text("more changes")', { timeout: 2000 });
  await page.waitForSelector('[data-key="volume:pulp"]:has-text("10001 files")', { timeout: 5000 });
  const events = await page.locator('#timeline li.file').count();
  assert.ok(events <= 40, `the timeline keeps at most 40 file entries, has ${events}`);
  const t = Date.now();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
  assert.ok(Date.now() - t < 500, 'the page stalled after the flood');

  step('the file can be viewed read-only');
  await page.click('table.files tr[data-name="new.txt"] .viewable');
  await page.waitForSelector('#file-view:has-text("hi")');

  step('the timeline shows docker commands');
  await page.waitForSelector('#timeline li:has-text("docker volume create pulp")');

  step("a container's path walks: through a link into another volume, drawn on the graph, live");
  docker('run', '--name', 'worker', '-v', 'www:/var/www', '-v', 'content:/var/lib/pulp', 'busybox', 'sh', '-c',
    'mkdir -p /var/lib/pulp/content /var/www/pub && echo mirrored > /var/lib/pulp/content/abc && ln -s /var/lib/pulp/content/abc /var/www/pub/f');
  const httpd = docker('run', '-d', '--name', 'httpd', '-v', 'www:/var/www:ro', '-v', 'content:/var/lib/pulp:ro', 'busybox', 'sh', '-c', 'sleep 3600');
  await page.waitForSelector(q('data-key', `container:${httpd}`), { timeout: 5000 });
  await page.click(q('data-key', `container:${httpd}`));
  await page.waitForSelector('#walks li.hint:has-text("No file read yet")');
  assert.equal(docker('exec', 'httpd', 'cat', '/var/www/pub/f'), 'mirrored');
  const walk = await page.waitForSelector('#walks li.walk[data-path="/var/www/pub/f"]:not(.broken)', { timeout: 2000 });
  const walked = await walk.textContent();
  assert.match(walked, /link \/var\/www\/pub\/f → \/var\/lib\/pulp\/content\/abc in volume www at \/var\/www/);
  assert.match(walked, /\/var\/lib\/pulp\/content\/abc in volume content at \/var\/lib\/pulp/);
  assert.match(walked, /opened$/);
  for (const volume of ['www', 'content']) {
    await page.waitForSelector(`#graph g.walked${q('data-from', `container:${httpd}`)}${q('data-to', `volume:${volume}`)}`);
    await page.waitForSelector(`#graph .node.walked${q('data-key', `volume:${volume}`)}`);
  }
  await page.screenshot({ path: join(SHOTS, 'dashboard-walk.png') });

  step('without the content volume the walk is shown broken, naming where');
  const wwwOnly = docker('run', '-d', '--name', 'httpd-www-only', '-v', 'www:/var/www:ro', 'busybox', 'sh', '-c', 'sleep 3600');
  await page.waitForSelector(q('data-key', `container:${wwwOnly}`), { timeout: 5000 });
  await page.click(q('data-key', `container:${wwwOnly}`));
  await page.waitForSelector('#walks li.hint');
  assert.match(docker('exec', 'httpd-www-only', 'sh', '-c', 'cat /var/www/pub/f 2>&1; true'), /No such file or directory/);
  const broken = await page.waitForSelector('#walks li.walk.broken[data-path="/var/www/pub/f"]', { timeout: 2000 });
  const brokenText = await broken.textContent();
  assert.match(brokenText, /link \/var\/www\/pub\/f → \/var\/lib\/pulp\/content\/abc in volume www at \/var\/www/);
  assert.match(brokenText, /ENOENT: broke at \/var \(in the container's own files\), no "lib" there/);
  await page.waitForSelector(`#graph g.walked${q('data-from', `container:${wwwOnly}`)}${q('data-to', 'volume:www')}`);
  await page.waitForSelector(`#graph .node.walk-broken${q('data-key', `container:${wwwOnly}`)}`);
  assert.equal(await page.locator(`#graph g.walked${q('data-to', 'volume:content')}`).count(), 0, 'the content volume is not crossed');
  await page.screenshot({ path: join(SHOTS, 'dashboard-walk-broken.png') });
  await page.keyboard.press('Escape');

  step('an image VOLUME makes an anonymous volume that says where it came from');
  dockerWithInput('FROM busybox\nVOLUME /var/lib/pulp /var/www\n', 'build', '-q', '-t', 'pulp-content', '-');
  docker('run', '-d', '--name', 'volume-demo', 'pulp-content', 'sh', '-c', 'sleep 3600');
  await page.waitForSelector('[data-key^="volume:"]:has-text("from VOLUME /var/lib/pulp")', { timeout: 5000 });
  const origin = await page.getAttribute('[data-key^="volume:"]:has-text("from VOLUME /var/lib/pulp")', 'data-key');
  await page.click(`[data-key="${origin}"]`);
  await page.waitForSelector('#details:has-text("from VOLUME /var/lib/pulp of image pulp-content:latest, created for container volume-demo")');
  await page.click('[data-key^="container:"]:has-text("volume-demo")');
  await page.waitForSelector('#preview:has-text("docker rm -v volume-demo would delete 2 anonymous volume(s)")');
  assert.equal(await page.locator('#graph .node.volume.doomed').count(), 2);
  await page.screenshot({ path: join(SHOTS, 'dashboard-rm-preview.png') });
  await page.keyboard.press('Escape');
  await page.click('[data-key="volume:pulp"]');
  await page.waitForSelector('table.files tr[data-name="new.txt"]');

  step('presenter mode reads at 1280x720: the graph fills the pane, no text overlaps another, names are whole');
  await page.keyboard.press('p');
  assert.equal(await page.evaluate(() => document.body.classList.contains('presenter')), true);
  await page.waitForTimeout(300); // the refit after the layout change
  const layout = await page.evaluate(() => {
    const pane = document.querySelector('#graph-pane');
    const svg = document.querySelector('#graph svg').getBoundingClientRect();
    const texts = [...document.querySelectorAll('#graph svg text')]
      .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }))
      .filter((t) => t.r.width > 0);
    const overlaps = [];
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) {
          overlaps.push(`${texts[i].text} / ${texts[j].text}`);
        }
      }
    }
    const cut = [...document.querySelectorAll('#graph .node:not(.host):not(.anonymous) text.title')]
      .map((t) => t.textContent).filter((t) => t.includes('…'));
    return { overlaps, cut, fill: Math.max(svg.width / (pane.clientWidth - 24), svg.height / (pane.clientHeight - 24)), texts: texts.length };
  });
  assert.deepEqual(layout.overlaps, [], 'texts of the graph overlap');
  assert.deepEqual(layout.cut, [], 'names are cut');
  assert.ok(layout.fill > 0.9, `the graph fills ${layout.fill} of the pane`);
  console.log(`  ${layout.texts} texts, none overlapping; the graph fills the pane`);
  await page.screenshot({ path: join(SHOTS, 'dashboard-presenter.png') });
  await page.keyboard.press('p');

  step('a page opened later shows the events since the controller started');
  const late = await browser.newPage();
  await late.goto(BASE + '/');
  await late.waitForSelector('#status.live');
  await late.waitForSelector('#timeline li:has-text("docker volume create pulp")', { timeout: 5000 });
  await late.waitForSelector(`#timeline li.container:has-text("data")`, { timeout: 5000 });
  await late.close();

  step('the page recovers after the controller restarts');
  await stopServer(server);
  await page.waitForSelector('#status.offline', { timeout: 5000 });
  server = await startServer();
  await page.waitForSelector('#status.live', { timeout: 10000 });
  await page.waitForSelector(q('data-key', `container:${data}`), { timeout: 5000 });
  await page.waitForSelector(`${q('data-from', `container:${web}`)}${q('data-to', 'volume:pulp')}`, { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  await page.screenshot({ path: join(SHOTS, 'dashboard-restarted.png') });

  assert.equal(await page.locator('button.action').count(), 0, 'read-only by default');

  step('with --allow-actions, rm -v is offered with what it deletes, and the graph follows');
  await stopServer(server);
  server = await startServer('--allow-actions');
  await page.reload();
  await page.waitForSelector('#status.live');
  await page.click('[data-key^="container:"]:has-text("volume-demo")');
  const rm = await page.waitForSelector('button.action:has-text("docker rm -f -v volume-demo")');
  page.once('dialog', (d) => {
    assert.match(d.message(), /It deletes volumes [0-9a-f]{64}, [0-9a-f]{64}/);
    d.accept();
  });
  await rm.click();
  await page.waitForSelector('[data-key^="container:"]:has-text("volume-demo")', { state: 'detached', timeout: 5000 });
  await page.waitForFunction(() => document.querySelectorAll('#graph .node.volume.anonymous').length === 0, null, { timeout: 5000 });

  step('the lesson panel: a step\'s check turns green once the command ran, the arrow key moves on, reset removes only the lesson\'s things');
  await page.keyboard.press('l');
  await page.click('button.lesson-pick[data-lesson="volumes-from"]');
  await page.waitForSelector('#lesson-step:has-text("Step 1 of")');
  await page.waitForSelector('#lesson code.cmd:has-text("docker create --name vf-data")');
  await page.waitForSelector('#lesson-checks li.check.failed');
  assert.equal(await page.locator('#lesson-checks.passed').count(), 0, 'nothing was run yet');
  docker('create', '--name', 'vf-data', '-v', '/exports', '-v', 'vf-config:/config', 'busybox', 'true');
  await page.waitForSelector('#lesson-checks.passed', { timeout: 5000 });
  assert.equal(await page.locator('#lesson-checks li.check.failed').count(), 0);
  await page.waitForSelector('[data-key^="container:"].selected:has-text("vf-data")', { timeout: 5000 });
  await page.screenshot({ path: join(SHOTS, 'dashboard-lesson.png') });
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#lesson-step:has-text("Step 2 of")');
  await page.waitForSelector('#lesson-checks li.check.failed');
  assert.match(page.url(), /lesson=volumes-from&step=2/);
  page.once('dialog', (d) => {
    assert.match(d.message(), /^Reset removes container vf-data, volume vf-config, and nothing else\.$/);
    d.accept();
  });
  await page.click('#lesson-reset');
  await page.waitForSelector('[data-key^="container:"]:has-text("vf-data")', { state: 'detached', timeout: 5000 });
  await page.waitForSelector('[data-key="volume:vf-config"]', { state: 'detached', timeout: 5000 });
  await page.waitForSelector('#lesson-step:has-text("Step 1 of")');
  assert.equal(await page.locator(`[data-key="container:${data}"]`).count(), 1, 'reset leaves what the lesson did not make');

  step('a pod played with porthole kube play is framed on the graph, its containers saying their pod');
  const podYaml = [
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: dash}', 'spec:', '  restartPolicy: Never',
    '  volumes: [{name: shared, emptyDir: {}}]', '  containers:',
    '  - {name: writer, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: shared, mountPath: /shared}]}',
    '  - {name: reader, image: busybox, command: [sleep, "3600"], volumeMounts: [{name: shared, mountPath: /shared, readOnly: true}]}',
    '',
  ].join('\n');
  const kube = (...args) => execFileSync(BIN, ['kube', ...args, '--host', `tcp://127.0.0.1:${PORT}`], { input: podYaml, encoding: 'utf8' });
  kube('play', '-');
  await page.waitForSelector(`#graph g.pod${q('data-pod', 'dash')}`, { timeout: 5000 });
  await page.waitForSelector('[data-key^="container:"]:has-text("dash-reader"):has-text("pod dash")');
  await page.waitForSelector('[data-key="volume:dash-shared"]');
  await page.screenshot({ path: join(SHOTS, 'dashboard-pod.png') });
  kube('down', '-');
  await page.waitForSelector(`#graph g.pod${q('data-pod', 'dash')}`, { state: 'detached', timeout: 5000 });

  step('unknown ids get a friendly 404 page');
  const resp = await page.goto(BASE + '/container/no-such-thing');
  assert.equal(resp.status(), 404);
  assert.match(await page.textContent('h1'), /No such container: no-such-thing/);
  console.log(`dashboard: ${started} passed, 0 failed`);
} catch (e) {
  console.log(`dashboard: ${started - 1} passed, 1 failed`);
  throw e;
} finally {
  await browser?.close();
  await stopServer(server);
  rmSync(root, { recursive: true, force: true });
}
