"""Atomic file writes: write to a temporary file in the same folder, fsync, replace."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a mix."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | Path, payload: Any) -> Path:
    """JSON-encode ``payload`` (indent 2) and write it atomically."""
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
