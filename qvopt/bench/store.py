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

from ..errors import StoreError  # noqa: F401  (re-exported by qvopt.bench)
from ..sqlite import SQLiteStore

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


class Store(SQLiteStore):
    """A qvopt study store: create it (``create=True``) or open an existing one read-only.

    A file that is not a qvopt store (empty, a text file, another SQLite database) is
    refused with :class:`StoreError` before anything is written to it.
    """

    KIND = "qvopt study store"
    WRITER = "`qvopt compare`"
    APPLICATION_ID = APPLICATION_ID
    TABLES = frozenset({"runs", "trace", "meta"})
    SCHEMA = _SCHEMA

    def _setup(self, conn: sqlite3.Connection) -> None:
        """Record the schema version and creation time (kept if already there)."""
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                     (SCHEMA_VERSION,))
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (_now(),))

    def finished_ids(self) -> set[str]:
        """Runs that need not be redone."""
        return {r[0] for r in self.conn.execute(
            "SELECT run_id FROM runs WHERE status = 'finished'")}

    def write_run(self, config: dict, outcome: dict) -> None:
        """Insert (or replace a failed) run and its trace, atomically. The stored
        configuration also names the measurement grouping the run used (``grouping_used``:
        ``"auto"`` resolves by the problem's size)."""
        trace = outcome.get("history") or []
        if outcome.get("grouping"):
            config = {**config, "grouping_used": outcome["grouping"]}
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
