"""Independent checks with other implementations than pyHanko.

* poppler's ``pdfsig`` (NSS underneath) checks every CMS signature. We run it with ``-nocert``:
  it then verifies the digest and the signature value but not the chain, because poppler would
  need an NSS database holding the demo root; trust is covered by our own verification tests.
* poppler 22 does not understand document timestamps (``ETSI.RFC3161``: "Signature Type:
  unknown"), so those are checked with ``openssl ts -verify`` against the demo root instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.serialization import Encoding

from signing.pdfio import open_reader
from signing.testpki import (
    DemoPKI,
)


@dataclass(frozen=True)
class PdfSigBlock:
    number: int
    kind: str
    validation: str

    @property
    def valid(self) -> bool:
        return self.validation == "Signature is Valid."


class PdfSig:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        if shutil.which("pdfsig") is None:
            pytest.fail("pdfsig (Debian package poppler-utils) is required by the signing suite")

    def run(self, pdf: bytes) -> list[PdfSigBlock]:
        path = self.workdir / f"{uuid.uuid4().hex}.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(
            ["pdfsig", "-nocert", str(path)], capture_output=True, text=True, timeout=60
        )
        blocks: list[PdfSigBlock] = []
        for match in re.finditer(
            r"Signature #(\d+):\n(.*?)(?=\nSignature #|\Z)", result.stdout, flags=re.S
        ):
            body = match.group(2)
            kind = re.search(r"Signature Type: (.*)", body)
            validation = re.search(r"Signature Validation: (.*)", body)
            blocks.append(
                PdfSigBlock(
                    int(match.group(1)),
                    kind.group(1).strip() if kind else "",
                    validation.group(1).strip() if validation else "",
                )
            )
        return blocks

    def assert_valid(self, pdf: bytes, *, signatures: int, pki: DemoPKI | None = None) -> None:
        """Every CMS signature valid for pdfsig; document timestamps valid for OpenSSL."""
        blocks = self.run(pdf)
        cades = [b for b in blocks if b.kind == "ETSI.CAdES.detached"]
        assert len(cades) == signatures, blocks
        assert all(b.valid for b in cades), blocks
        # Empty signature fields are listed too ("not signed"): only signed ones count.
        others = [b for b in blocks if b.kind and b.kind != "ETSI.CAdES.detached"]
        if others:
            assert pki is not None, "document timestamps need the PKI for openssl ts -verify"
            assert self.verify_document_timestamps(pdf, pki) == len(others)

    def assert_broken(self, pdf: bytes) -> list[PdfSigBlock]:
        blocks = self.run(pdf)
        assert any(not b.valid for b in blocks if b.kind == "ETSI.CAdES.detached"), blocks
        return blocks

    def verify_document_timestamps(self, pdf: bytes, pki: DemoPKI) -> int:
        root = self.workdir / "root.pem"
        root.write_bytes(pki.trust_roots_pem())
        issuing = self.workdir / "issuing.pem"
        issuing.write_bytes(pki.issuing.certificate.public_bytes(Encoding.PEM))
        checked = 0
        for sig in open_reader(pdf).embedded_signatures:
            if sig.sig_object_type != "/DocTimeStamp":
                continue
            start1, len1, start2, len2 = (int(v) for v in sig.sig_object["/ByteRange"])
            data = pdf[start1 : start1 + len1] + pdf[start2 : start2 + len2]
            token = cms.ContentInfo.load(sig.sig_object["/Contents"]).dump()
            data_path = self.workdir / f"{uuid.uuid4().hex}.bin"
            token_path = self.workdir / f"{uuid.uuid4().hex}.tst"
            data_path.write_bytes(data)
            token_path.write_bytes(token)
            result = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-verify",
                    "-data",
                    str(data_path),
                    "-in",
                    str(token_path),
                    "-token_in",
                    "-CAfile",
                    str(root),
                    "-untrusted",
                    str(issuing),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert "Verification: OK" in result.stdout, result.stdout + result.stderr
            checked += 1
        return checked
