"""Signing benchmark: our pipeline vs pyHanko's stock SimpleSigner flow, in one run.

Run ``python -m bench.signing`` (or ``--quick``). For a 1-page and a 50-page prepared document it
prints p50/p95 of:

* ``ours B-B``: :func:`signing.sign_pdf` into the leader field, no appearance (the key stays
  parsed, the container size is reserved once, the CMS comes from the signer's template
  (:mod:`signing.fastcms`), one private-key operation per document, no event loop);
* ``stock B-B``: ``SimpleSigner`` (loaded once) + ``PdfSigner.sign_pdf`` on the same input, same
  field, same empty appearance: pyHanko re-parses the key and signs twice per document;
* ``ours B-B + Decree 30 look``: the leader's signature image in the widget (decoded and
  compressed once per image);
* ``raw RSA-2048 PSS``: one private-key operation, the floor (printed with ours/floor, what is
  left that is not the RSA operation);
* ``verify``: :func:`signing.verify_pdf` of the signed document (no network).

The demo PKI is generated in a temporary directory and thrown away.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_cms import SimpleSigner

from signing import (
    FIELD_LEADER,
    AppearanceSpec,
    PadesLevel,
    SigningOptions,
    SignRequest,
    TrustSettings,
    leader_request,
    make_sample_document,
    prepare_document,
    render_signature_image,
    sign_pdf,
    verify_pdf,
)
from signing.appearance import SpecStampStyle
from signing.testpki import (
    OrgSpec,
    UserSpec,
    demo_signer,
    export_user_p12,
    generate_demo_pki,
)


def measure(fn: Callable[[], object], runs: int, warmup: int = 2) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (smoke test)")
    args = parser.parse_args()
    runs = 8 if args.quick else 40

    with tempfile.TemporaryDirectory() as tmp:
        pki = generate_demo_pki(
            Path(tmp),
            organizations=[OrgSpec("000.00.00.Z01", "Ủy ban Trung ương MTTQ Việt Nam")],
            users=[UserSpec("lanhdao.tw", "Lê Văn Minh", "000.00.00.Z01")],
        )
        ours = demo_signer(pki, "lanhdao.tw")
        p12 = export_user_p12(pki, "lanhdao.tw", "bench")
        stock = SimpleSigner.load_pkcs12_data(
            p12,
            other_certs=[],
            passphrase=b"bench",
            signature_mechanism=ours.signer.signature_mechanism,
        )
        key = pkcs12.load_key_and_certificates(p12, b"bench")[0]
        assert isinstance(key, rsa.RSAPrivateKey)
        trust = TrustSettings(
            roots=(pki.root.certificate_der,),
            allow_fetching=False,
            crls=(pki.crl("root"), pki.crl("issuing")),
        )
        image = render_signature_image("Lê Văn Minh")
        options = SigningOptions(level=PadesLevel.B_B)
        empty_style = SpecStampStyle(spec=AppearanceSpec())

        print(f"signing benchmark ({runs} runs per row, times in ms)")
        print(f"{'document':<10} {'operation':<30} {'p50':>8} {'p95':>8}")
        rows: list[tuple[str, str, float, float]] = []
        for pages in (1, 50):
            sample = make_sample_document(pages)
            pdf = prepare_document(sample.pdf, sample.layout)
            label = f"{pages} page" + ("s" if pages > 1 else "")

            def ours_plain(pdf: bytes = pdf) -> bytes:
                return sign_pdf(pdf, ours, SignRequest(FIELD_LEADER), options)

            def ours_look(pdf: bytes = pdf) -> bytes:
                return sign_pdf(pdf, ours, leader_request(image), options)

            def stock_plain(pdf: bytes = pdf) -> bytes:
                meta = signers.PdfSignatureMetadata(
                    field_name=FIELD_LEADER,
                    md_algorithm="sha256",
                    subfilter=SigSeedSubFilter.PADES,
                )
                out = signers.PdfSigner(meta, stock, stamp_style=empty_style).sign_pdf(
                    IncrementalPdfFileWriter(BytesIO(pdf))
                )
                return bytes(out.getvalue())

            signed = ours_plain()
            # The row measures the template path, not pyHanko's CMS builder.
            assert ours.cms_template, "the B-B CMS template was not used"
            assert verify_pdf(signed, trust).summary.value == "valid"
            assert verify_pdf(stock_plain(), trust).summary.value == "valid"
            for name, fn in (
                ("ours B-B", ours_plain),
                ("stock SimpleSigner B-B", stock_plain),
                ("ours B-B + Decree 30 look", ours_look),
                ("verify (1 signature)", lambda s=signed: verify_pdf(s, trust)),
            ):
                p50, p95 = measure(fn, runs)
                rows.append((label, name, p50, p95))
                print(f"{label:<10} {name:<30} {p50:8.1f} {p95:8.1f}", flush=True)
            ours_p50 = next(r[2] for r in rows if r[0] == label and r[1] == "ours B-B")
            stock_p50 = next(r[2] for r in rows if r[0] == label and r[1].startswith("stock"))
            print(f"{label:<10} {'speed-up stock/ours (p50)':<30} {stock_p50 / ours_p50:7.1f}x")

        data = b"x" * 120  # about the size of a DER SET of CAdES signed attributes' hash input
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        floor, p95 = measure(lambda: key.sign(data, pss, hashes.SHA256()), runs * 5)
        print(f"{'-':<10} {'raw RSA-2048 PSS sign (floor)':<30} {floor:8.2f} {p95:8.2f}")
        for label in ("1 page", "50 pages"):
            ours_p50 = next(r[2] for r in rows if r[0] == label and r[1] == "ours B-B")
            print(f"{label:<10} {'ours B-B / floor (p50)':<30} {ours_p50 / floor:7.1f}x")


if __name__ == "__main__":
    main()
