"""Each PAdES level signs, validates, reports its level, and passes poppler's pdfsig."""

from __future__ import annotations

import pytest
from asn1crypto import cms

from signing import (
    FIELD_LEADER,
    Modifications,
    PadesLevel,
    SigningConfigError,
    Summary,
    TimestampError,
    extend_signatures,
    sign_as_leader,
    verify_pdf,
)
from signing.pdfio import open_reader

from .conftest import CLERK, LEADER, PkiEnv
from .pdfsig import PdfSig


def _signature_algorithm(pdf: bytes, field: str) -> str:
    for sig in open_reader(pdf).embedded_signatures:
        if sig.field_name == field:
            signer_info = sig.signer_info
            return str(signer_info["signature_algorithm"]["algorithm"].native)
    raise AssertionError(field)


@pytest.mark.parametrize("level", list(PadesLevel))
def test_each_level_signs_and_validates(
    level: PadesLevel, pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    signed = sign_as_leader(
        prepared,
        pki_env.signer(LEADER),
        signature_image=signature_png,
        options=pki_env.options(level),
    )
    report = verify_pdf(signed, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    (sig,) = report.signatures
    assert (sig.intact, sig.valid, sig.trusted) == (True, True, True)
    assert sig.level == level
    assert sig.modifications == Modifications.NONE
    assert (sig.timestamp is not None) == level.at_least(PadesLevel.B_T)
    assert len(report.document_timestamps) == (1 if level == PadesLevel.B_LTA else 0)
    # RSA-PSS is the default mechanism (SHA-256, MGF1-SHA-256, 32-byte salt).
    assert _signature_algorithm(signed, FIELD_LEADER) == "rsassa_pss"
    # Earlier revisions are never rewritten: the prepared document is a prefix of the result.
    assert signed.startswith(prepared)
    pdfsig.assert_valid(signed, signatures=1, pki=pki_env.pki)


@pytest.mark.parametrize("level", [PadesLevel.B_B, PadesLevel.B_T])
def test_ecdsa_p256_signs(
    level: PadesLevel, pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    signer = pki_env.signer(CLERK)
    assert signer.algorithm == "ecdsa_sha256"
    signed = sign_as_leader(
        prepared, signer, signature_image=signature_png, options=pki_env.options(level)
    )
    report = verify_pdf(signed, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    assert _signature_algorithm(signed, FIELD_LEADER) == "sha256_ecdsa"
    pdfsig.assert_valid(signed, signatures=1)


def test_pkcs1v15_when_pss_is_not_wanted(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    signer = pki_env.signer(LEADER, prefer_pss=False)
    signed = sign_as_leader(
        prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_B)
    )
    assert _signature_algorithm(signed, FIELD_LEADER) == "sha256_rsa"
    assert verify_pdf(signed, pki_env.trust).summary == Summary.VALID
    pdfsig.assert_valid(signed, signatures=1)


def test_one_private_key_operation_per_document(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signing.signers as signers_module

    calls: list[bytes] = []
    real = signers_module.sign_raw

    def counting(key: object, data: bytes, algorithm: str) -> bytes:
        calls.append(data)
        return real(key, data, algorithm)  # type: ignore[arg-type]

    monkeypatch.setattr(signers_module, "sign_raw", counting)
    signer = pki_env.signer(LEADER)
    for _ in range(2):
        sign_as_leader(
            prepared, signer, signature_image=signature_png, options=pki_env.options(PadesLevel.B_T)
        )
    assert len(calls) == 2
    # ...and what was signed is a DER SET of signed attributes (the CAdES signed attributes).
    attrs = cms.CMSAttributes.load(calls[0])
    assert "message_digest" in {attr["type"].native for attr in attrs}


def test_extend_b_t_to_lta_then_refresh_archive_timestamp(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes, pdfsig: PdfSig
) -> None:
    signed = sign_as_leader(
        prepared,
        pki_env.signer(LEADER),
        signature_image=signature_png,
        options=pki_env.options(PadesLevel.B_T),
    )
    options = pki_env.options(PadesLevel.B_LTA)
    lt = extend_signatures(signed, options, level=PadesLevel.B_LT)
    assert verify_pdf(lt, pki_env.trust).signatures[0].level == PadesLevel.B_LT
    lta = extend_signatures(lt, options)
    refreshed = extend_signatures(lta, options)
    report = verify_pdf(refreshed, pki_env.trust)
    assert report.summary == Summary.VALID, report.to_text()
    assert report.signatures[0].level == PadesLevel.B_LTA
    assert report.signatures[0].modifications == Modifications.NONE
    assert len(report.document_timestamps) == 2
    assert all(ts.intact and ts.valid and ts.trusted for ts in report.document_timestamps)
    assert refreshed.startswith(lta) and lta.startswith(lt) and lt.startswith(signed)
    pdfsig.assert_valid(refreshed, signatures=1, pki=pki_env.pki)


def test_timestamp_levels_need_a_tsa(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    options = pki_env.options(PadesLevel.B_T, tsa_url=None)
    with pytest.raises(SigningConfigError) as err:
        sign_as_leader(
            prepared, pki_env.signer(LEADER), signature_image=signature_png, options=options
        )
    assert err.value.code == "signing_config_invalid"


def test_unreachable_tsa_is_a_clear_error(
    pki_env: PkiEnv, prepared: bytes, signature_png: bytes
) -> None:
    from .conftest import free_port

    options = pki_env.options(
        PadesLevel.B_T, tsa_url=f"http://127.0.0.1:{free_port()}/tsa", tsa_timeout=2.0
    )
    with pytest.raises(TimestampError) as err:
        sign_as_leader(
            prepared, pki_env.signer(LEADER), signature_image=signature_png, options=options
        )
    assert err.value.code == "timestamp_unavailable"
