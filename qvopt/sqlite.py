"""One SQLite store file: refuse a foreign file untouched, open, create the schema, close.

The study store (:mod:`qvopt.bench.store`) and the scan store (:mod:`qvopt.scan.store`)
keep their own schema and queries and share this: a file is checked by its header before
SQLite opens it (a text file, an empty file or a directory is refused without being
touched); an existing database must carry the store's ``application_id`` and its tables,
or it is refused with :class:`~qvopt.errors.StoreError` before anything is written; a new
or own file gets the schema (idempotent), the ``application_id`` and WAL journaling in one
transaction. Opened read-only (``create=False``), nothing is written, not even side files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Self

from .errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_file(path: Path, create: bool, kind: str, writer: str) -> bool:
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


def connect(path: Path | None, read_only: bool = False) -> sqlite3.Connection:
    """A connection (``path=None``: in memory); read-only through a SQLite URI
    (``mode=ro``) so nothing is written.

    Without a ``-wal`` file next to the store (no writer has it open) a read-only store is
    opened ``immutable``, so not even the ``-wal``/``-shm`` side files of a WAL database
    appear.
    """
    if path is None:
        return sqlite3.connect(":memory:")
    if not read_only:
        return sqlite3.connect(path, timeout=30)
    wal = path.with_name(path.name + "-wal")
    flags = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True, timeout=30)


def open_store(path: Path | None, *, kind: str, writer: str, application_id: int,
               tables: frozenset[str], schema: str | None,
               setup: Callable[[sqlite3.Connection], None] | None = None
               ) -> sqlite3.Connection:
    """A connection to the store at ``path`` (None: in memory), refused with
    :class:`StoreError` unless it is empty, missing (created) or a ``kind`` store.

    With a ``schema`` the file is opened for writing and initialised (WAL, foreign keys,
    the schema, ``application_id``, then ``setup(conn)``, one transaction); without one it
    is opened read-only and must already exist.
    """
    create = schema is not None
    if create and path is not None and path.is_symlink():
        # the write policy of qvopt.io: never write through a link planted at a name
        raise StoreError(f"{path} is a symbolic link: give the {kind}'s real path")
    fresh = path is not None and not path.exists()  # this call creates the file
    existed = path is not None and check_sqlite_file(path, create, kind, writer)
    if create and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path, create, existed, kind, application_id, tables, schema, setup)
    except (sqlite3.OperationalError, OSError) as exc:  # a full disk, no permission
        if create and path is not None and fresh:
            _remove_new_store(path)
        raise StoreError(f"cannot write the {kind} {str(path)!r}: {exc}") from exc


def _remove_new_store(path: Path) -> None:
    """Remove a store this call began to create (and its journal files), so a failed
    creation leaves no empty file behind."""
    for leftover in (path, path.with_name(path.name + "-wal"),
                     path.with_name(path.name + "-shm")):
        try:
            leftover.unlink()
        except OSError:
            pass


def _open(path: Path | None, create: bool, existed: bool, kind: str, application_id: int,
          tables: frozenset[str], schema: str | None,
          setup: Callable[[sqlite3.Connection], None] | None) -> sqlite3.Connection:
    """:func:`open_store` once the path is checked: connect, check or create the schema."""
    conn = None
    try:
        conn = connect(path, read_only=not create)
        found_id = conn.execute("PRAGMA application_id").fetchone()[0]
        found = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise StoreError(f"{path} is not a {kind} (cannot be read as a SQLite database: "
                         f"{exc})") from exc
    if existed and (found_id != application_id or not tables <= found):
        conn.close()
        raise StoreError(f"{path} is a SQLite file but not a {kind} (expected its "
                         f"{'/'.join(sorted(tables))} table(s); refusing to modify it)")
    if schema is not None:  # create: the store is opened to be written
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        with conn:
            conn.executescript(schema)
            conn.execute(f"PRAGMA application_id = {int(application_id)}")
            if setup is not None:
                setup(conn)
    return conn


class SQLiteStore:
    """Base of the qvopt SQLite stores: ``path`` (None: in memory) and ``conn``.

    A subclass names itself (``KIND``, ``WRITER`` for messages), its ``APPLICATION_ID``,
    the ``TABLES`` an existing file must have and its ``SCHEMA`` (``CREATE TABLE IF NOT
    EXISTS`` statements); :meth:`_setup` may add rows in the schema's transaction.
    ``create=True`` creates or opens the file for writing; ``create=False`` opens an
    existing one read-only.
    """

    KIND: ClassVar[str]
    WRITER: ClassVar[str]
    APPLICATION_ID: ClassVar[int]
    TABLES: ClassVar[frozenset[str]]
    SCHEMA: ClassVar[str]

    def __init__(self, path: str | Path | None, create: bool = True):
        self.path = None if path is None else Path(path)
        self.conn = open_store(self.path, kind=self.KIND, writer=self.WRITER,
                               application_id=self.APPLICATION_ID, tables=self.TABLES,
                               schema=self.SCHEMA if create else None, setup=self._setup)

    def _setup(self, conn: sqlite3.Connection) -> None:
        """Rows a new store starts with (inside the schema's transaction); none here."""

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
