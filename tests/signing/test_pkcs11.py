"""PKCS#11 on SoftHSM2: the key is generated on the token and never leaves it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from signing import (
    PadesLevel,
    Pkcs11Config,
    SignerUnavailableError,
    Summary,
    open_pkcs11_signer,
    sign_as_leader,
    verify_pdf,
)

from .conftest import ORG_NAME, PkiEnv
from .pdfsig import PdfSig

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
MODULE = next((m for m in MODULE_CANDIDATES if Path(m).exists()), None)
PIN = "123456"
LABEL = "dhtn-test"

pytestmark = pytest.mark.skipif(
    MODULE is None or shutil.which("softhsm2-util") is None,
    reason="SoftHSM2 is not installed (Debian package softhsm2)",
)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki_env: PkiEnv) -> Iterator[Pkcs11Config]:
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass
    from pkcs11.util.x509 import decode_x509_certificate

    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            LABEL,
            "--so-pin",
            "65432100",
            "--pin",
            PIN,
        ],
        check=True,
        capture_output=True,
        env={**os.environ},
    )
    assert MODULE is not None
    lib = pkcs11.lib(MODULE)
    lib.reinitialize()  # pick up the token created after the library was first loaded
    with lib.get_token(token_label=LABEL).open(rw=True, user_pin=PIN) as session:
        public, private = session.generate_keypair(
            KeyType.RSA,
            2048,
            label="signer",
            id=b"\x01",
            store=True,
            private_template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True},
        )
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(public[Attribute.MODULUS], "big"),
        )
        ident = pki_env.pki.issue_extra(
            "token",
            common_name="Lê Văn Minh (USB token)",
            organization=ORG_NAME,
            public_key=numbers.public_key(),
        )
        assert ident.key_path is None  # the private key exists only on the token
        cert_attrs = decode_x509_certificate(ident.certificate_der)
        cert_attrs.update({Attribute.LABEL: "signer", Attribute.ID: b"\x01", Attribute.TOKEN: True})
        session.create_object(cert_attrs)
        assert not private[Attribute.EXTRACTABLE]
        assert private[Attribute.CLASS] == ObjectClass.PRIVATE_KEY
    chain = tuple(c.public_bytes(Encoding.DER) for c in pki_env.pki.chain())
    yield Pkcs11Config(
        module_path=MODULE,
        pin=PIN,
        token_label=LABEL,
        key_label="signer",
        cert_label="signer",
        chain=chain,
    )
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def test_sign_with_key_on_token(
    token: Pkcs11Config, pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    with open_pkcs11_signer(token) as signer:
        assert signer.algorithm == "rsassa_pss_sha256"
        assert signer.subject_name == "Lê Văn Minh (USB token)"
        first = sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_T)
        )
        # The session stays open: a second document needs no new login.
        second = sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_B)
        )
    for signed in (first, second):
        report = verify_pdf(signed, pki_env.trust)
        assert report.summary == Summary.VALID, report.to_text()
        assert report.signatures[0].signer.name == "Lê Văn Minh (USB token)"
        pdfsig.assert_valid(signed, signatures=1)


def test_wrong_pin_is_a_clear_error(token: Pkcs11Config) -> None:
    from dataclasses import replace

    with pytest.raises(SignerUnavailableError) as err:
        open_pkcs11_signer(replace(token, pin="000000"))
    assert err.value.code == "signer_unavailable"


def test_missing_key_is_a_clear_error(token: Pkcs11Config) -> None:
    from dataclasses import replace

    with pytest.raises(SignerUnavailableError):
        open_pkcs11_signer(replace(token, key_label="nothing", cert_label="nothing"))
