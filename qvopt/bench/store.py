"""The study store: one SQLite file, written only by the driver process.

Tables: ``runs`` (one row per finished or failed run: its configuration, status, final
metrics, timing and package versions) and ``trace`` (its per-iteration history). A run and
its trace are written in one transaction, so a killed process leaves every finished run
complete and nothing half-written; a run still in flight simply has no row and is redone
next time. The file is marked with a SQLite ``application_id`` so that a foreign database
is recognised and refused before anything is written.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from ..errors import StoreError

APPLICATION_ID = 0x71766F70  # "qvop"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    molecule TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    shots INTEGER,
    seed_index INTEGER NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    energy REAL,
    energy_exact REAL,
    e_fci REAL,
    error_mha REAL,
    shots_used INTEGER,
    nit INTEGER,
    wall_time REAL,
    versions TEXT,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS trace (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    iteration INTEGER NOT NULL,
    energy REAL,
    stderr REAL,
    energy_exact REAL,
    shots INTEGER,
    time REAL,
    PRIMARY KEY (run_id, step)
);
"""


SQLITE_HEADER = b"SQLite format 3\x00"
_TABLES = {"runs", "trace", "meta"}


def check_sqlite_file(path: Path, create: bool, kind: str = "qvopt study store",
                      writer: str = "`qvopt compare`") -> bool:
    """Refuse what cannot be a qvopt SQLite store without touching it (a directory, an
    unreadable or non-SQLite file; a missing or empty one unless ``create``); True if the
    file has content. ``kind``/``writer`` name the store in messages."""
    if not path.exists():
        if not create:
            raise StoreError(f"store {str(path)!r} does not exist")
        return False
    if path.is_dir():
        raise StoreError(f"store {str(path)!r} is a directory, not a SQLite file")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"store {str(path)!r} cannot be read ({exc})") from exc
    if not header:
        if not create:
            raise StoreError(f"store {str(path)!r} is an empty file; expected a {kind} (a "
                             f"SQLite database written by {writer})")
        return False
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a {kind} (not a SQLite database; expected a file "
                         f"written by {writer}); refusing to modify it")
    return True


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection; read-only through a SQLite URI (``mode=ro``) so nothing is written.

    Without a ``-wal`` file next to the store (no driver has it open) it is opened
    ``immutable``, so not even the ``-wal``/``-shm`` side files of a WAL database appear.
    """
    if not read_only:
        return sqlite3.connect(path, timeout=30)
    wal = path.with_name(path.name + "-wal")
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=30)


class Store:
    """A qvopt study store: create it (``create=True``) or open an existing one read-only.

    A file that is not a qvopt store (empty, a text file, another SQLite database) is
    refused with :class:`StoreError` before anything is written to it.
    """

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        existed = check_sqlite_file(self.path, create)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = _connect(self.path, read_only=not create)
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a qvopt study store (cannot be read as a "
                             f"SQLite database: {exc})") from exc
        if existed and (app_id != APPLICATION_ID or not _TABLES <= tables):
            self.conn.close()
            raise StoreError(f"{self.path} is a SQLite file but not a qvopt study store "
                             "(expected its runs/trace/meta tables; refusing to modify it)")
        if create:
            self._initialise()

    def _initialise(self) -> None:
        """Create the tables (idempotent) and mark the file as a qvopt store."""
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                              (SCHEMA_VERSION,))
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)",
                              (_now(),))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def finished_ids(self) -> set[str]:
        """Runs that need not be redone."""
        return {r[0] for r in self.conn.execute(
            "SELECT run_id FROM runs WHERE status = 'finished'")}

    def write_run(self, config: dict, outcome: dict) -> None:
        """Insert (or replace a failed) run and its trace, atomically."""
        trace = outcome.get("history") or []
        with self.conn:
            self.conn.execute("DELETE FROM runs WHERE run_id = ?", (config["run_id"],))
            self.conn.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (config["run_id"], config["molecule"], config["optimizer"], config["shots"],
                 config["seed_index"], json.dumps(config, sort_keys=True), outcome["status"],
                 outcome.get("message"), outcome.get("energy"), outcome.get("energy_exact"),
                 outcome.get("e_fci"), outcome.get("error_mha"), outcome.get("shots_used"),
                 outcome.get("nit"), outcome.get("wall_time"),
                 json.dumps(outcome.get("versions", {}), sort_keys=True), _now()))
            self.conn.executemany(
                "INSERT INTO trace VALUES (?,?,?,?,?,?,?,?)",
                [(config["run_id"], step, h["iteration"], h["energy"], h["stderr"],
                  h["energy_exact"], h["shots"], h["time"]) for step, h in enumerate(trace)])

    def runs_frame(self):
        """All runs as a pandas DataFrame."""
        import pandas as pd

        return pd.read_sql_query("SELECT * FROM runs ORDER BY molecule, optimizer, shots, "
                                 "seed_index", self.conn)

    def trace_frame(self):
        """All traces as a pandas DataFrame."""
        import pandas as pd

        return pd.read_sql_query("SELECT * FROM trace ORDER BY run_id, step", self.conn)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
