"""On-disk cache of qubit Hamiltonians, keyed by the molecule file's content.

Location: ``$QVOPT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/qvopt`` (default
``~/.cache/qvopt``), sub-folder ``hamiltonians/``. One ``.npz`` per molecule file content
(SHA-256 of the bytes and the cache format version): Pauli labels, coefficients, active
electrons, and the HF/FCI energies computed for it. Entries are written atomically; a
corrupt entry is ignored and rebuilt. ``qvopt cache clear`` (or :func:`clear_cache`) empties
it.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..io import write_bytes_atomic

CACHE_FORMAT = "qvopt-hamiltonian-v2"  # v2: coefficients rounded to 1e-12 Ha


def cache_dir() -> Path:
    """Folder of the Hamiltonian cache (see module docstring)."""
    root = os.environ.get("QVOPT_CACHE_DIR")
    if root:
        base = Path(root)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qvopt"
    return base / "hamiltonians"


def cache_key(content_sha256: str) -> str:
    """The entry's file stem: SHA-256 of the cache format and the problem's content digest
    (:func:`~qvopt.chem.molecule.content_digest`: the molecule file and any FCIDUMP)."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    digest.update(bytes.fromhex(content_sha256))
    return digest.hexdigest()


def load_cached(content_sha256: str) -> dict | None:
    """The cached entry for this content, or None."""
    path = cache_dir() / f"{cache_key(content_sha256)}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            entry = {k: data[k] for k in data.files}
        entry["hamiltonian"] = SparsePauliOp(list(entry.pop("labels")), entry.pop("coeffs"))
        return entry
    except (OSError, ValueError, KeyError):
        return None


def store(content_sha256: str, hamiltonian: SparsePauliOp, n_electrons: int, e_hf: float,
          e_fci: float) -> Path:
    """Write an entry atomically; returns its path."""
    buffer = io.BytesIO()
    np.savez(buffer, labels=np.array(hamiltonian.paulis.to_labels()),
             coeffs=hamiltonian.coeffs.real, n_electrons=n_electrons, e_hf=e_hf, e_fci=e_fci)
    return write_bytes_atomic(cache_dir() / f"{cache_key(content_sha256)}.npz", buffer.getvalue())


def clear_cache() -> int:
    """Delete every cached Hamiltonian; returns how many files were removed."""
    removed = 0
    folder = cache_dir()
    if folder.is_dir():
        for path in folder.glob("*.npz"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
