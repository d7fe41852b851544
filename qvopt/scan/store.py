"""The scan store: one SQLite file per scan, so that an interrupted scan resumes.

One row per finished point, keyed by everything that determines it (the point's molecule
file content, the run settings, its seed, warm start); a row is written in one transaction
after the point's VQE finished, so a killed scan keeps every finished point and a point in
flight is simply redone. The file is marked with its own SQLite ``application_id``; a file
that is not a scan store (a study store, a text file, another database) is refused with
:class:`~qvopt.errors.StoreError` before anything is written (see :mod:`qvopt.sqlite`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..sqlite import SQLiteStore

APPLICATION_ID = 0x71767363  # "qvsc"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL,
    record TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
"""


class ScanStore(SQLiteStore):
    """Finished scan points by key; ``path=None`` keeps them in memory only."""

    KIND = "qvopt scan store"
    WRITER = "`qvopt scan`"
    APPLICATION_ID = APPLICATION_ID
    TABLES = frozenset({"points"})
    SCHEMA = _SCHEMA

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
