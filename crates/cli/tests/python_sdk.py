"""The Python Docker SDK's high-level API against a real `porthole serve` (DOCKER_HOST).

Run by crates/cli/tests/python_sdk.rs. Every check looks at a real result: output a guest
wrote, a file another container reads back, sizes measured on disk, Docker's error texts.
"""

import io
import sys
import tarfile

import docker
from docker.errors import APIError, BuildError, ContainerError, NotFound

client = docker.from_env()
checks = 0


def check(condition, what):
    global checks
    if not condition:
        sys.exit(f"FAILED: {what}")
    checks += 1


def expect_error(error_type, call, what):
    """Runs `call`, which must raise `error_type`; gives the exception."""
    try:
        result = call()
    except error_type as e:
        global checks
        checks += 1
        return e
    sys.exit(f"FAILED: {what}: no {error_type.__name__}, got {result!r}")


check(client.ping(), "ping")
check(client.version()["ApiVersion"] == "1.49", "version")

# run: create, start, logs, wait, remove, as the SDK chains them.
out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], stderr=True, name="py-run")
check(out == b"out\nerr\n", f"run output {out!r}")
kept = client.containers.get("py-run")
check(kept.status == "exited" and kept.attrs["State"]["ExitCode"] == 0, f"run status {kept.status}")
check(kept.logs() == b"out\nerr\n", "logs")
kept.remove()
expect_error(NotFound, lambda: client.containers.get("py-run"), "removed container")

out = client.containers.run("busybox", ["echo", "gone"], remove=True, name="py-rm")
check(out == b"gone\n", f"run --rm output {out!r}")
check("py-rm" not in [c.name for c in client.containers.list(all=True)], "run --rm removes")

failed = expect_error(
    ContainerError, lambda: client.containers.run("busybox", ["sh", "-c", "echo bad >&2; exit 3"]), "exit 3"
)
check(failed.exit_status == 3 and b"bad" in failed.stderr, f"exit status {failed.exit_status} {failed.stderr!r}")

# Detached: list, exec, wait, logs.
sleeper = client.containers.run("busybox", ["sh", "-c", "echo started; sleep 60"], detach=True, name="py-sleeper")
check(sleeper.name == "py-sleeper", "detached name")
running = [c.name for c in client.containers.list()]
check("py-sleeper" in running, f"list shows the running container: {running}")
top = sleeper.top()
check(top["Titles"][1] == "PID" and top["Processes"][0][7] == "sh -c echo started; sleep 60", f"top {top}")
sleeper.rename("py-renamed")
check(client.containers.get("py-renamed").id == sleeper.id, "rename")
expect_error(NotFound, lambda: client.containers.get("py-sleeper"), "old name after rename")
sleeper.rename("py-sleeper")
result = sleeper.exec_run(["sh", "-c", "echo from-exec; exit 4"])
check(result.exit_code == 4 and result.output == b"from-exec\n", f"exec {result}")

# Archives: put a file in, read it back through the guest and as a tar.
packed = io.BytesIO()
with tarfile.open(fileobj=packed, mode="w") as tar:
    info = tarfile.TarInfo("put.txt")
    info.size = 4
    tar.addfile(info, io.BytesIO(b"put\n"))
check(sleeper.put_archive("/tmp", packed.getvalue()), "put_archive")
check(sleeper.exec_run(["cat", "/tmp/put.txt"]).output == b"put\n", "put_archive content")
chunks, stat = sleeper.get_archive("/tmp/put.txt")
check(stat["name"] == "put.txt" and stat["size"] == 4, f"get_archive stat {stat}")
with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
    check(tar.extractfile("put.txt").read() == b"put\n", "get_archive content")
expect_error(NotFound, lambda: sleeper.get_archive("/nope"), "get_archive of a missing path")

sleeper.kill()
check(sleeper.wait()["StatusCode"] == 137, "wait after kill")
check(sleeper.logs() == b"started\n", f"detached logs {sleeper.logs()!r}")
everything = [c.name for c in client.containers.list(all=True)]
check("py-sleeper" in everything and "py-sleeper" not in [c.name for c in client.containers.list()], "list(all)")

# Build: the image id comes back, and the image holds what RUN made.
image, logs = client.images.build(
    fileobj=io.BytesIO(b"FROM busybox\nRUN echo built > /built.txt\n"), tag="py-image:1", rm=True
)
check("py-image:1" in image.tags, f"built image tags {image.tags}")
check(any("Successfully built" in line.get("stream", "") for line in logs), "build log")
out = client.containers.run("py-image:1", ["cat", "/built.txt"], remove=True)
check(out == b"built\n", f"built file {out!r}")
broken = expect_error(
    BuildError, lambda: client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 7\n")), "failing build"
)
check("returned a non-zero code: 7" in str(broken), f"build error text: {broken}")
check("py-image:1" in [t for i in client.images.list() for t in i.tags], "images.list")

# Volumes: one container writes, another reads.
volume = client.volumes.create("py-data")
client.containers.run(
    "busybox", ["sh", "-c", "echo 12345678 > /data/f"], volumes={"py-data": {"bind": "/data", "mode": "rw"}}, remove=True
)
out = client.containers.run("busybox", ["cat", "/data/f"], volumes=["py-data:/data:ro"], remove=True)
check(out == b"12345678\n", f"volume content {out!r}")
check("py-data" in [v.name for v in client.volumes.list()], "volumes.list")

# df: the volume's bytes, the image in use by the kept container.
usage = client.df()
data = [v for v in usage["Volumes"] if v["Name"] == "py-data"]
check(data and data[0]["UsageData"]["Size"] == 9 and data[0]["UsageData"]["RefCount"] == 0, f"df volume {data}")
busybox = [i for i in usage["Images"] if "busybox:latest" in i["RepoTags"]]
check(busybox and busybox[0]["Containers"] >= 1, f"df image {busybox}")
sized = [c for c in usage["Containers"] if "/py-sleeper" in c["Names"]]
check(sized and sized[0]["SizeRw"] > 0, f"df container {sized}")
volume.remove()
expect_error(NotFound, lambda: client.volumes.get("py-data"), "removed volume")

# Networks: Docker's defaults, and created ones kept as records (no connectivity).
names = sorted(n.name for n in client.networks.list())
check(names == ["bridge", "host", "none"], f"networks {names}")
check(client.networks.get("none").attrs["Driver"] == "null", "network get")
net = client.networks.create("py-net", labels={"team": "a"})
check(net.attrs["Labels"] == {"team": "a"} and net.attrs["Driver"] == "bridge", f"network create {net.attrs}")
check("no connectivity" in net.attrs["PortholeNote"], f"network note {net.attrs}")
on_net = client.containers.create("busybox", "true", name="py-on-net", network="py-net")
net.reload()
check(list(net.attrs["Containers"]) == [on_net.id], f"network containers {net.attrs['Containers']}")
check(list(on_net.attrs["NetworkSettings"]["Networks"]) == ["py-net"], f"container networks {on_net.attrs}")
on_net.remove()
net.remove()
expect_error(NotFound, lambda: client.networks.get("py-net"), "removed network")

# Prune what the test made.
client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN echo other > /built.txt\n"), tag="py-image:1")
pruned = client.images.prune(filters={"dangling": True})
check([d for d in pruned["ImagesDeleted"] if d.get("Deleted") == image.id], f"images.prune {pruned}")
pruned = client.containers.prune()
check(any(True for _ in pruned["ContainersDeleted"] or []), f"containers.prune {pruned}")
check(client.containers.list(all=True) == [], "nothing left")

print(f"python sdk {docker.__version__}: {checks} checks passed")
