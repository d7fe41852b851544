"""The one write policy: every file qvopt writes goes through :func:`write_bytes_atomic`.

* atomic: a temporary file in the same folder, fsync, then ``os.replace`` — readers see the
  old or the new file, and a full disk leaves the old one intact;
* no writing through symlinks: ``os.replace`` replaces a link planted at the target name
  instead of following it to its target;
* names found inside handed-in files (a molecule's ``name``, a study's molecule) never
  become path parts as they are: :func:`safe_component` turns them into one plain file-name
  component (no separators, no ``..``, bounded length).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import signal
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError, OutputError

#: Signals that stop a run (Ctrl-C, ``kill``, a closed terminal): held back while a file is
#: written (:func:`signals_deferred`).
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: the order in which :func:`signals_deferred` raises noted signals again
REDELIVERY_ORDER = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold :data:`STOPPING_SIGNALS` back while the block runs (main thread; elsewhere the
    block just runs): one that arrives is noted and raised again when the block ends, to
    the handlers that were there before, so a file being serialized and written is whole.
    Without it a SIGTERM raised inside ``np.savez``'s zip writer turned into zipfile's own
    ``ValueError`` and the run exited 1 with a traceback instead of 143. (Blocking the
    signals with ``pthread_sigmask`` is not enough: the kernel hands a process's signal to
    any thread that does not block it — a BLAS worker — and Python then runs the handler
    in the main thread at once.) Ignored signals, and those whose handler was installed
    outside Python, are left alone. Noted signals are raised again SIGTERM and SIGHUP
    first: a handler that raises (Ctrl-C's KeyboardInterrupt) ends the re-raising, and a
    run asked to terminate should say so (exit 143) rather than report an interrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []

    def note(signum, frame) -> None:
        noted.append(signum)

    previous = {s: h for s in STOPPING_SIGNALS
                if (h := signal.getsignal(s)) is not None and h is not signal.SIG_IGN}
    for s in previous:
        signal.signal(s, note)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in sorted(set(noted), key=REDELIVERY_ORDER.index):
            signal.raise_signal(signum)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix.

    The data go to a temporary file beside ``path`` (``.NAME.<random>.tmp``, created with
    ``O_EXCL``), which then replaces it. The temporary name is chosen *before* the file is
    created, so an exception at any point — a SIGTERM turned into one by the CLI, even one
    raised right as the file appears — finds it and removes it. (``tempfile.mkstemp`` names
    the file only on return, after Python code that a signal handler can interrupt: a run
    stopped there left its ``.tmp`` behind.)"""
    path = Path(path)
    tmp: str | None = None
    created = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        # the usual mode: the system applies the umask to 0o666
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
        created = True
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not created:  # no folder, or no file in it
            raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc} (the "
                              "previous file there, if any, is intact)") from None
        raise
    return path


MAX_COMPONENT = 64


def safe_component(name: str) -> str:
    """``name`` as one plain file-name component: characters other than letters, digits,
    ``_``, ``-`` and ``.`` become ``_``, leading dots are dropped (no ``..``, no hidden
    files), at most :data:`MAX_COMPONENT` characters (a longer or emptied name keeps a
    short hash of the original so different names stay different)."""
    text = str(name)
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", text).lstrip(".")
    if not slug or slug != text or len(slug) > MAX_COMPONENT:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        slug = f"{slug[:MAX_COMPONENT - 9] or 'x'}-{digest}"
    return slug


def output_path_in_file(file: Path, key: str, value: Any,
                        error: type[Exception] = InputError) -> str:
    """An output path named inside a handed-in file (a run or scan file): it must be
    relative and stay inside that file's folder — a file someone else wrote does not choose
    where on this machine qvopt writes (the command line's ``--out``/``--store`` may)."""
    if not isinstance(value, str) or not value:
        raise error(f"{file}: key {key!r} must be a file path (string), got {value!r}")
    folder = file.resolve().parent
    target = (folder / value).resolve()
    if target == file.resolve():
        raise error(f"{file}: key {key!r} names this file itself: give another name")
    if Path(value).is_absolute() or folder not in target.parents:
        raise error(f"{file}: key {key!r} must be a relative path inside the file's folder "
                    f"{str(folder)!r}, got {value!r} (name other places on the command "
                    "line: --out, --checkpoint, --store)")
    return str(folder / value)


def check_distinct_files(named: list[tuple[str, str | Path | None]]) -> None:
    """Refuse, before anything runs, two of the ``(name, path)`` entries that are the same
    file (one would silently replace the other); a None path is skipped. The
    :class:`InputError` names the entry (``field``) and the one it collides with."""
    seen: dict[str, str] = {}
    for name, path in named:
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            error = InputError(f"{name} {str(path)!r} is the same file as the {seen[key]}: "
                               "give a different file (one would overwrite the other)")
            error.field = name
            raise error
        seen[key] = name


def save_figure_atomic(figure, path: str | Path, dpi: int = 110) -> Path:
    """Render a matplotlib ``figure`` as PNG and write it with :func:`write_bytes_atomic`."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return write_bytes_atomic(path, buffer.getvalue())


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """JSON-encode ``payload`` (indent 2) and write it atomically, with stop signals held
    back until the file is whole (:func:`signals_deferred`): a run's result or a scan
    that a SIGTERM meets while it is being written is saved, then the run stops."""
    with signals_deferred():
        return write_bytes_atomic(path, (json.dumps(payload, indent=2) + "\n").encode())


def read_toml(path: str | Path, kind: str, error: type[Exception] = InputError) -> dict:
    """Parse a TOML file; ``error`` names the file (``kind``: "run file", …) and the problem."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise error(f"{kind} {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read {kind} ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from exc


def reject_unknown_keys(table: dict, allowed: set[str], path: Path, prefix: str = "",
                        error: type[Exception] = InputError) -> None:
    """Raise ``error`` naming every key of ``table`` not in ``allowed`` (with ``prefix``)."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise error(f"{path}: unknown key(s) {[prefix + k for k in unknown]}; allowed: "
                    f"{sorted(prefix + k for k in allowed)}")
