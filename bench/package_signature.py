"""Signed edXML packages: time and peak memory of signing and verifying, against building.

For 1 MB and 20 MB attachments (incompressible), in a fresh child process per operation (its
peak RSS, ``VmHWM``, above the RSS just before the operation, is its own): build the package
unsigned (the baseline, streamed), build it signed with a demo seal (RSA-2048), and verify the
signed bytes (signature value, digest over the whole package, certificate chain against the demo
roots, no fetching). Figures are medians (p50) and p95 over the runs; ratios against the
unsigned build measured in the same run.

Signing and verifying hold the package in memory (lxml tree + canonical form): the peak grows
with the package, where the unsigned build stays flat.

    python -m bench.package_signature [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
ORG = ("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _child(op: str, size: int, work: Path) -> dict[str, float]:
    from interop import Attachment, Code, EdxmlPackage, Organ, PromulgationInfo
    from interop.edxml.build import build_package, build_package_bytes
    from interop.edxml.signature import PackageSigner, verify_package_signature
    from signing.testpki import demo_signer, demo_trust, load_demo_pki

    pki = load_demo_pki(work / "pki")
    source = work / f"src-{size}.bin"
    package = EdxmlPackage(
        from_=Organ(*ORG),
        to=(Organ("000.00.01.Z01", "Ủy ban MTTQ Việt Nam tỉnh Demo"),),
        code=Code("60", "KH-MTTW-BTT"),
        promulgation=PromulgationInfo(dt.date(2026, 6, 18), "Hà Nội"),
        subject="Kế hoạch tổ chức Ngày hội Đại đoàn kết toàn dân tộc năm 2026",
        attachments=(Attachment("Kế hoạch.pdf", "application/pdf", content=source),),
    )
    seal = PackageSigner.of(demo_signer(pki, f"org:{ORG[0]}"))
    signed_path = work / f"signed-{size}.edxml"
    data = signed_path.read_bytes() if op == "verify" else b""
    trust = demo_trust(pki)
    before = _rss("VmRSS")
    start = time.perf_counter()
    if op == "build":
        with open(work / f"plain-{size}.edxml", "wb") as out:
            build_package(package, out)
    elif op == "sign":
        signed_path.write_bytes(build_package_bytes(package, signer=seal))
    else:
        report = verify_package_signature(data, trust=trust, sender=Organ(*ORG))
        assert report.status == "valid", report.reasons
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "peak_mb": (_rss("VmHWM") - before) / MiB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB only, 3 runs")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        op, size, work = args.child
        print(json.dumps(_child(op, int(size), Path(work))))
        return
    from signing.testpki import OrgSpec, generate_demo_pki

    sizes = [1] if args.quick else [1, 20]
    runs = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_demo_pki(work / "pki", organizations=[OrgSpec(*ORG)])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for mb in sizes:
            size = mb * MiB
            (work / f"src-{size}.bin").write_bytes(os.urandom(size))
            results: dict[str, list[dict[str, float]]] = {"build": [], "sign": [], "verify": []}
            for _ in range(runs):
                for op in ("build", "sign", "verify"):
                    out = subprocess.run(
                        [sys.executable, "-m", "bench.package_signature", "--child", op,
                         str(size), str(work)],
                        capture_output=True, check=True, env=env, cwd=ROOT,
                    )  # fmt: skip
                    results[op].append(json.loads(out.stdout))
            base = statistics.median(r["seconds"] for r in results["build"])
            print(f"attachment {mb} MB, {runs} runs")
            for op, rows in results.items():
                times = sorted(r["seconds"] for r in rows)
                p50 = statistics.median(times)
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                peak = statistics.median(r["peak_mb"] for r in rows)
                print(
                    f"  {op:7s} p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
                    f"{mb / p50:7.1f} MB/s  peak +{peak:6.1f} MB  x{p50 / base:5.2f} of build"
                )


if __name__ == "__main__":
    main()
