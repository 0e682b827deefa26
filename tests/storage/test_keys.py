"""Keys: only the store's own grammar is accepted; nothing escapes the root."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import ContentStore, InvalidKeyError, open_store
from storage.local import LocalBackend
from tests.storage.helpers import StoreFactory, raw_names

DIGEST = "ab" + "cd" + "0" * 60
EVIL_KEYS: list[object] = [
    "",
    ".",
    "..",
    "../outside.txt",
    "../../../../etc/passwd",
    "/etc/passwd",
    "sha256/../../outside.txt",
    f"sha256/ab/cd/{DIGEST}/../../../../outside.txt",
    f"sha256/ab/cd/../../../outside.txt{DIGEST}",
    "sha256/ab/cd/" + "../" * 10 + "outside.txt",
    "%2e%2e/outside.txt",
    "sha256\\..\\..\\outside.txt",
    f"sha256/ab/cd/{DIGEST}\x00.txt",
    "．．/outside.txt",
    f"sha256/ab/cd/{DIGEST.upper()}",
    f"sha256/ff/cd/{DIGEST}",  # fan-out does not match the digest
    f"SHA256/ab/cd/{DIGEST}",
    f"sha256//ab/cd/{DIGEST}",
    f" sha256/ab/cd/{DIGEST}",
    f"sha256/ab/cd/{DIGEST}\n",
    f"wrapped-keys/ab/cd/{DIGEST}",
    ".staging/spool-x",
    None,
    b"sha256/ab/cd/" + DIGEST.encode(),
    Path(f"sha256/ab/cd/{DIGEST}"),
]


@pytest.mark.parametrize("key", EVIL_KEYS, ids=repr)
def test_evil_keys_are_refused_and_change_nothing(
    make_store: StoreFactory, backend_kind: str, tmp_path: Path, key: object
) -> None:
    store = make_store(backend_kind)
    kept = store.put(b"kept")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    before = raw_names(store)
    calls: list[Callable[[], object]] = [
        lambda: store.open(key),  # type: ignore[arg-type]
        lambda: store.open(key, offset=1, length=1),  # type: ignore[arg-type]
        lambda: store.stat(key),  # type: ignore[arg-type]
        lambda: store.exists(key),  # type: ignore[arg-type]
        lambda: store.delete(key),  # type: ignore[arg-type]
        lambda: store.download_url(key),  # type: ignore[arg-type]
        lambda: store.rewrap(key),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(InvalidKeyError) as excinfo:
            call()
        assert excinfo.value.code == "invalid_object_key"
        assert excinfo.value.http_status == 400
    assert raw_names(store) == before
    assert outside.read_text() == "outside"
    with store.open(kept.key) as reader:
        assert reader.read() == b"kept"


@pytest.mark.parametrize(
    "name", ["../outside.txt", "/etc/passwd", "sha256/../../x", ".staging/x", "a/./b", "a\\b"]
)
def test_filesystem_backend_checks_containment_itself(tmp_path: Path, name: str) -> None:
    backend = LocalBackend(tmp_path / "root")
    backend.initialize()
    for call in (
        lambda: backend.stat(name),
        lambda: backend.open_range(name),
        lambda: backend.delete(name),
        lambda: backend.write_small(name, b"x"),
    ):
        with pytest.raises(InvalidKeyError):
            call()
    assert not (tmp_path / "outside.txt").exists()


def test_symlinks_inside_the_root_are_not_followed_out(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/objects")
    store.initialize()
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / DIGEST).write_text("not yours")
    fanout = tmp_path / "objects" / "sha256" / "ab"
    fanout.rmdir()  # made by initialize(); now replaced by a way out of the root
    os.symlink(secret, fanout)
    key = f"sha256/ab/cd/{DIGEST}"
    with pytest.raises(InvalidKeyError):
        store.open(key)
    with pytest.raises(InvalidKeyError):
        store.delete(key)
    assert (secret / DIGEST).read_text() == "not yours"


def test_relative_roots_are_refused(tmp_path: Path) -> None:
    from storage import ConfigurationError

    with pytest.raises(ConfigurationError):
        open_store("file://relative/path")
    with pytest.raises(ConfigurationError):
        LocalBackend("relative/path")


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
        # Near-misses of the grammar: valid pieces mixed with dots, slashes and separators.
        st.from_regex(r"(sha256|sha256-enc|\.\.|/)(/|\.\.|\\|[0-9a-f]{2,64}){0,8}", fullmatch=True),
    )
)
def test_no_text_is_a_way_out(tmp_path: Path, key: str) -> None:
    root = tmp_path / "objects"
    store = ContentStore(LocalBackend(root))
    store.initialize()
    try:
        exists = store.exists(key)
    except InvalidKeyError:
        return
    # Only a well-formed content key gets through, and it names a path under the root.
    assert exists is False
    assert (root / key).resolve().is_relative_to(root.resolve())
