"""`report` opens stores read-only: empty, foreign or missing files are refused, untouched."""

from __future__ import annotations

import os
import sqlite3

import pytest

import qvopt
from qvopt.bench import Store
from qvopt.cli import main
from qvopt.errors import StoreError


def snapshot(path):
    """Bytes, mtime (ns) and the folder listing: everything a write could change."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def foreign_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.execute("INSERT INTO people VALUES ('ada')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("name, make, message", [
    ("notes.txt", lambda p: p.write_bytes(b""), "empty file"),
    ("notes.txt", lambda p: p.write_text("shopping list\n"), "not a SQLite database"),
    ("people.db", foreign_sqlite, "not a qvopt study store"),
])
def test_report_refuses_foreign_files_without_modifying_them(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    before = snapshot(path)
    with pytest.raises(StoreError, match=message) as info:
        qvopt.report(path)
    assert name in str(info.value)
    assert snapshot(path) == before


def test_cli_report_on_empty_file_is_one_line_and_no_change(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"")
    before = snapshot(path)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "Traceback" not in err
    assert snapshot(path) == before and path.stat().st_size == 0


def test_missing_store_is_a_store_error_and_not_created(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        qvopt.report(tmp_path / "missing.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_report_does_not_write_to_a_real_store(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    before = snapshot(path)
    with pytest.raises(StoreError, match="holds no runs"):
        qvopt.report(path)
    assert snapshot(path) == before
