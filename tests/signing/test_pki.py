"""The demo PKI: generation, profiles, export, and its TSA/OCSP/CRL services over HTTP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests
from asn1crypto import core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing import (
    PkiError,
    SignerUnavailableError,
    load_pkcs12_signer,
)
from signing.testpki import (
    OrgSpec,
    UserSpec,
    export_user_p12,
    generate_demo_pki,
    load_demo_pki,
)

from .conftest import LEADER, ORG_CODE, PkiEnv


def test_generation_is_idempotent_and_additive(tmp_path: Path) -> None:
    orgs = [OrgSpec("000.00.01.Z01", "Ủy ban MTTQ Việt Nam tỉnh Demo")]
    first = generate_demo_pki(
        tmp_path,
        organizations=orgs,
        users=[UserSpec("lanhdao.tinh", "Trần Văn Bình", "000.00.01.Z01")],
    )
    again = generate_demo_pki(
        tmp_path,
        organizations=orgs,
        users=[UserSpec("vanthu.tinh", "Lê Thị Cúc", "000.00.01.Z01")],
    )
    assert again.root.certificate == first.root.certificate
    assert again.user("lanhdao.tinh").certificate == first.user("lanhdao.tinh").certificate
    assert "user:vanthu.tinh" in again.identities
    assert load_demo_pki(tmp_path).identities.keys() == again.identities.keys()
    # Private keys are readable by their owner only.
    key_path = again.user("vanthu.tinh").key_path
    assert key_path is not None and (os.stat(key_path).st_mode & 0o077) == 0
    with pytest.raises(PkiError):
        generate_demo_pki(tmp_path, users=[UserSpec("x", "X", "999.99.99.Z99")])
    with pytest.raises(PkiError):
        load_demo_pki(tmp_path / "nothing-here")


def test_certificate_profiles(pki_env: PkiEnv) -> None:
    leader = pki_env.pki.user(LEADER).certificate
    usage = leader.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    aia = leader.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {desc.access_location.value for desc in aia}
    assert f"{pki_env.base_url}/ocsp" in urls
    assert f"{pki_env.base_url}/certs/issuing.cer" in urls
    tsa = pki_env.pki.tsa.certificate
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    seal = pki_env.pki.organization(ORG_CODE).certificate
    assert (
        seal.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)[0].value
        == ORG_CODE
    )


def test_export_user_p12_round_trip(pki_env: PkiEnv) -> None:
    data = export_user_p12(pki_env.pki, LEADER, "mật khẩu")
    signer = load_pkcs12_signer(data, "mật khẩu")
    assert signer.subject_name == "Lê Văn Minh"
    assert len(signer.chain) == 2
    with pytest.raises(SignerUnavailableError):
        load_pkcs12_signer(data, "wrong")
    with pytest.raises(PkiError):
        export_user_p12(pki_env.pki, LEADER, "")


def _ocsp_status(pki_env: PkiEnv, name: str) -> ocsp.OCSPCertStatus:
    cert = pki_env.pki.identity(name).certificate
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, pki_env.pki.issuing.certificate, hashes.SHA1())
        .build()
    )
    response = requests.post(
        f"{pki_env.base_url}/ocsp",
        data=request.public_bytes(Encoding.DER),
        headers={"Content-Type": "application/ocsp-request"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/ocsp-response"
    parsed = ocsp.load_der_ocsp_response(response.content)
    assert parsed.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert parsed.serial_number == cert.serial_number
    return parsed.certificate_status


def test_ocsp_over_http(pki_env: PkiEnv) -> None:
    assert _ocsp_status(pki_env, f"user:{LEADER}") == ocsp.OCSPCertStatus.GOOD
    assert _ocsp_status(pki_env, "extra:revoked") == ocsp.OCSPCertStatus.REVOKED
    garbage = requests.post(f"{pki_env.base_url}/ocsp", data=b"junk", timeout=10)
    assert ocsp.load_der_ocsp_response(garbage.content).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_crl_over_http_lists_revoked(pki_env: PkiEnv) -> None:
    data = requests.get(f"{pki_env.base_url}/crl/issuing.crl", timeout=10).content
    crl = x509.load_der_x509_crl(data)
    revoked = pki_env.pki.identity("extra:revoked").serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked) is not None
    assert (
        crl.get_revoked_certificate_by_serial_number(pki_env.pki.user(LEADER).serial_number) is None
    )
    assert crl.is_signature_valid(pki_env.pki.issuing.certificate.public_key())  # type: ignore[arg-type]


def test_tsa_over_http(pki_env: PkiEnv) -> None:
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": bytes(32),
            },
            "nonce": 42,
            "cert_req": True,
        }
    )
    response = requests.post(
        f"{pki_env.base_url}/tsa",
        data=request.dump(),
        headers={"Content-Type": "application/timestamp-query"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/timestamp-reply"
    parsed = tsp.TimeStampResp.load(response.content)
    assert parsed["status"]["status"].native == "granted"
    info = parsed["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 42
    rejected = core.Sequence.load(
        requests.post(f"{pki_env.base_url}/tsa", data=b"junk", timeout=10).content
    )
    status = tsp.PKIStatusInfo.load(rejected[0].dump())
    assert status["status"].native == "rejection"


def test_unknown_path_is_404(pki_env: PkiEnv) -> None:
    assert requests.get(f"{pki_env.base_url}/keys/root.key", timeout=10).status_code == 404
    assert requests.get(f"{pki_env.base_url}/roots.pem", timeout=10).content == (
        pki_env.pki.trust_roots_pem()
    )


def test_a_key_file_is_loaded_once_and_again_when_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo trust signs two fresh CRLs for every signature check: the CA's key is parsed
    (and checked, ~35 ms for RSA) once per key file, not per CRL (three quarters of the
    background worker's CPU in the load test, issue 19). The CRL itself is still fresh: a
    revocation after the first one is in the next. A key file replaced is loaded again."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys

    from signing.testpki import pki as pki_module

    generate_demo_pki(tmp_path, organizations=[OrgSpec("000.00.00.Y01", "Cơ quan thử")])
    loads: list[Path] = []
    real_load = pki_module.serialization.load_pem_private_key

    def counting(data: bytes, password: bytes | None = None, **kw: Any) -> Any:
        loads.append(tmp_path)
        return real_load(data, password, **kw)

    monkeypatch.setattr(pki_module.serialization, "load_pem_private_key", counting)
    getattr(pki_module, "_LOADED_KEYS", {}).clear()  # keys loaded by earlier tests
    first = load_demo_pki(tmp_path)
    before = x509.load_der_x509_crl(first.crl("issuing"))
    seal = first.organization("000.00.00.Y01")
    assert before.get_revoked_certificate_by_serial_number(seal.serial_number) is None
    first.revoke(seal.name)
    again = load_demo_pki(tmp_path)  # a new load of the directory, as each check does
    after = x509.load_der_x509_crl(again.crl("issuing"))
    assert after.get_revoked_certificate_by_serial_number(seal.serial_number) is not None
    assert after.is_signature_valid(again.issuing.certificate.public_key())  # type: ignore[arg-type]
    assert len(loads) == 1  # the issuing CA's key, once for both CRLs
    assert again.issuing.private_key() is first.issuing.private_key()

    # The key file replaced (another key in its place): the new one is used.
    key_path = again.issuing.key_path
    assert key_path is not None
    replacement = rsa_keys.generate_private_key(public_exponent=65537, key_size=2048)
    key_path.write_bytes(
        replacement.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    )
    reloaded = load_demo_pki(tmp_path).issuing.private_key()
    assert len(loads) == 2
    assert reloaded.public_key().public_numbers() == replacement.public_key().public_numbers()  # type: ignore[union-attr]
