#!/usr/bin/env python3
"""Porthole side by side with its peers, in one run: podman (runc, no network, images imported
from Debian's busybox-static), wasmtime-wasi and native (through the runtime's `fs` bench).
Runs of Porthole and of each peer alternate, so drift in the machine's load hits both alike.
Prints one table of medians and ratios (Porthole / peer) and writes it as JSON to
target/bench/ (results-<time>.json and latest.json). Asserts nothing about speed.

    bench/harness.py            # full sizes (builds the release binary first)
    bench/harness.py --quick    # tiny sizes, a few runs: what CI runs so the harness cannot rot
    bench/harness.py --rows cycle,create    # only those groups of rows

Podman is given a configuration of the harness's own (CONTAINERS_CONF, --root and --runroot
under target/bench/podman): the machine's /etc/containers is never read for it nor changed.
A peer that is missing is skipped with a note saying why; --quick leaves podman out unless
--podman asks for it. CARGO_CMD (default `cargo`) is the cargo command that builds the binary
and runs the `fs` bench; --binary uses a given `porthole` instead of building one.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import api  # noqa: E402  (the unix-socket client and the API cycle)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "target/bench"
API = "/v1.49"


def median(xs):
    return statistics.median(xs) if xs else None


def load_average():
    """The machine's 1-, 5- and 15-minute load averages, as `uptime` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


class Table:
    """The rows as they are measured: printed as they come, and all at the end, and as JSON."""

    def __init__(self, header):
        self.header = header
        self.rows, self.notes = [], []

    def add(self, row, unit, porthole, peer=None, peer_value=None, note="", samples=None):
        ratio = porthole / peer_value if porthole is not None and peer_value else None
        r = {"row": row, "unit": unit, "porthole": porthole, "peer": peer, "peer_value": peer_value,
             "ratio": ratio, "note": note, "samples": samples or {}}
        self.rows.append(r)
        print("  " + self.line(r), flush=True)

    def note(self, text):
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    @staticmethod
    def fmt(v, unit):
        if v is None:
            return "-"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"

    def line(self, r):
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        peer = f"{r['peer']} {self.fmt(r['peer_value'], r['unit'])}" if r["peer"] else ""
        return (f"{r['row']:<58} {self.fmt(r['porthole'], r['unit']):>9} {r['unit']:<4} "
                f"{peer:<24} {ratio:>7}  {r['note']}")

    def print(self):
        print()
        print(f"{self.header}; load average now {load_average()}")
        print(f"{'row':<58} {'porthole':>9} {'unit':<4} {'peer':<24} {'ratio':>7}")
        for r in self.rows:
            print(self.line(r))
        for n in self.notes:
            print(f"note: {n}")


class Porthole:
    """A `porthole serve` on a root of its own."""

    def __init__(self, binary, root):
        self.binary, self.root = binary, root
        self.start()

    def start(self):
        t = time.perf_counter()
        self.proc = subprocess.Popen([str(self.binary), "serve", "--listen", "127.0.0.1:0", "--root", str(self.root)],
                                     stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        self.addr = first.split("http://")[1].split(" ")[0]
        assert self.proc.stdout.readline().strip() == "ready"
        self.env = dict(os.environ, DOCKER_HOST=f"tcp://{self.addr}", DOCKER_BUILDKIT="0")
        return time.perf_counter() - t

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)

    def conn(self):
        return api.UnixConnection(str(self.root / "porthole.sock"))

    def docker(self, *args, **kw):
        return subprocess.run(["docker", *args], env=self.env, check=True, capture_output=True, text=True, **kw)

    def settle(self):
        """Waits until the trash is deleted: removal returns at once and deletes in the
        background, and a create measured meanwhile would share the disk with that deletion;
        then syncs, so that no fsync measured next waits for earlier writes."""
        while any((self.root / "trash").glob("*")):
            time.sleep(0.05)
        os.sync()

    def pss_mib(self):
        return pss_kib(self.proc.pid) / 1024


class Podman:
    """Debian's podman with the harness's own configuration and storage."""

    def __init__(self, base):
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        conf = base / "containers.conf"
        conf.write_text('[containers]\nnetns = "none"\n'
                        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                        '[engine]\nruntime = "runc"\n')
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf))
        self.prefix = ["podman", "--root", str(base / "root"), "--runroot", str(base / "run")]
        busybox = pathlib.Path("/bin/busybox")
        image = base / "busybox.tar"
        tree = base / "busybox-tree"
        shutil.rmtree(tree, ignore_errors=True)
        (tree / "bin").mkdir(parents=True)
        shutil.copy2(busybox, tree / "bin/busybox")
        for applet in ["sh", "true", "sleep", "cat", "echo"]:
            (tree / "bin" / applet).symlink_to("busybox")
        subprocess.run(["tar", "-C", str(tree), "-cf", str(image), "."], check=True)
        self.run("import", str(image), "localhost/busybox:latest")

    def run(self, *args, **kw):
        return subprocess.run([*self.prefix, *args], env=self.env, check=True, capture_output=True, text=True, **kw)

    def clean(self):
        self.run("rm", "-f", "-t", "0", "--all")


def pss_kib(pid):
    """The process's proportional set size: each page it maps counted once, shared ones
    divided among their mappers. Not RSS: wasmtime maps each instance's initial memory from
    the compiled module's file, and RSS counts those shared clean pages once per instance
    (some 0.55 MiB per sleeping busybox), although they are one copy in memory."""
    try:
        for line in pathlib.Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def du_bytes(*paths):
    """Disk blocks used, hard links counted once (one du over all paths)."""
    paths = [str(p) for p in paths if pathlib.Path(p).exists()]
    if not paths:
        return 0
    out = subprocess.run(["du", "-s", "-c", "--block-size=1", *paths], capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1].split()[0])


def timed(f, *args):
    t = time.perf_counter()
    f(*args)
    return time.perf_counter() - t


def make_context(path, mib, files, base_image):
    """A build context: `files` files of random bytes, `mib` MiB in all, under /payload."""
    shutil.rmtree(path, ignore_errors=True)
    each = max(1, (mib << 20) // files)
    for i in range(files):
        d = path / "payload" / f"d{i % 64}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}").write_bytes(os.urandom(each))
    (path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY payload /payload\n")


def create(conn, image, cmd=("true",), binds=None):
    body = {"Image": image, "Cmd": list(cmd)}
    if binds:
        body["HostConfig"] = {"Binds": binds}
    return api.call(conn, "POST", f"{API}/containers/create", body)["Id"]


def remove(conn, cid):
    api.call(conn, "DELETE", f"{API}/containers/{cid}?v=1&force=1")


def bench_run_rm(t, ph, pm, n):
    """`docker run --rm busybox true` through the docker CLI, against `podman run --rm`."""
    ours, theirs = [], []
    for _ in range(2):
        ph.docker("run", "--rm", "busybox", "true")
        pm and pm.run("run", "--rm", "localhost/busybox", "true")
    for _ in range(n):
        ours.append(timed(ph.docker, "run", "--rm", "busybox", "true"))
        if pm:
            theirs.append(timed(pm.run, "run", "--rm", "localhost/busybox", "true"))
    t.add("docker run --rm busybox true (CLI)", "ms", median(ours) * 1e3, pm and "podman",
          pm and median(theirs) * 1e3, f"n={n}", {"porthole": ours, "podman": theirs})


def bench_cycle(t, ph, n):
    """The engine-side cycle over the unix socket, no client: each phase and the whole."""
    conn = ph.conn()
    for _ in range(5):
        api.cycle(conn)
    phases = {"create": [], "start": [], "wait": [], "delete": []}
    whole = []
    for _ in range(n):
        t0 = time.perf_counter()
        cid = create(conn, "busybox")
        t1 = time.perf_counter()
        api.call(conn, "POST", f"{API}/containers/{cid}/start")
        t2 = time.perf_counter()
        api.call(conn, "POST", f"{API}/containers/{cid}/wait")
        t3 = time.perf_counter()
        api.call(conn, "DELETE", f"{API}/containers/{cid}?v=1")
        t4 = time.perf_counter()
        for k, d in zip(phases, [t1 - t0, t2 - t1, t3 - t2, t4 - t3]):
            phases[k].append(d)
        whole.append(t4 - t0)
    t.add("engine-side cycle create→start→wait→delete (unix socket)", "ms", median(whole) * 1e3, note=f"n={n}",
          samples={"porthole": whole})
    for k, v in phases.items():
        t.add(f"  of which {k}", "ms", median(v) * 1e3, samples={"porthole": v})


def make_image(ph, pm, work, label, mib, files):
    """An image of `mib` MiB in `files` files over busybox, built by Porthole and podman alike."""
    ctx = work / f"ctx-{label}"
    make_context(ctx, mib, files, "busybox")
    tag = f"bench-{label}"
    ph.docker("build", "-q", "-t", tag, str(ctx))
    if pm:
        (ctx / "Dockerfile").write_text("FROM localhost/busybox\nCOPY payload /payload\n")
        pm.run("build", "--pull=never", "-q", "-t", f"localhost/{tag}", str(ctx))
    shutil.rmtree(ctx)
    # The image's files are still being written back: a create's fsync measured meanwhile
    # would wait for them (ext4 commits them with it).
    os.sync()
    return tag


def bench_image_create(t, ph, pm, work, images, n):
    """Create of a container from each image of `images` ((label, MiB, files) each): time
    (median) and disk per container. The images' creates alternate in one loop, so that drift
    in the machine's load hits each alike: whether a create's time depends on the image's
    size is the question (issue 14: it must not). Returns each image's tag and disk per
    container."""
    tags = [make_image(ph, pm, work, *image) for image in images]
    conn = ph.conn()
    ours, theirs, disk, pm_disk = ([[] for _ in images] for _ in range(4))
    for _ in range(n):
        for i, tag in enumerate(tags):
            ph.settle()
            before = du_bytes(ph.root / "containers")
            t0 = time.perf_counter()
            cid = create(conn, tag)
            ours[i].append(time.perf_counter() - t0)
            disk[i].append(du_bytes(ph.root / "containers") - before)
            remove(conn, cid)
            if pm:
                before = du_bytes(pm.base / "root")
                t0 = time.perf_counter()
                pid = pm.run("create", f"localhost/{tag}", "true").stdout.strip()
                theirs[i].append(time.perf_counter() - t0)
                pm_disk[i].append(du_bytes(pm.base / "root") - before)
                pm.run("rm", pid)
    peer = "podman" if pm else None
    for (_, mib, files), o, th, d, pd in zip(images, ours, theirs, disk, pm_disk):
        t.add(f"create from a {mib} MiB image ({files} files): time", "ms", median(o) * 1e3, peer,
              pm and median(th) * 1e3, f"n={n}", {"porthole": o, "podman": th})
        t.add(f"create from a {mib} MiB image: disk per container", "MiB", median(d) / 2**20, peer,
              pm and median(pd) / 2**20)
    # The goal as a ratio of this run: the largest image's create against the smallest's.
    t.add(f"create time, {images[-1][1]} MiB image / {images[0][1]} MiB image", "x",
          median(ours[-1]) / median(ours[0]), note="O(1) in the image's size: 1.0 +- 0.2")
    return list(zip(tags, (median(d) for d in disk)))


def bench_many(t, ph, pm, tag, mib, count):
    """`count` containers of the image (each with an anonymous volume, for the restart row):
    total time and disk, against podman."""
    conn = ph.conn()
    base = du_bytes(ph.root / "containers")
    t0 = time.perf_counter()
    for _ in range(count):
        api.call(conn, "POST", f"{API}/containers/create", {"Image": tag, "Cmd": ["true"], "Volumes": {"/data": {}}})
    ours = time.perf_counter() - t0
    disk = (du_bytes(ph.root / "containers") - base) / 2**20
    theirs = pm_disk = None
    if pm:
        pm_base = du_bytes(pm.base / "root")
        t0 = time.perf_counter()
        for _ in range(count):
            pm.run("create", "-v", "/data", f"localhost/{tag}", "true")
        theirs = time.perf_counter() - t0
        pm_disk = (du_bytes(pm.base / "root") - pm_base) / 2**20
    t.add(f"{count} containers of the {mib} MiB image: time", "s", ours, pm and "podman", theirs)
    t.add(f"{count} containers of the {mib} MiB image: disk", "MiB", disk, pm and "podman", pm_disk)


def bench_restart(t, ph, n):
    """`porthole serve` from start to ready on the store as it is."""
    counts = (len(list((ph.root / "containers").iterdir())), len(list((ph.root / "volumes").iterdir())))
    took = []
    for _ in range(n):
        ph.stop()
        took.append(ph.start())
    t.add(f"controller start with {counts[0]} containers, {counts[1]} volumes", "ms", median(took) * 1e3,
          note=f"n={n}", samples={"porthole": took})


def bench_sleepers(t, ph, pm, count):
    """`count` containers started at once, each sleeping: time until all run, and memory.
    The controller is restarted first, so that its memory is what the containers take on top of
    a controller that loads the compiled module from its cache, whichever rows ran before: a
    controller that compiled busybox itself keeps the compiler's heap (some 450 MiB)."""
    ph.stop()
    ph.start()
    conn = ph.conn()
    ids = [create(conn, "busybox", ("sleep", "1000")) for _ in range(count)]

    def start(cid):
        c = ph.conn()
        api.call(c, "POST", f"{API}/containers/{cid}/start")

    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(start, ids))
    while len(api.call(conn, "GET", f"{API}/containers/json")) < count:
        time.sleep(0.01)
    ours = time.perf_counter() - t0
    mem = ph.pss_mib()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda cid: remove(ph.conn(), cid), ids))
    theirs = pm_mem = None
    if pm:
        pids = [pm.run("create", "localhost/busybox", "sleep", "1000").stdout.strip() for _ in range(count)]
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda p: pm.run("start", p), pids))
        while len(pm.run("ps", "-q").stdout.split()) < count:
            time.sleep(0.05)
        theirs = time.perf_counter() - t0
        states = pm.run("inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", *pids).stdout.split()
        pm_mem = sum(pss_kib(int(p)) for p in states if p.isdigit() and p != "0") / 1024
        pm.clean()
    t.add(f"{count} sleeping containers started at once: until all run", "s", ours, pm and "podman", theirs)
    t.add(f"{count} sleeping containers: PSS (controller; podman: conmon+guests)", "MiB", mem,
          pm and "podman", pm_mem)


def bench_copy_up(t, ph, work, mib, files, n):
    """Copy-up of a `mib` MiB, `files`-file image directory into a new volume, against `cp -a`
    of the same directory. A create with the volume less a create without it (both copy the
    rootfs today, so the difference is the copy-up)."""
    ctx = work / "ctx-copyup"
    make_context(ctx, mib, files, "busybox")
    ph.docker("build", "-q", "-t", "bench-copyup", str(ctx))
    conn = ph.conn()
    with_volume, without, cp = [], [], []
    for i in range(n):
        ph.settle()
        t0 = time.perf_counter()
        cid = create(conn, "bench-copyup", binds=[f"copyup-{i}:/payload"])
        with_volume.append(time.perf_counter() - t0)
        remove(conn, cid)
        api.call(conn, "DELETE", f"{API}/volumes/copyup-{i}")
        ph.settle()
        t0 = time.perf_counter()
        cid = create(conn, "bench-copyup")
        without.append(time.perf_counter() - t0)
        remove(conn, cid)
        dest = work / f"cp-{i}"
        cp.append(timed(subprocess.run, ["cp", "-a", str(ctx / "payload"), str(dest)]))
        shutil.rmtree(dest)
    shutil.rmtree(ctx)
    ours = [a - b for a, b in zip(with_volume, without)]
    t.add(f"copy-up of {mib} MiB, {files} files into a new volume", "ms", median(ours) * 1e3, "cp -a",
          median(cp) * 1e3, f"n={n}", {"porthole": ours, "cp -a": cp})


def bench_fs(t, cargo, quick):
    """The runtime's `fs` bench: Porthole's WASI host against wasmtime-wasi and native."""
    out = OUT / "fs.json"
    env = dict(os.environ, PORTHOLE_BENCH_JSON=str(out))
    # Quick: the debug build `cargo test` already made; full: the optimized bench build.
    cmd = [*cargo, "test" if quick else "bench", "-p", "porthole-runtime", "--bench", "fs"]
    if quick:
        env["PORTHOLE_BENCH_QUICK"] = "1"
    subprocess.run(cmd, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    fs = json.loads(out.read_text())
    for case in fs["cases"]:
        # wasmtime-wasi cannot run a guest that imports Porthole's own calls (the userland's dd).
        for peer in [p for p in ["wasmtime-wasi", "native"] if p in case]:
            t.add(f"guest file I/O: {case['name']}", "s", case["porthole"], peer, case[peer],
                  f"median of {fs['runs']}")


# The groups of rows, in the order they run (`--rows` picks some).
GROUPS = ["run-rm", "cycle", "create", "many", "restart", "sleepers", "copy-up", "fs"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes and few runs (CI)")
    ap.add_argument("--binary", type=pathlib.Path, help="a porthole binary (default: build the release one)")
    ap.add_argument("--no-podman", action="store_true")
    ap.add_argument("--podman", action="store_true", help="include podman in --quick")
    ap.add_argument("--no-fs", action="store_true", help="skip the guest file I/O rows")
    ap.add_argument("--rows", type=lambda v: v.split(","), default=list(GROUPS),
                    help=f"which groups of rows, comma-separated (default all: {','.join(GROUPS)})")
    ap.add_argument("--many", type=int, help="how many containers of the 26 MiB image (default 1000; --quick 20)")
    args = ap.parse_args()
    unknown = set(args.rows) - set(GROUPS)
    if unknown:
        ap.error(f"unknown rows: {', '.join(sorted(unknown))} (known: {', '.join(GROUPS)})")
    want = set(args.rows) - ({"fs"} if args.no_fs else set())
    q = args.quick
    cargo = os.environ.get("CARGO_CMD", "cargo").split()
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = args.binary
    if binary is None:
        if q:
            binary = target / "debug/porthole"
            if not binary.exists():
                subprocess.run([*cargo, "build", "-p", "porthole-cli"], check=True, cwd=ROOT)
        else:
            subprocess.run([*cargo, "build", "--release", "-p", "porthole-cli"], check=True, cwd=ROOT)
            binary = target / "release/porthole"
    # A copy of its own, so another build cannot replace the binary while it is measured.
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "bin").mkdir(parents=True)
    shutil.copy2(binary, work / "bin/porthole")

    started = datetime.datetime.now(datetime.timezone.utc)
    machine = f"{platform.node()}, {os.cpu_count()} cores, {platform.machine()}, kernel {platform.release()}"
    load_at_start = load_average()
    t = Table(f"{'quick' if q else 'full'} run, {started:%Y-%m-%d %H:%M} UTC, {machine}, "
              f"load average at start {load_at_start}")
    print(t.header)
    print(f"porthole: {binary}")

    pm = None
    if args.no_podman:
        t.note("podman skipped (--no-podman)")
    elif not want & {"run-rm", "create", "many", "sleepers"}:
        pass
    elif q and not args.podman:
        t.note("podman skipped in --quick (--podman includes it)")
    elif not shutil.which("podman"):
        t.note("podman skipped: not installed (Debian: apt-get install podman busybox-static)")
    elif not pathlib.Path("/bin/busybox").exists():
        t.note("podman skipped: /bin/busybox (Debian's busybox-static) is missing for its image")
    else:
        try:
            pm = Podman(OUT / "podman")
            pm.clean()
            pm.run("run", "--rm", "localhost/busybox", "true")
        except subprocess.CalledProcessError as e:
            t.note(f"podman skipped: `{' '.join(e.cmd[-4:])}` failed: {(e.stderr or '').strip()[:300]}")
            pm = None

    ph = Porthole(work / "bin/porthole", work / "root")
    small = ("26m", 1 if q else 26, 50 if q else 1000)
    try:
        if "run-rm" in want:
            bench_run_rm(t, ph, pm, 3 if q else 30)
        if "cycle" in want:
            bench_cycle(t, ph, 10 if q else 200)
        small_tag, each = None, 0
        if "create" in want:
            large = ("200m", 4 if q else 200, 100 if q else 2000)
            (small_tag, each), _ = bench_image_create(t, ph, pm, work, [small, large], 3 if q else 30)
        if "many" in want:
            small_tag = small_tag or make_image(ph, pm, work, *small)
            count = args.many or (20 if q else 1000)
            # What one container of the image takes decides whether `count` fit on this disk.
            each = max(1, each)
            free = shutil.disk_usage(work).free
            if count * each > free // 2:
                fit = max(10, int(free // 2 // each))
                t.note(f"{count} containers of the 26 MiB image would take {count * each / 2**30:.1f} GiB, more "
                       f"than half of the {free / 2**30:.0f} GiB free: {fit} made instead (podman too)")
                count = fit
            bench_many(t, ph, pm, small_tag, small[1], count)
        if "restart" in want:
            bench_restart(t, ph, 3 if q else 5)
        api.call(ph.conn(), "POST", f"{API}/containers/prune")
        api.call(ph.conn(), "POST", f"{API}/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D")
        ph.settle()
        if pm:
            pm.clean()
            pm.run("volume", "prune", "-f")
        if "sleepers" in want:
            for n in ([5] if q else [100, 1000]):
                bench_sleepers(t, ph, pm, n)
        if "copy-up" in want:
            bench_copy_up(t, ph, work, 2 if q else 100, 200 if q else 10_000, 3 if q else 5)
    finally:
        ph.stop()
        if pm:
            pm.clean()
    if "fs" in want:
        bench_fs(t, cargo, q)
    else:
        t.note("guest file I/O skipped")
    if not shutil.which("wasmtime"):
        t.note("the wasmtime CLI is not installed: the wasmtime rows are wasmtime-wasi embedded, as the fs bench runs it")

    t.print()
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"date": started.isoformat(), "machine": machine, "quick": q, "binary": str(binary),
              "load_average": {"start": load_at_start, "end": load_average()}, "rows": t.rows, "notes": t.notes}
    path = OUT / f"results-{started:%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=1))
    (OUT / "latest.json").write_text(json.dumps(result, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
