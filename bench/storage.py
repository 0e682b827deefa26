"""The object store: put/get throughput against the raw back-end, and memory of a big upload.

For 1 MB and 100 MB objects on both back-ends, the median throughput of our store's ``put`` and
``open``-and-read next to the raw baseline in the same run: the ``minio`` SDK's ``put_object``
(from a file of known length) and ``get_object`` on the same S3 server, and for the filesystem a
plain durable write (write, fsync, rename) and read. The ratio ours/raw should stay at or above
0.8. Runs alternate raw and ours so a noisy neighbour hurts both alike, and every put stores new
content (the object is deleted after each run), so deduplication never flatters us. The
encrypted store's figures are shown alongside.

Then the peak RSS of a 500 MB upload streamed through ``put`` (generated on the fly), measured
in a child process as the kernel's high-water mark above the RSS just before the upload; it
should stay under 100 MB.

    python -m bench.storage [--quick] [--s3-url URL]

The S3 URL defaults to ``DHTN_TEST_S3_URL``, else ``scripts/s3-server.sh`` is started.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from storage import ContentStore, create_key_file, open_store
from storage.s3 import S3Backend

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
CHUNK = MiB
T = TypeVar("T")


class Generated:
    """``size`` incompressible bytes made on the fly (1 MiB at a time)."""

    def __init__(self, size: int, seed: int) -> None:
        self._left = size
        self._block = random.Random(seed).randbytes(MiB)
        self._turn = seed

    def read(self, n: int = -1, /) -> bytes:
        n = min(self._left, MiB if n is None or n < 0 else n, MiB)
        if n <= 0:
            return b""
        self._turn = (self._turn * 7919 + 1) % MiB
        self._left -= n
        return (self._block[self._turn :] + self._block[: self._turn])[:n]


def write_source(directory: Path, size: int, seed: int) -> Path:
    path = directory / f"source-{size}-{seed}.bin"
    source = Generated(size, seed)
    with path.open("wb") as out:
        while chunk := source.read(MiB):
            out.write(chunk)
    return path


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def drain(reader: io.RawIOBase) -> None:
    while reader.read(CHUNK):
        pass


class Raw:
    """The baseline: the back-end used directly, without our store."""

    def __init__(self, store: ContentStore, scratch: Path) -> None:
        self.store = store
        self.scratch = scratch

    def put(self, source: Path) -> str:
        name = f"raw-{uuid.uuid4().hex}"
        backend = self.store.backend
        if isinstance(backend, S3Backend):
            with source.open("rb") as data:
                backend.client.put_object(
                    backend.bucket, backend.prefix + name, data, source.stat().st_size
                )
            return name
        target = self.scratch / name
        tmp = self.scratch / f".{name}.tmp"
        with source.open("rb") as data, tmp.open("wb") as out:
            while chunk := data.read(CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        fd = os.open(self.scratch, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        return name

    def get(self, name: str) -> None:
        backend = self.store.backend
        if isinstance(backend, S3Backend):
            response = backend.client.get_object(backend.bucket, backend.prefix + name)
            try:
                for _ in response.stream(CHUNK):
                    pass
            finally:
                response.close()
                response.release_conn()
            return
        with (self.scratch / name).open("rb", buffering=0) as data:
            drain(data)

    def delete(self, name: str) -> None:
        backend = self.store.backend
        if isinstance(backend, S3Backend):
            backend.client.remove_object(backend.bucket, backend.prefix + name)
        else:
            (self.scratch / name).unlink()


def measure(
    plain: ContentStore, encrypted: ContentStore, sources: list[Path], scratch: Path
) -> dict[str, float]:
    """Median seconds of raw/ours/encrypted put and get over ``sources`` (one run each)."""
    raw = Raw(plain, scratch)
    raw.delete(raw.put(sources[0]))  # warm the connection pool and the page cache
    times: dict[str, list[float]] = {}
    for source in sources:
        seconds, name = timed(partial(raw.put, source))
        times.setdefault("raw put", []).append(seconds)
        times.setdefault("raw get", []).append(timed(partial(raw.get, name))[0])
        raw.delete(name)
        for tag, store in (("ours", plain), ("encrypted", encrypted)):
            seconds, key = timed(partial(put_file, store, source))
            times.setdefault(f"{tag} put", []).append(seconds)
            times.setdefault(f"{tag} get", []).append(timed(partial(get_all, store, key))[0])
            store.delete(key)
    return {name: statistics.median(values) for name, values in times.items()}


def put_file(store: ContentStore, source: Path) -> str:
    with source.open("rb") as data:
        return store.put(data).key


def get_all(store: ContentStore, key: str) -> None:
    with store.open(key) as reader:
        drain(reader)


def rss_child(url: str, size: int, key_file: str | None) -> None:
    """In a child process: upload ``size`` generated bytes; print baseline and peak RSS."""
    store = open_store(url, master_key=key_file, encrypt=key_file is not None)
    store.initialize()
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to now
    baseline = _status_kb("VmRSS")
    ref = store.put(Generated(size, seed=size % 997))
    peak = _status_kb("VmHWM")
    store.delete(ref.key)
    print(json.dumps({"baseline_kb": baseline, "peak_kb": peak}))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_rss(url: str, size: int, key_file: Path | None) -> tuple[float, float]:
    args = [sys.executable, "-m", "bench.storage", "--rss-child", url, "--size", str(size)]
    if key_file is not None:
        args += ["--key-file", str(key_file)]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures["baseline_kb"] / 1024, (figures["peak_kb"] - figures["baseline_kb"]) / 1024


def s3_url_from_env_or_script() -> str:
    url = os.environ.get("DHTN_TEST_S3_URL")
    if url:
        return url
    script = ROOT / "scripts" / "s3-server.sh"
    subprocess.run([str(script), "start"], check=True)
    return subprocess.run(
        [str(script), "url"], check=True, capture_output=True, text=True
    ).stdout.strip()


def with_prefix(url: str, prefix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{prefix}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--s3-url", help="S3 server to use (default: DHTN_TEST_S3_URL)")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--key-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, args.size, args.key_file)
        return

    runs = {1 * MiB: 5, 100 * MiB: 3} if args.quick else {1 * MiB: 21, 100 * MiB: 7}
    big = 500 * MiB
    s3_base = args.s3_url or s3_url_from_env_or_script()
    with tempfile.TemporaryDirectory(prefix="dhtn-bench-") as tmp:
        work = Path(tmp)
        key_file = work / "master.key"
        create_key_file(key_file)
        scratch = work / "raw"
        scratch.mkdir()
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        urls = {"local": f"file://{work}/objects", "s3": with_prefix(s3_base, prefix)}
        print(f"storage bench ({'quick' if args.quick else 'full'}): medians of n runs")
        print(
            f"{'back-end':<8} {'size':>7} {'op':<4} {'n':>3} {'raw MB/s':>9} "
            f"{'ours MB/s':>10} {'ratio':>6} {'encrypted MB/s':>15}"
        )
        for kind, url in urls.items():
            plain = open_store(url)
            encrypted = open_store(url, master_key=key_file, encrypt=True)
            plain.initialize()
            for size, count in runs.items():
                sources = [write_source(work, size, seed) for seed in range(count)]
                medians = measure(plain, encrypted, sources, scratch)
                for source in sources:
                    source.unlink()
                for op in ("put", "get"):
                    raw_rate = size / medians[f"raw {op}"] / 1e6
                    ours_rate = size / medians[f"ours {op}"] / 1e6
                    enc_rate = size / medians[f"encrypted {op}"] / 1e6
                    print(
                        f"{kind:<8} {size // MiB:>4} MB {op:<4} {count:>3} {raw_rate:>9.0f} "
                        f"{ours_rate:>10.0f} {ours_rate / raw_rate:>6.2f} {enc_rate:>15.0f}"
                    )
        print(f"peak RSS of a {big // MiB} MB streamed put (child process; limit +100 MB):")
        for kind, url in urls.items():
            for label, keys in (("plain", None), ("encrypted", key_file)):
                baseline, growth = peak_rss(url, big, keys)
                print(
                    f"  {kind:<6} {label:<10} baseline {baseline:6.1f} MB, peak +{growth:5.1f} MB"
                )


if __name__ == "__main__":
    main()
