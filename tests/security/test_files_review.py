# ruff: noqa: F811
# (the fixtures of the outgoing and storage suites are imported by name and then requested)
"""Files and storage, attacked from outside (files review).

Uploads, downloads and previews, the content-addressed store and its orphan sweeper,
tried as a hostile insider or a hostile file would. Each test reproduces
one attack through the public API or pages against real PostgreSQL (and the S3 server where the
store matters) and asserts the secure behaviour. A ``FINDING`` test fails on the code as
reviewed (6933a12): the attack succeeded. A ``HELD`` test is an attack the code withstood,
kept so that it keeps withstanding it (each was checked to fail with its defence removed).
"""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from app.runtime import runtime
from docflow.models import DocumentFile
from storage import ContentStore
from tests.conftest import Demo, make_test_settings
from tests.incoming.conftest import Incoming
from tests.outgoing.conftest import (  # noqa: F401  (fixtures: the app with PKI and converter)
    Outgoing,
    app,
    converter,
    demo_pki_dir,
)
from tests.outgoing.test_pages import _login
from tests.pdfs import make_pdf
from tests.storage.conftest import key_file, make_store, s3_url  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.pg]

PDF = "application/pdf"


@pytest.fixture
def inc(client: Any, api: Any, demo: Demo) -> Incoming:
    return Incoming(client, api, demo)


@pytest.fixture
def out(client: Any, api: Any, demo: Demo) -> Outgoing:
    return Outgoing(client, api, demo)


@pytest.fixture
def on_s3(app: Any, demo: Demo, make_store: Any) -> ContentStore:
    """The app's objects on the real S3 server (a fresh prefix of the bucket)."""
    store: ContentStore = make_store("s3")
    runtime(app).store = store
    demo.store = store
    return store


def read(client: Any, url: str, headers: dict[str, str] | None = None) -> Any:
    """A GET whose (streamed) body is read and closed at once, so that the next request
    starts in a clean context."""
    r = client.get(url, headers=headers or {})
    r.get_data()
    r.close()
    return r


def page_client(app: Any, username: str) -> Any:
    c = app.test_client()
    _login(c, username)
    return c


def _file_rows(demo: Demo) -> int:
    with demo.factory() as s:
        return int(s.scalar(select(func.count()).select_from(DocumentFile)) or 0)


def _pdf_with_page(width: float, height: float) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _first_pdf(out: Outgoing, username: str, doc_id: str) -> str:
    files = out.get(username, doc_id).get_json()["files"]
    return str(next(f["id"] for f in files if f["content_type"] == PDF))


def _outgoing_in_tinh(out: Outgoing) -> tuple[str, str]:
    """A draft of the province (another organisation than the central committee's people)."""
    r = out.upload(
        make_pdf(title="Dự thảo của tỉnh"),
        "Dự thảo tỉnh.pdf",
        PDF,
        username="chuyenvien.tinh",
        signer_user_id=out.user_id("lanhdao.tinh"),
        recipients=[{"organization_id": str(out.demo.org_id("phuong"))}],
    )
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()["id"]
    return doc, _first_pdf(out, "chuyenvien.tinh", doc)


# ====================================================================================== findings


def test_preview_of_a_page_with_a_giant_media_box_is_a_500(app: Any, out: Outgoing) -> None:
    """FINDING (Low): a drafter uploads a valid one-page PDF whose MediaBox is 5400 x 5400 pt
    (75 inches square; pypdf's structural check accepts it) and opens its page preview at the
    largest allowed resolution, ``/outgoing/<doc>/files/<file>/pages/1.png?dpi=200``. pdftoppm
    renders a 15000 x 15000 bitmap (225 Mpx, ~675 MB inside the sandbox, several seconds of
    CPU) before anything looks at the size; then ``app/pdf_preview.py`` ``render_page`` opens the
    PNG with Pillow, whose decompression-bomb guard raises ``DecompressionBombError`` (not a
    ``PreviewError`` nor a ``ValueError``), which ``app/pages/outgoing.py`` ``_png`` does not
    catch: 500. Every reload repeats the whole render (the "pixel cap" of SECURITY.md is only
    checked after the work is done). Expected: the page's size checked before rendering (the
    MediaBox × dpi against MAX_PIXELS, or pdftoppm's ``-scale-to``), any decoder refusal a 404
    (or 422) like a page that cannot be shown."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = out.upload(_pdf_with_page(5400, 5400), "Bản đồ khổ lớn.pdf", PDF)
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()["id"]
    file_id = _first_pdf(out, "chuyenvien.dcgs", doc)
    c = page_client(app, "chuyenvien.dcgs")
    # The control: an A4 page previews.
    assert c.get(f"/outgoing/{doc}/files/{file_id}/pages/1.png").mimetype == "image/png"
    got = c.get(f"/outgoing/{doc}/files/{file_id}/pages/1.png?dpi=200")
    assert got.status_code in (404, 422), got.status_code


def test_private_files_are_kept_in_the_browser_cache_for_an_hour(
    app: Any, inc: Incoming, demo: Demo
) -> None:
    """FINDING (Medium): every download of a document's file (``GET /api/v1/documents/<id>/files/
    <id>/content`` and the page ``/documents/<id>/files/<id>``, ``app/api/documents.py``
    ``stream_file``), of a task's file (``app/api/tasks.py``) and of a citizen's photo
    (``app/api/feedback.py`` ``file_response``) says ``Cache-Control: private, max-age=3600``:
    the browser stores the official document (a Mật one too, on the secret network) and
    serves it again for an hour without asking the server, after the person signed out, was
    deactivated or lost the clearance, to whoever uses the same browser next (a shared office
    computer). Pages are ``no-store`` (SECURITY.md V8), these files are not. Expected:
    ``Cache-Control: private, no-store`` on every stored file served (as the text endpoint and
    the exports already do)."""
    r = inc.register(files=[(make_pdf(title="Công văn riêng"), "Công văn.pdf", PDF)])
    assert r.status_code == 201, r.get_json()
    doc = r.get_json()["id"]
    file_id = r.get_json()["files"][0]["id"]
    api_file = read(
        inc.client, f"/api/v1/documents/{doc}/files/{file_id}/content", inc.h("vanthu.tw")
    )
    page_file = read(page_client(app, "vanthu.tw"), f"/documents/{doc}/files/{file_id}")
    assert api_file.status_code == page_file.status_code == 200
    answers = {
        "api": api_file.headers.get("Cache-Control", ""),
        "page": page_file.headers.get("Cache-Control", ""),
    }
    assert all("no-store" in v for v in answers.values()), answers


# FINDING (low), fixed: the orphan sweeper could delete an object whose row committed within
# its last check (a registration of the same bytes racing the deletion). The test needs real
# concurrent transactions: it is tests/security/test_uploads.py
# ::test_the_sweeper_never_deletes_what_a_racing_registration_commits.


def test_a_registration_takes_any_number_of_files(inc: Incoming, demo: Demo) -> None:
    """FINDING (Low): ``POST /api/v1/incoming`` (and the page's form, and ``POST
    /api/v1/documents/<id>/files`` with ``kind=attachment``) stores as many files as the
    multipart parser lets through (werkzeug's 1,000 parts) within the request's 105 MB: each one
    a structural parse, an object, a row and, in the background, a text extraction and an OCR
    run of up to 30 CPU-minutes per scanned page. A task takes at most 20 files
    (``docflow/tasks/files.py`` MAX_FILES), a citizen 5; documents have no cap
    (``docflow/incoming/services.py``, ``docflow/outgoing/versions.py`` ``add_version``). One
    clerk's request of 60 one-page blank "scans" was accepted here. Expected: a cap per request
    (say 20 attachments, as tasks), 422 ``files`` beyond it, nothing stored."""
    before = _file_rows(demo)
    files = [(make_pdf(title=f"Phụ lục {i}"), f"Phụ lục {i}.pdf", PDF) for i in range(60)]
    r = inc.register(notation="301/KH-MTTW-BTT", files=files)
    assert r.status_code == 422, (r.status_code, len((r.get_json() or {}).get("files", [])))
    assert _file_rows(demo) == before


# ========================================================================================= held


def _pdf_html_polyglot() -> bytes:
    """A PDF whose first kilobyte is also an HTML page with a script (a PDF comment line)."""
    pdf = make_pdf(title="Đa định dạng")
    header, rest = pdf.split(b"\n", 1)
    html = b"%<html><body><script>alert(document.domain)</script></body></html>\n"
    return header + b"\n" + html + rest


def test_held_a_pdf_html_polyglot_is_served_only_as_a_pdf(
    app: Any, inc: Incoming, on_s3: ContentStore
) -> None:
    """HELD: a file that is both a PDF and an HTML page with a script, named ``thong-bao.html``
    and declared ``text/html``, is judged by its bytes: stored as a PDF (the name gains
    ``.pdf``; the S3 object is ``application/pdf``), served as ``application/pdf`` with
    ``nosniff`` (a browser never sniffs it into HTML on our origin), as an attachment on
    ``?download=1`` and inline otherwise under the page's strict CSP. The same bytes named
    ``anh.svg`` and declared ``image/svg+xml`` become ``anh.svg.pdf``, a PDF, never an SVG."""
    poly = _pdf_html_polyglot()
    r = inc.register(files=[(poly, "thong-bao.html", "text/html")])
    assert r.status_code == 201, r.get_json()
    doc, f = r.get_json()["id"], r.get_json()["files"][0]
    assert f["name"] == "thong-bao.html.pdf" and f["content_type"] == PDF
    with inc.demo.factory() as s:
        key = s.scalars(select(DocumentFile.object_key).where(DocumentFile.id == f["id"])).one()
    backend = on_s3.backend
    assert backend.client.stat_object(backend.bucket, backend.prefix + key).content_type == PDF
    api = read(inc.client, f"/api/v1/documents/{doc}/files/{f['id']}/content", inc.h("vanthu.tw"))
    c = page_client(app, "vanthu.tw")
    inline = read(c, f"/documents/{doc}/files/{f['id']}")
    download = read(c, f"/documents/{doc}/files/{f['id']}?download=1")
    for got in (api, inline, download):
        assert got.status_code == 200 and got.data == poly
        assert got.headers["Content-Type"] == PDF
        assert got.headers.get("X-Content-Type-Options") == "nosniff"
        assert ".html" not in got.headers["Content-Disposition"].rsplit(".", 1)[-1]
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "script-src 'self'" in inline.headers["Content-Security-Policy"]
    svg = inc.register(notation="401/KH-MTTW-BTT", files=[(poly, "anh.svg", "image/svg+xml")])
    assert svg.status_code == 201, svg.get_json()
    assert svg.get_json()["files"][0]["content_type"] == PDF
    assert svg.get_json()["files"][0]["name"] == "anh.svg.pdf"


def test_held_a_file_id_of_another_organisation_answers_404_everywhere(
    app: Any, inc: Incoming, out: Outgoing
) -> None:
    """HELD: a clerk of the central committee, who may see her own document, asks for the
    file of a province's document by its id: under her own document's id (the file-id swap),
    under the province's document, as text, as a page preview (an outgoing draft of the
    province, under her own outgoing draft's id too). Every answer is 404, no byte leaves."""
    own = inc.register(files=[(make_pdf(title="Của trung ương"), "TW.pdf", PDF)]).get_json()
    foreign = inc.register(
        "vanthu.tinh",
        files=[(make_pdf(title="MẬTTỈNH"), "Tỉnh.pdf", PDF)],
        notation="12/KH-MTTQ-BTT",
    )
    assert foreign.status_code == 201, foreign.get_json()
    foreign_doc, foreign_file = foreign.get_json()["id"], foreign.get_json()["files"][0]["id"]
    control = read(
        inc.client,
        f"/api/v1/documents/{foreign_doc}/files/{foreign_file}/content",
        inc.h("vanthu.tinh"),
    )
    assert control.status_code == 200 and control.data.startswith(b"%PDF")
    h = inc.h("vanthu.tw")
    c = page_client(app, "vanthu.tw")
    own_id = own["id"]
    answers = {
        "swap content": read(
            inc.client, f"/api/v1/documents/{own_id}/files/{foreign_file}/content", h
        ),
        "swap text": read(inc.client, f"/api/v1/documents/{own_id}/files/{foreign_file}/text", h),
        "swap page": read(c, f"/documents/{own_id}/files/{foreign_file}"),
        "direct content": read(
            inc.client, f"/api/v1/documents/{foreign_doc}/files/{foreign_file}/content", h
        ),
        "direct page": read(c, f"/documents/{foreign_doc}/files/{foreign_file}?download=1"),
    }
    tinh_doc, tinh_file = _outgoing_in_tinh(out)
    mine = out.upload(make_pdf(), "Dự thảo TW.pdf", PDF, username="chuyenvien.dcgs")
    assert mine.status_code == 201, mine.get_json()
    specialist = page_client(app, "chuyenvien.dcgs")
    answers["preview direct"] = read(
        specialist, f"/outgoing/{tinh_doc}/files/{tinh_file}/pages/1.png"
    )
    answers["preview swap"] = read(
        specialist, f"/outgoing/{mine.get_json()['id']}/files/{tinh_file}/pages/1.png"
    )
    codes = {name: r.status_code for name, r in answers.items()}
    assert set(codes.values()) == {404}, codes
    for r in answers.values():
        assert b"%PDF" not in r.data and b"\x89PNG" not in r.data


def test_held_a_request_body_over_the_limit_is_refused_before_anything_is_stored(
    tmp_path: Path, pg_url: str, session_factory: Any, clock: Any, demo: Demo
) -> None:
    """HELD: with ``DHTN_MAX_UPLOAD_MB=1`` a clerk sends eight files of 0.9 MB each (each
    under the file limit, 7.2 MB in all, over the request's limit of 1 + 5 MB): 413 before
    the multipart body is parsed, no object stored, no row, no number consumed (the request
    limit, ``MAX_CONTENT_LENGTH`` in ``app/__init__.py``, is what stops it: each file alone
    would pass)."""
    from app import create_app

    small = create_app(
        make_test_settings(tmp_path, pg_url, max_upload_mb=1),
        session_factory=session_factory,
        clock=clock,
    )
    small.config.update(TESTING=True)
    client = small.test_client()
    r = client.post(
        "/api/v1/auth/token",
        json={"username": "vanthu.tw", "password": "demo-password-for-tests"},
    )
    token = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    flow = Incoming(client, lambda _u: token, demo)
    store = runtime(small).store
    stored_before = sum(1 for _ in store.list())
    before = flow.counts()
    files = [
        (make_pdf(title=f"Tệp {i}", padding=900 * 1024), f"Tệp {i}.pdf", PDF) for i in range(8)
    ]
    assert all(len(b) < 1024 * 1024 for b, _, _ in files)
    r = flow.register(notation="501/KH-MTTW-BTT", files=files)
    assert r.status_code == 413, r.status_code
    assert flow.counts() == before
    assert sum(1 for _ in store.list()) == stored_before
    # The control: one such file alone is taken.
    ok = flow.register(notation="502/KH-MTTW-BTT", files=files[:1])
    assert ok.status_code == 201, ok.get_json()


def raw_register(inc: Incoming, notation: str, data: bytes, filename: str) -> Any:
    """A registration whose file name is sent exactly as an attacker's client would: the
    RFC 5987 ``filename*`` parameter, every byte of the name percent-encoded."""
    from tests.incoming.conftest import META

    meta = json.dumps({**META, "notation": notation}).encode()
    body = (
        b'--B\r\nContent-Disposition: form-data; name="meta"\r\n\r\n'
        + meta
        + b"\r\n--B\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''"
        + quote(filename, safe="").encode()
        + b"\r\nContent-Type: application/pdf\r\n\r\n"
        + data
        + b"\r\n--B--\r\n"
    )
    return inc.client.post(
        "/api/v1/incoming",
        headers=inc.h("vanthu.tw"),
        data=body,
        content_type="multipart/form-data; boundary=B",
    )


def test_held_a_very_long_hostile_name_is_stored_short_and_sent_back_safely(
    inc: Incoming, demo: Demo
) -> None:
    """HELD: a main file named with 1,500 Vietnamese characters, a Windows and a Unix path, a
    right-to-left override, CR/LF and quotes (``..\\..\\etc/<RLO>fdp.exe "x"\\r\\nSet-Cookie:``)
    is registered under a name of at most 255 UTF-8 bytes, NFC, without separators or control
    and format characters, still ending in ``.pdf``; the trail holds that name; the download
    has one Content-Disposition line with a quoted ASCII fallback and the UTF-8 name. A
    refused file with such a name is echoed back cut to 100 characters."""
    stem = "Quyết định về việc " * 80
    hostile = "..\\..\\etc/passwd/" + stem + '\u202efdp.exe "x"\r\nSet-Cookie: a=b;.pdf'
    r = raw_register(inc, "600/KH-MTTW-BTT", make_pdf(), hostile)
    assert r.status_code == 201, r.get_json()
    doc, f = r.get_json()["id"], r.get_json()["files"][0]
    name = f["name"]
    assert len(name.encode()) <= 255 and name.endswith(".pdf"), name
    assert unicodedata.is_normalized("NFC", name)
    assert not any(ch in name for ch in '/\\\r\n"\u202e'), name
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)
    trail = inc.client.get(f"/api/v1/documents/{doc}/trail", headers=inc.h("vanthu.tw"))
    assert "\u202e" not in trail.get_data(as_text=True) and "passwd" not in trail.get_data(
        as_text=True
    )
    got = read(inc.client, f"/api/v1/documents/{doc}/files/{f['id']}/content", inc.h("vanthu.tw"))
    header = got.headers["Content-Disposition"]
    assert got.headers.getlist("Content-Disposition") == [header]
    assert "\r" not in header and "\n" not in header and "Set-Cookie" not in got.headers
    assert header.startswith('attachment; filename="') and header.count('"') == 2
    assert "filename*=UTF-8''" in header
    refused = raw_register(inc, "601/KH-MTTW-BTT", b"MZ" + bytes(64), hostile)
    assert refused.status_code == 415
    assert len(refused.get_json()["error"]["details"]["file"]) <= 100
