"""The scan store: one SQLite file per scan, so that an interrupted scan resumes.

One row per finished point, keyed by everything that determines it (the point's molecule
file content, the run settings, its seed, warm start); a row is written in one transaction
after the point's VQE finished, so a killed scan keeps every finished point and a point in
flight is simply redone. The file is marked with its own SQLite ``application_id``; a file
that is not a scan store (a study store, a text file, another database) is refused with
:class:`~qvopt.errors.StoreError` before anything is written.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from ..bench.store import check_sqlite_file
from ..errors import StoreError

APPLICATION_ID = 0x71767363  # "qvsc"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL,
    record TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
"""


class ScanStore:
    """Finished scan points by key; ``path=None`` keeps them in memory only."""

    def __init__(self, path: str | Path | None):
        self.path = None if path is None else Path(path)
        existed = self.path is not None and check_sqlite_file(
            self.path, True, "qvopt scan store", "`qvopt scan`")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(":memory:" if self.path is None else self.path,
                                        timeout=30)
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a qvopt scan store ({exc})") from exc
        if existed and (app_id != APPLICATION_ID or "points" not in tables):
            self.conn.close()
            raise StoreError(f"{self.path} is a SQLite file but not a qvopt scan store "
                             "(refusing to modify it)")
        self._initialise()

    def _initialise(self) -> None:
        if self.path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def get(self, key: str) -> dict | None:
        """The finished point stored under ``key``, or None."""
        row = self.conn.execute("SELECT record FROM points WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: float, record: dict) -> None:
        """Store a finished point (atomically; replaces one with the same key)."""
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?)",
                              (key, value, json.dumps(record, sort_keys=True),
                               datetime.now(UTC).isoformat(timespec="seconds")))

    def __len__(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM points").fetchone()[0]

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
