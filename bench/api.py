#!/usr/bin/env python3
"""The controller as clients see it, printed as figures (no assertions):

- the API cycle create -> start -> wait -> delete of `busybox true`, over loopback TCP and over
  the unix socket (one kept-alive connection each, as the docker CLI keeps one);
- `GET /containers/json` (docker ps) latency idle and while a container of a many-file image
  is being created;
- N x `docker run --rm busybox true` through the docker CLI in batches, failures counted.

Usage: bench/api.py [--files 200000] [--cycles 200] [--runs 1000] [--batch 50]
It starts its own `porthole serve` (target/release/porthole, else target/debug/porthole) on a
temporary root and stops it at the end.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return json.loads(data) if data.strip() else None


def cycle(conn):
    t = time.perf_counter()
    cid = call(conn, "POST", "/v1.49/containers/create", {"Image": "busybox", "Cmd": ["true"]})["Id"]
    call(conn, "POST", f"/v1.49/containers/{cid}/start")
    call(conn, "POST", f"/v1.49/containers/{cid}/wait")
    call(conn, "DELETE", f"/v1.49/containers/{cid}?v=1")
    return time.perf_counter() - t


def ms(xs):
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:8.2f} ms   p99 {xs[int(0.99 * (len(xs) - 1))] * 1000:8.2f} ms   max {xs[-1] * 1000:8.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200_000)
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=50)
    args = ap.parse_args()
    binary = next(p for p in [ROOT / "target/release/porthole", ROOT / "target/debug/porthole"] if p.exists())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="porthole-bench-"))
    serve = subprocess.Popen(
        [str(binary), "serve", "--listen", "127.0.0.1:0", "--root", str(tmp / "root")],
        stdout=subprocess.PIPE, text=True)
    try:
        first = serve.stdout.readline()
        addr = first.split("http://")[1].split(" ")[0]
        assert serve.stdout.readline().strip() == "ready"
        host, port = addr.rsplit(":", 1)
        print(f"porthole: {binary} ({'release' if 'release' in str(binary) else 'debug'} build), {os.cpu_count()} cores")
        env = dict(os.environ, DOCKER_HOST=f"tcp://{addr}", DOCKER_BUILDKIT="0")

        tcp = http.client.HTTPConnection(host, int(port))
        unix = UnixConnection(str(tmp / "root/porthole.sock"))
        for c in (tcp, unix):
            for _ in range(5):
                cycle(c)
        times = {"tcp": [], "unix": []}
        for _ in range(args.cycles):  # alternating, so both see the same machine
            times["tcp"].append(cycle(tcp))
            times["unix"].append(cycle(unix))
        for k, v in times.items():
            print(f"API cycle create/start/wait/delete over {k:<5} n={len(v):<5} {ms(v)}")
        print(f"  ratio tcp/unix (medians): {statistics.median(times['tcp']) / statistics.median(times['unix']):.2f}x")

        ctx = tmp / "ctx"
        for i in range(args.files):
            d = ctx / f"many/d{i % 100}"
            if i < 100:
                d.mkdir(parents=True)
            (d / f"f{i}").write_bytes(b"x")
        (ctx / "Dockerfile").write_text("FROM busybox\nCOPY many /many\n")
        subprocess.run(["docker", "build", "-q", "-t", "many", str(ctx)], env=env, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(ctx)

        def ps(conn):
            t = time.perf_counter()
            call(conn, "GET", "/v1.49/containers/json?all=1")
            return time.perf_counter() - t

        # A fresh connection: the build outlasted the controller's idle timeout (30 s).
        unix = UnixConnection(str(tmp / "root/porthole.sock"))
        idle = [ps(unix) for _ in range(300)]
        done = threading.Event()
        created = {}

        def create():
            c = UnixConnection(str(tmp / "root/porthole.sock"))
            t = time.perf_counter()
            created["id"] = call(c, "POST", "/v1.49/containers/create", {"Image": "many", "Cmd": ["true"]})["Id"]
            created["took"] = time.perf_counter() - t
            done.set()

        threading.Thread(target=create).start()
        busy = []
        while not done.is_set():
            busy.append(ps(unix))
            time.sleep(0.005)
        print(f"docker ps idle                    n={len(idle):<5} {ms(idle)}")
        print(f"docker ps during a {args.files}-file create n={len(busy):<5} {ms(busy)}  (the create took {created['took']:.1f} s)")
        print(f"  ratio during/idle (medians): {statistics.median(busy) / statistics.median(idle):.2f}x  (goal: under 2x)")
        call(unix, "DELETE", f"/v1.49/containers/{created['id']}?v=1&force=1")

        def run_rm(_):
            r = subprocess.run(["docker", "run", "--rm", "busybox", "true"], env=env, capture_output=True, text=True)
            return r.returncode, r.stderr.strip()

        failures = []
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.batch) as pool:
            for start in range(0, args.runs, args.batch):
                for code, err in pool.map(run_rm, range(min(args.batch, args.runs - start))):
                    if code != 0:
                        failures.append(err)
        print(f"{args.runs} x docker run --rm busybox true in batches of {args.batch}: "
              f"{len(failures)} failed, {time.perf_counter() - t:.1f} s in all")
        for f in failures[:5]:
            print("  ", f)
    finally:
        serve.terminate()
        t = time.perf_counter()
        serve.wait(timeout=60)
        print(f"porthole serve exited {time.perf_counter() - t:.2f} s after SIGTERM")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
