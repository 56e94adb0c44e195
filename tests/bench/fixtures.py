#!/usr/bin/env python3
"""Builds the benchmark images from busybox-static and pushes them to a local
registry through the distribution API, so no image comes from the internet.

    fixtures.py 127.0.0.1:PORT

pushes, under bench/busybox:
  - single: one gzip layer, busybox and its applets (what containers run);
  - multi:  five layers, a busybox base with a marker file (so it shares no
            layer with `single` and a cold pull really fetches everything),
            then four layers of random data, which gzip cannot shrink.
and prints the two references, one a line (single first).

Stdlib only, like the rest of the bench tooling.
"""

import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import urllib.request

REPO = "bench/busybox"
RANDOM_LAYERS = 4
RANDOM_LAYER_BYTES = 4 * 1024 * 1024
MTIME = 1_700_000_000

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layer:
    """An uncompressed tar built in memory, entries owned by root."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.GNU_FORMAT)

    def _add(self, path, kind, mode, data=b"", link=""):
        info = tarfile.TarInfo(path)
        info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, link
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data) if data else None)
        return self

    def dir(self, path):
        return self._add(path, tarfile.DIRTYPE, 0o755)

    def file(self, path, data, mode=0o644):
        return self._add(path, tarfile.REGTYPE, mode, data)

    def symlink(self, path, target):
        return self._add(path, tarfile.SYMTYPE, 0o777, link=target)

    def blob(self):
        """Returns (gzip blob, diff_id)."""
        self.tar.close()
        raw = self.buf.getvalue()
        return gzip.compress(raw, compresslevel=1, mtime=0), digest(raw)


def busybox_layer(marker=None):
    try:
        busybox = open("/bin/busybox", "rb").read()
    except OSError:
        sys.exit("error: /bin/busybox is missing: install busybox-static")
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    layer = Layer()
    for d in ("bin", "etc", "tmp", "root", "home"):
        layer.dir(d)
    layer.file("bin/busybox", busybox, 0o755)
    for applet in applets:
        if applet != "busybox":
            layer.symlink(f"bin/{applet}", "busybox")
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    layer.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    if marker:
        layer.file("etc/bench-image", marker.encode() + b"\n")
    return layer.blob()


def random_layer(i):
    return Layer().dir("data").file(f"data/random-{i}", os.urandom(RANDOM_LAYER_BYTES)).blob()


def host_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


class Registry:
    def __init__(self, addr):
        self.base = f"http://{addr}/v2/{REPO}"

    def _send(self, method, url, body=None, content_type=None):
        req = urllib.request.Request(url, data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        return urllib.request.urlopen(req, timeout=60)

    def push_blob(self, data):
        """Monolithic upload; returns the blob's digest."""
        d = digest(data)
        location = self._send("POST", f"{self.base}/blobs/uploads/").headers["Location"]
        if not location.startswith("http"):
            location = self.base.split("/v2/")[0] + location
        sep = "&" if "?" in location else "?"
        self._send("PUT", f"{location}{sep}digest={d}", data, "application/octet-stream")
        return d

    def push_image(self, tag, layers):
        """layers: [(blob, diff_id)]. Pushes blobs, config and manifest."""
        config = json.dumps({
            "architecture": host_arch(),
            "os": "linux",
            "created": "2026-11-01T00:00:00Z",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in layers]},
            "history": [{"created": "2026-11-01T00:00:00Z", "created_by": "berth bench fixture"} for _ in layers],
        }).encode()
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": self.push_blob(config), "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": self.push_blob(blob), "size": len(blob)} for blob, _ in layers],
        }).encode()
        self._send("PUT", f"{self.base}/manifests/{tag}", manifest, MANIFEST)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fixtures.py REGISTRY_HOST:PORT")
    addr = sys.argv[1]
    registry = Registry(addr)
    registry.push_image("single", [busybox_layer()])
    registry.push_image("multi", [busybox_layer(marker="multi")] + [random_layer(i) for i in range(RANDOM_LAYERS)])
    print(f"{addr}/{REPO}:single")
    print(f"{addr}/{REPO}:multi")


if __name__ == "__main__":
    main()
