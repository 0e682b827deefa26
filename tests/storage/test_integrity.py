"""Verification against the database's keys, and the orphan sweeper."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import (
    ContentStore,
    FileKeyWrapper,
    IntegrityError,
    rotate_key_file,
    sweep_orphans,
    verify_store,
)
from storage.local import LocalBackend
from tests.storage.helpers import StoreFactory, overwrite_stored, raw_names, read_stored

LATER = timedelta(hours=3)
GRACE = timedelta(hours=2)


def test_verify_reports_missing_orphans_and_invalid(store: ContentStore) -> None:
    kept = store.put(b"referenced")
    orphan = store.put(b"nobody references me")
    missing = ("sha256-enc" if store.encrypts else "sha256") + "/00/00" + "a" * 62
    report = verify_store(store, [kept.key, kept.key, missing, "../../etc/passwd"])
    assert report.missing == (missing,)
    assert report.orphans == (orphan.key,)
    assert report.invalid == ("../../etc/passwd",)
    assert report.corrupted == () and not report.deep
    assert (report.referenced, report.stored) == (2, 2)
    assert not report.ok


def test_a_clean_store_verifies(store: ContentStore) -> None:
    refs = [store.put(f"tệp {i}".encode()) for i in range(3)]
    report = verify_store(store, (ref.key for ref in refs), deep=True)
    assert report.ok and report.orphans == () and report.stored == 3


def test_deep_verify_finds_corruption(store: ContentStore) -> None:
    good = store.put(b"intact content")
    bad = store.put(b"content that will rot" * 1000)
    stored = bytearray(read_stored(store, bad.key))
    stored[len(stored) // 2] ^= 0x04
    overwrite_stored(store, bad.key, bytes(stored))

    shallow = verify_store(store, [good.key, bad.key])
    assert shallow.ok  # presence only
    deep = verify_store(store, [good.key, bad.key], deep=True)
    assert deep.corrupted == (bad.key,) and not deep.ok
    with pytest.raises(IntegrityError), store.open(bad.key, verify=True) as reader:
        reader.read()


def test_plain_reads_without_verify_do_not_hash(
    make_store: StoreFactory, backend_kind: str
) -> None:
    store = make_store(backend_kind)
    ref = store.put(b"original")
    overwrite_stored(store, ref.key, b"replaced")
    with store.open(ref.key) as reader:
        assert reader.read() == b"replaced"  # the caller chose not to verify
    with pytest.raises(IntegrityError), store.open(ref.key, verify=True) as reader:
        reader.read()


def test_failed_transaction_leaves_an_orphan_the_sweeper_removes(store: ContentStore) -> None:
    referenced = {store.put(b"row committed").key}
    orphan = store.put(b"row rolled back")  # the object was written, then the transaction failed

    now = sweep_orphans(store, grace=GRACE, is_referenced=referenced)
    assert now.deleted == () and now.kept_recent == 1 and now.kept_referenced == 1
    assert store.exists(orphan.key)

    later = sweep_orphans(store, grace=GRACE, is_referenced=referenced, now=_later())
    assert later.deleted == (orphan.key,) and later.kept_referenced == 1
    assert not store.exists(orphan.key)
    assert verify_store(store, referenced).ok
    assert verify_store(store, referenced).orphans == ()


def test_referenced_objects_are_never_swept(store: ContentStore) -> None:
    refs = [store.put(f"tài liệu {i}".encode()) for i in range(4)]
    asked: list[str] = []

    def is_referenced(key: str) -> bool:
        asked.append(key)
        return True

    report = sweep_orphans(store, grace=GRACE, is_referenced=is_referenced, now=_later())
    assert report.deleted == () and report.kept_referenced == 4
    assert sorted(asked) == sorted(ref.key for ref in refs)
    assert all(store.exists(ref.key) for ref in refs)


def test_dry_run_removes_nothing(store: ContentStore) -> None:
    orphan = store.put(b"orphan")
    report = sweep_orphans(store, grace=GRACE, is_referenced=set(), now=_later(), dry_run=True)
    assert report.deleted == (orphan.key,) and report.dry_run
    assert store.exists(orphan.key)


def test_grace_must_exceed_the_refresh_interval(store: ContentStore) -> None:
    with pytest.raises(ValueError):
        sweep_orphans(store, grace=timedelta(minutes=30), is_referenced=set())


def test_a_reused_orphan_is_not_swept(make_store: StoreFactory) -> None:
    # The dedupe race: an old orphan's bytes are uploaded again for a new row.
    store = make_store("local")
    ref = store.put(b"old bytes, new row")
    assert isinstance(store.backend, LocalBackend)
    old = time.time() - 5 * 3600
    os.utime(store.backend.root / ref.key, (old, old))
    assert store.put(b"old bytes, new row").key == ref.key  # refreshes the object
    report = sweep_orphans(store, grace=GRACE, is_referenced=set())
    assert report.deleted == () and store.exists(ref.key)


def test_the_sweeper_looks_again_before_deleting(store: ContentStore) -> None:
    ref = store.put(b"about to be referenced")
    committed: set[str] = set()

    def is_referenced(key: str) -> bool:
        # The first question comes from the listing; the row commits before the second.
        answer = key in committed
        committed.add(key)
        return answer

    report = sweep_orphans(store, grace=GRACE, is_referenced=is_referenced, now=_later())
    assert report.deleted == () and store.exists(ref.key)


def test_litter_is_swept(make_store: StoreFactory) -> None:
    store = make_store("local", encrypt=True)
    assert isinstance(store.backend, LocalBackend)
    ref = store.put(b"encrypted")
    assert store.rewrap(ref.key) is False  # already on the current key: no record written
    stale_spool = store.backend.staging / "spool-crashed"
    stale_spool.write_bytes(b"half an upload")
    old = time.time() - 5 * 3600
    os.utime(stale_spool, (old, old))
    store.backend.write_small("wrapped-keys/00/00" + "b" * 62, b"{}")
    record = store.backend.root / ("wrapped-keys/00/00" + "b" * 62)
    os.utime(record, (old, old))

    report = sweep_orphans(store, grace=GRACE, is_referenced={ref.key})
    assert report.litter_removed == 2
    assert raw_names(store) == [ref.key]


def test_rewrap_records_go_with_their_object(make_store: StoreFactory, key_file: Path) -> None:
    store = make_store("local", encrypt=True)
    ref = store.put(b"rotated then deleted")
    rotate_key_file(key_file)
    rotated = ContentStore(store.backend, key_wrapper=FileKeyWrapper.from_file(key_file))
    assert rotated.rewrap(ref.key) is True
    assert any(name.startswith("wrapped-keys/") for name in raw_names(store))
    assert rotated.delete(ref.key)
    assert raw_names(store) == []


def _later() -> datetime:
    return datetime.now(UTC) + LATER
