"""edXML: build and parse throughput, and peak memory, for 1 MB and 100 MB attachments.

For each size, a package with one incompressible attachment of that size (a file on disk) is
built to a file and parsed back from it (attachments decoded into the default spool, which
goes to temp files past 1 MiB), each run in a fresh child process so that its peak RSS is its
own: the kernel's high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs``) above
the RSS just before the operation. Next to ours, the same run measures a baseline: plain
chunked base64 encoding / decoding of the same bytes file to file with the standard library,
the least work any build or parse must do. Figures are medians over the runs.

Peak memory of the 100 MB parse should stay far below 2x the attachment: the attachment is
streamed (decoded as it arrives), never held whole.

    python -m bench.interop [--quick]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from interop import (
    Attachment,
    Code,
    EdxmlPackage,
    Organ,
    PromulgationInfo,
    TempSpool,
    parse_package,
    write_package_file,
)

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


def package_for(source: Path) -> EdxmlPackage:
    return EdxmlPackage(
        from_=Organ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam"),
        to=(Organ("000.00.01.Z01", "Ủy ban MTTQ Việt Nam tỉnh Demo"),),
        code=Code("60", "KH-MTTW-BTT"),
        promulgation=PromulgationInfo(dt.date(2026, 6, 18), "Hà Nội"),
        subject="Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
        attachments=(Attachment("Kế hoạch.pdf", "application/pdf", content=source),),
    )


def write_source(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for _ in range(size // MiB):
            out.write(os.urandom(MiB))
        out.write(os.urandom(size % MiB))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(operation: str, source: Path, package: Path, scratch: Path) -> None:
    """In a child process: one operation; print its seconds and peak RSS above the baseline."""
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kb("VmRSS")
    start = time.perf_counter()
    if operation == "build":
        write_package_file(package_for(source), package)
    elif operation == "parse":
        with parse_package(package, spool=TempSpool(directory=str(scratch))) as result:
            assert result.attachments[0].size == source.stat().st_size
    elif operation == "encode":  # baseline of build
        with source.open("rb") as data, package.open("wb") as out:
            while chunk := data.read(3 * 256 * 1024):
                out.write(base64.b64encode(chunk))
    elif operation == "decode":  # baseline of parse
        with package.open("rb") as data, tempfile.TemporaryFile(dir=scratch) as out:
            while chunk := data.read(4 * 256 * 1024):
                out.write(base64.b64decode(chunk))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_kb": _status_kb("VmHWM") - baseline}))


def run_child(operation: str, source: Path, package: Path, scratch: Path) -> dict[str, float]:
    args = [sys.executable, "-m", "bench.interop", "--child", operation]
    args += [str(source), str(package), str(scratch)]
    result = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def measure(size: int, runs: int, scratch: Path) -> dict[str, dict[str, float]]:
    source = scratch / f"attachment-{size}.bin"
    package = scratch / f"package-{size}.edxml"
    encoded = scratch / f"encoded-{size}.b64"
    write_source(source, size)
    samples: dict[str, list[dict[str, float]]] = {}
    for _ in range(runs):  # interleaved, so a noisy neighbour hurts ours and the baseline alike
        samples.setdefault("encode", []).append(run_child("encode", source, encoded, scratch))
        samples.setdefault("build", []).append(run_child("build", source, package, scratch))
        samples.setdefault("decode", []).append(run_child("decode", source, encoded, scratch))
        samples.setdefault("parse", []).append(run_child("parse", source, package, scratch))
    with package.open("rb") as data:
        digest = hashlib.file_digest(data, "sha256").hexdigest()
    assert len(digest) == 64
    figures = {
        name: {
            "seconds": statistics.median(s["seconds"] for s in values),
            "peak_mb": statistics.median(s["peak_kb"] for s in values) / 1024,
            "peak_mb_max": max(s["peak_kb"] for s in values) / 1024,
        }
        for name, values in samples.items()
    }
    figures["package"] = {"mb": package.stat().st_size / MiB}
    for path in (source, package, encoded):
        path.unlink()
    return figures


def report(size: int, runs: int, figures: dict[str, dict[str, float]]) -> None:
    mb = size / MiB
    print(f"\nAttachment {mb:.0f} MB (package {figures['package']['mb']:.1f} MB), {runs} run(s)")
    print(f"{'':8}{'MB/s':>9}{'baseline':>10}{'ratio':>7}{'peak RSS MB':>13}{'peak/attach':>12}")
    for ours, baseline in (("build", "encode"), ("parse", "decode")):
        speed = mb / figures[ours]["seconds"]
        base = mb / figures[baseline]["seconds"]
        peak = figures[ours]["peak_mb"]
        print(
            f"{ours:8}{speed:9.1f}{base:10.1f}{speed / base:7.2f}"
            f"{peak:9.1f} (max {figures[ours]['peak_mb_max']:.1f})"
            f"{peak / mb:8.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB and 10 MB, 2 runs each")
    parser.add_argument("--child", nargs=4, metavar=("OP", "SOURCE", "PACKAGE", "SCRATCH"))
    args = parser.parse_args()
    if args.child:
        operation, *paths = args.child
        child(operation, *(Path(p) for p in paths))
        return
    plan = [(MiB, 2), (10 * MiB, 2)] if args.quick else [(MiB, 7), (100 * MiB, 3)]
    print("edXML build/parse: ours vs plain base64 (stdlib), medians; RSS in a child process")
    with tempfile.TemporaryDirectory(prefix="dhtn-bench-interop-") as directory:
        for size, runs in plan:
            report(size, runs, measure(size, runs, Path(directory)))


if __name__ == "__main__":
    main()
