"""One family of errors: everything qvopt raises on purpose is a :class:`QvoptError`.

The CLI catches ``QvoptError`` only, prints its message on one line and exits with status 2;
any other exception is a bug and keeps its traceback. Each class also derives from the
built-in exception a Python user would expect (``ValueError`` for bad input,
``RuntimeError`` for a failing backend), so ``except ValueError`` keeps working.

    QvoptError
    ├── InputError (ValueError)          a bad argument or option value
    │   ├── MoleculeFileError            a molecule file: missing, unreadable, invalid field
    │   └── RunFileError                 a run file or study file
    ├── StoreError (ValueError)          not a qvopt study store / cannot be opened as one
    ├── CheckpointError (ValueError)     a checkpoint that cannot be read or resumed
    └── BackendError (RuntimeError)      a backend unreachable or failing after retries
        ├── MissingExtraError            an optional dependency (``qvopt[...]``) is missing
        └── GPUUnavailableError          ``device="GPU"`` requested, no usable GPU
"""

from __future__ import annotations


class QvoptError(Exception):
    """Base of every error qvopt raises on purpose (the message names the bad input)."""


class InputError(QvoptError, ValueError):
    """An argument, option or configuration value is invalid. ``field``: the run setting
    it is about, when known (the CLI names its flag)."""

    field: str | None = None


class MoleculeFileError(InputError):
    """A molecule file is missing, unreadable, or has an invalid field."""


class RunFileError(InputError):
    """A run file or study file is unreadable or has an invalid key or value."""


class StoreError(QvoptError, ValueError):
    """The file is not a qvopt study store, or cannot be opened as one."""


class OutputError(QvoptError, OSError):
    """A file qvopt writes could not be written (full disk, permissions); the previous
    file at that path, if any, is intact."""


class CheckpointError(QvoptError, ValueError):
    """A checkpoint is unreadable, malformed, or belongs to a different run."""


class BackendError(QvoptError, RuntimeError):
    """The backend could not be reached or kept failing after the allowed retries."""


class MissingExtraError(BackendError):
    """An optional dependency is not installed; the message names the ``qvopt[extra]``."""


class GPUUnavailableError(BackendError):
    """``device="GPU"`` was requested but Aer cannot use a GPU here."""


def missing_extra(feature: str, extra: str) -> MissingExtraError:
    """The error for ``feature`` needing ``pip install 'qvopt[extra]'``."""
    return MissingExtraError(f"{feature} needs the optional extra: pip install 'qvopt[{extra}]'")
