"""FCIDUMP files: molecular-orbital integrals written by another program, read as data.

The format (Knowles & Handy, Comput. Phys. Commun. 54, 75 (1989); written by PySCF's
``tools.fcidump``, Molpro, ORCA, Psi4): a namelist header

    &FCI NORB=4, NELEC=2, MS2=0, ORBSYM=1,1,1,1, ISYM=1, &END

then one integral per line, ``value i j k l`` with 1-based spatial-orbital indices:

* ``i j k l`` all > 0: the two-electron integral ``(ij|kl)`` in chemists' notation, given
  once per 8-fold symmetry class ``(ij|kl) = (ji|kl) = (ij|lk) = (kl|ij) = …`` (real
  orbitals);
* ``k = l = 0``, ``i, j > 0``: the one-electron integral ``h_ij = h_ji``;
* all zero: the core energy (nuclear repulsion plus any frozen core already folded in);
* ``j = k = l = 0``, ``i > 0``: an orbital energy (Molpro writes them); ignored.

So the Hamiltonian is ``E_core + Σ_pq h_pq E_pq + ½ Σ_pqrs (pq|rs) (E_pq E_rs − δ_qr E_ps)``,
the form of :mod:`.integrals`. Only restricted (``IUHF`` absent or 0), real, closed-shell
(``MS2 = 0``) files are read. The file is parsed here, not by PySCF's reader, so that every
malformed line is reported by number and the size is checked before anything is allocated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MoleculeFileError

FCIDUMP_SUFFIXES = (".fcidump", ".fcid")
MAX_HEADER_LINES = 200


@dataclass(frozen=True)
class FcidumpHeader:
    """The namelist header: orbitals, electrons and twice the spin projection."""

    n_orbitals: int
    n_electrons: int
    ms2: int


@dataclass(frozen=True)
class FcidumpIntegrals:
    """Core energy, ``h_pq`` (n, n) and ``(pq|rs)`` (n, n, n, n) of a whole FCIDUMP file."""

    header: FcidumpHeader
    core_energy: float
    one_body: np.ndarray
    two_body: np.ndarray


def looks_like_fcidump(path: Path) -> bool:
    """Named ``*.fcidump``/``*.fcid`` or ``FCIDUMP*``, or a file starting with ``&FCI``."""
    if path.suffix.lower() in FCIDUMP_SUFFIXES or path.name.upper().startswith("FCIDUMP"):
        return True
    if path.suffix.lower() == ".toml" or not path.is_file():
        return False
    with open(path, "rb") as handle:
        return handle.read(64).lstrip().upper().startswith(b"&FCI")


def _split_header(path: Path, lines: list[str]) -> tuple[str, int]:
    """The header text (between ``&FCI`` and ``&END`` or ``/``) and the first body line."""
    if not lines or not lines[0].lstrip().upper().startswith("&FCI"):
        raise MoleculeFileError(f"{path}: not an FCIDUMP file (it must start with '&FCI')")
    for number, line in enumerate(lines[:MAX_HEADER_LINES]):
        upper = line.upper()
        end = min((i for i in (upper.find("&END"), upper.find("/")) if i >= 0), default=-1)
        if end >= 0:
            text = " ".join(lines[:number]) + " " + line[:end]
            return text.lstrip()[4:], number + 1
    raise MoleculeFileError(f"{path}: FCIDUMP header has no '&END' (or '/') in its first "
                            f"{MAX_HEADER_LINES} lines")


def read_header(path: Path) -> tuple[FcidumpHeader, list[str], int]:
    """Parse the header; returns it, the file's lines and the index of the first body line."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise MoleculeFileError(f"{path}: an FCIDUMP file is plain ASCII text ({exc})") from exc
    text, body = _split_header(path, lines)
    fields: dict[str, str] = {}
    for token in re.split(r",\s*(?=[A-Za-z])", text.strip().strip(",")):
        key, sep, value = token.partition("=")
        if not sep:
            raise MoleculeFileError(f"{path}: FCIDUMP header item {token.strip()[:40]!r} is "
                                    "not KEY=VALUE")
        fields[key.strip().upper()] = value.strip().strip(",")
    header = FcidumpHeader(n_orbitals=_header_int(path, fields, "NORB", None),
                           n_electrons=_header_int(path, fields, "NELEC", None),
                           ms2=_header_int(path, fields, "MS2", 0))
    if _header_int(path, fields, "IUHF", 0) != 0:
        raise MoleculeFileError(f"{path}: FCIDUMP header IUHF = {fields['IUHF']}: only "
                                "restricted (spin-free) integrals are supported")
    if header.n_orbitals < 1 or not 0 < header.n_electrons <= 2 * header.n_orbitals:
        raise MoleculeFileError(f"{path}: FCIDUMP header NORB = {header.n_orbitals}, NELEC = "
                                f"{header.n_electrons}: need 0 < NELEC <= 2 NORB")
    if header.ms2 != 0:
        raise MoleculeFileError(f"{path}: FCIDUMP header MS2 = {header.ms2}: only closed-shell "
                                "singlets (MS2 = 0) are supported")
    return header, lines, body


def _header_int(path: Path, fields: dict[str, str], key: str, default: int | None) -> int:
    if key not in fields:
        if default is None:
            raise MoleculeFileError(f"{path}: FCIDUMP header lacks {key}")
        return default
    try:
        return int(fields[key])
    except ValueError:
        raise MoleculeFileError(f"{path}: FCIDUMP header {key} = {fields[key][:40]!r} is not "
                                "an integer") from None


def read_fcidump(path: Path, max_orbitals: int) -> FcidumpIntegrals:
    """Read a whole file (see the module docstring); refuses more than ``max_orbitals``
    orbitals before allocating the integrals, and any malformed line by its number."""
    header, lines, body = read_header(path)
    n = header.n_orbitals
    if n > max_orbitals:
        raise MoleculeFileError(
            f"{path}: FCIDUMP has {n} orbitals ({2 * n} qubits), above the limit of "
            f"{2 * max_orbitals} qubits: give an [active_space] in a molecule file that "
            "names this FCIDUMP, or set QVOPT_MAX_QUBITS to raise the limit")
    values, indices = _parse_body(path, lines, body, n)
    return _assemble(path, header, values, indices)


def _parse_body(path: Path, lines: list[str], first: int, n: int
                ) -> tuple[np.ndarray, np.ndarray]:
    values, indices = [], []
    for number in range(first, len(lines)):
        parts = lines[number].replace("D", "E").replace("d", "e").split()
        if not parts:
            continue
        try:
            if len(parts) != 5:
                raise ValueError
            value, index = float(parts[0]), [int(p) for p in parts[1:]]
        except ValueError:
            raise MoleculeFileError(f"{path}, line {number + 1}: expected 'value i j k l', got "
                                    f"{lines[number].strip()[:60]!r}") from None
        if not np.isfinite(value) or min(index) < 0 or max(index) > n:
            raise MoleculeFileError(f"{path}, line {number + 1}: value must be finite and "
                                    f"indices within 0..NORB = {n}, got "
                                    f"{lines[number].strip()[:60]!r}")
        values.append(value)
        indices.append(index)
    return np.asarray(values, dtype=float), np.asarray(indices, dtype=int).reshape(-1, 4)


def _assemble(path: Path, header: FcidumpHeader, values: np.ndarray, indices: np.ndarray
              ) -> FcidumpIntegrals:
    n = header.n_orbitals
    i, j, k, m = indices.T - 1  # 0-based; −1 marks an index 0 (m: the 4th index)
    two = (k >= 0) & (m >= 0) & (i >= 0) & (j >= 0)
    one = (k < 0) & (m < 0) & (i >= 0) & (j >= 0)
    core = (i < 0) & (j < 0) & (k < 0) & (m < 0)
    orbital_energy = (i >= 0) & (j < 0) & (k < 0) & (m < 0)
    other = ~(two | one | core | orbital_energy)
    if other.any():
        row = indices[np.argmax(other)]
        raise MoleculeFileError(f"{path}: FCIDUMP integral with indices {row.tolist()} is none of "
                                "(ij|kl), h_ij, the core energy or an orbital energy")
    h1 = np.zeros((n, n))
    h1[i[one], j[one]] = values[one]
    h1[j[one], i[one]] = values[one]
    eri = np.zeros((n, n, n, n))
    a, b, c, d, v = i[two], j[two], k[two], m[two], values[two]
    for p, q, r, s in ((a, b, c, d), (b, a, c, d), (a, b, d, c), (b, a, d, c)):
        eri[p, q, r, s] = v
        eri[r, s, p, q] = v
    return FcidumpIntegrals(header=header, core_energy=float(values[core].sum()),
                            one_body=h1, two_body=eri)


def frozen_core(integrals: FcidumpIntegrals, n_core: int, n_active: int
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """Fold the lowest ``n_core`` orbitals (doubly occupied) into the core:

        E_core' = E_core + Σ_c 2 h_cc + Σ_cd [2 (cc|dd) − (cd|dc)],
        h'_pq   = h_pq + Σ_c [2 (pq|cc) − (pc|cq)],

    over core orbitals ``c, d``; returns ``(E_core', h', (pq|rs))`` on the ``n_active``
    orbitals that follow the core.
    """
    h, eri = integrals.one_body, integrals.two_body
    core = slice(0, n_core)
    active = slice(n_core, n_core + n_active)
    coulomb = np.einsum("pqcc->pq", eri[:, :, core, core])
    exchange = np.einsum("pccq->pq", eri[:, core, core, :])
    mean_field = 2.0 * coulomb - exchange
    energy = integrals.core_energy + 2.0 * np.trace(h[core, core]) \
        + np.trace(mean_field[core, core])
    return (float(energy), (h + mean_field)[active, active],
            np.ascontiguousarray(eri[active, active, active, active]))


def determinant_energy(core_energy: float, h1: np.ndarray, eri: np.ndarray,
                       n_occupied: int) -> float:
    """Energy of the closed-shell determinant filling the first ``n_occupied`` orbitals:
    ``E_core + Σ_i 2 h_ii + Σ_ij [2 (ii|jj) − (ij|ji)]`` (the Hartree–Fock energy when the
    file's orbitals are canonical RHF orbitals in energy order)."""
    occ = slice(0, n_occupied)
    coulomb = np.einsum("iijj->", eri[occ, occ, occ, occ])
    exchange = np.einsum("ijji->", eri[occ, occ, occ, occ])
    return float(core_energy + 2.0 * np.trace(h1[occ, occ]) + 2.0 * coulomb - exchange)
