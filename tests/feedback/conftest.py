"""Helpers of the feedback tests: a photo, a public submission, an officer's move.

The clock starts on Monday 23 November 2026, 09:00 in Hà Nội (see tests/conftest.py). The ward
("phuong", 000.01.01.Z01) is the organisation citizens write to; the province ("tinh") is the
level above it.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

WARD = "000.01.01.Z01"
SECRET_NAME = "Nguyễn Văn Bímật"
SECRET_PHONE = "0912345678"
SECRET_EMAIL = "bimat@example.vn"
SECRET_ADDRESS = "Số 9 ngõ Kín"


def photo(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(out, "PNG")
    return out.getvalue()


def meta(**overrides: Any) -> dict[str, Any]:
    return {
        "organization_code": WARD,
        "category": "Môi trường, vệ sinh",
        "content": "Rác thải tập kết ở đầu ngõ 12 nhiều ngày chưa được thu gom, gây mùi.",
        "name": SECRET_NAME,
        "phone": SECRET_PHONE,
        "email": SECRET_EMAIL,
        "address": SECRET_ADDRESS,
        "consent": True,
        **overrides,
    }


@pytest.fixture
def submit(client: Any) -> Any:
    """``submit(files=[(bytes, name)], **meta)`` → the response of POST /public/feedback."""

    def post(files: list[tuple[bytes, str]] = (), **overrides: Any) -> Any:  # type: ignore[assignment]
        data: dict[str, Any] = {"meta": json.dumps(meta(**overrides))}
        data["files"] = [(io.BytesIO(b), name) for b, name in files]
        return client.post("/api/v1/public/feedback", data=data, content_type="multipart/form-data")

    return post


@pytest.fixture
def act(client: Any, api: Any) -> Any:
    """``act(username, id, action, **params)`` → the response of POST /feedback/{id}/actions."""

    def post(username: str, item_id: str, action: str, **params: Any) -> Any:
        return client.post(
            f"/api/v1/feedback/{item_id}/actions",
            json={"action": action, **params},
            headers=api(username),  # a fresh token: tests move the clock by days
        )

    return post


PUBLIC_URL = "https://gopy.example.vn"


@pytest.fixture
def app(tmp_path: Any, pg_url: str, session_factory: Any, clock: Any, demo: Any) -> Any:
    """The test app with ``DHTN_PUBLIC_URL`` set (posters and e-mails use it)."""
    from app import create_app
    from tests.conftest import make_test_settings

    flask_app = create_app(
        make_test_settings(tmp_path, pg_url, public_url=PUBLIC_URL),
        session_factory=session_factory,
        clock=clock,
    )
    flask_app.config.update(TESTING=True)
    return flask_app
