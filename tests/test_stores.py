"""The study store and the scan store share one SQLite path (qvopt.sqlite): the same
refusals of foreign files, each its own schema and application_id."""

from __future__ import annotations

import os
import sqlite3

import pytest

from qvopt.bench.store import Store
from qvopt.errors import StoreError
from qvopt.scan.store import ScanStore

STORES = [pytest.param(Store, "qvopt study store", id="study"),
          pytest.param(ScanStore, "qvopt scan store", id="scan")]


def snapshot(path):
    """Bytes, mtime (ns) and the folder listing: everything a write could change."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


@pytest.mark.parametrize("cls, kind", STORES)
def test_a_text_file_is_refused_the_same_way_and_untouched(tmp_path, cls, kind):
    path = tmp_path / "notes.sqlite"
    path.write_text("my notes\n")
    before = snapshot(path)
    with pytest.raises(StoreError) as info:
        cls(path)
    assert str(info.value).startswith(f"{path} is not a {kind} (not a SQLite database; "
                                      "expected a file written by `qvopt ")
    assert str(info.value).endswith("); refusing to modify it")
    assert snapshot(path) == before


@pytest.mark.parametrize("cls, kind", STORES)
def test_a_directory_is_refused(tmp_path, cls, kind):
    with pytest.raises(StoreError, match="is a directory, not a SQLite file"):
        cls(tmp_path)


@pytest.mark.parametrize("cls, kind", STORES)
def test_a_foreign_database_is_refused_and_untouched(tmp_path, cls, kind):
    path = tmp_path / "people.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    before = snapshot(path)
    with pytest.raises(StoreError, match=f"is a SQLite file but not a {kind} .*refusing to "
                                         "modify it"):
        cls(path)
    assert snapshot(path) == before


def test_each_store_refuses_the_others_file(tmp_path):
    study, scan = tmp_path / "study.sqlite", tmp_path / "scan.sqlite"
    Store(study).close()
    ScanStore(scan).close()
    with pytest.raises(StoreError, match="not a qvopt study store"):
        Store(scan)
    with pytest.raises(StoreError, match="not a qvopt study store"):
        Store(scan, create=False)
    with pytest.raises(StoreError, match="not a qvopt scan store"):
        ScanStore(study)


@pytest.mark.parametrize("cls, kind", STORES)
def test_a_store_is_created_marked_and_reopened(tmp_path, cls, kind):
    path = tmp_path / "sub" / "s.sqlite"
    with cls(path) as store:
        assert store.path == path
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == cls.APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert cls.TABLES <= tables
    cls(path).close()  # its own file is opened again


def test_study_store_keeps_its_meta_rows_and_opens_read_only(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        rows = dict(store.conn.execute("SELECT key, value FROM meta"))
    assert rows["schema_version"] == "1" and "created_at" in rows
    before = snapshot(path)
    with Store(path, create=False) as store:
        assert store.finished_ids() == set()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.conn.execute("DELETE FROM meta")
    assert snapshot(path) == before
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_scan_store_in_memory(tmp_path):
    with ScanStore(None) as store:
        store.put("k", 1.5, {"energy": 1.5})
        assert store.get("k") == {"energy": 1.5} and len(store) == 1
    assert list(tmp_path.iterdir()) == []
