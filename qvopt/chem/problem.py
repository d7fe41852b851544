"""``load_problem``: a molecule name or file → :class:`Problem` (qubit Hamiltonian + references)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from . import integrals as _integrals
from .hamiltonian import hf_energy_of, qubit_hamiltonian
from .integrals import (
    active_space_integrals,
    fci_determinants,
    fci_energy,
    fci_is_cheap,
)
from .molecule import MoleculeFileError, MoleculeSpec, content_digest, read_molecule_file
from .tapering import Tapering, taper_hamiltonian

REFERENCE_TOLERANCE_HA = 1e-6  # a file's e_hf / e_fci may differ this much from ours
OPERATOR_PREFIX = "operator:"  # how a run names a problem given as an operator


@dataclass(frozen=True)
class Problem:
    """A ground-state problem on qubits.

    Attributes:
        name: the molecule's name.
        hamiltonian: Jordan–Wigner ``SparsePauliOp``; qubit ``2p`` is orbital ``p`` spin α,
            qubit ``2p+1`` orbital ``p`` spin β (qiskit little-endian labels).
        n_qubits: number of qubits (twice the active orbitals).
        n_electrons: active electrons.
        hf_occupation: occupation (0/1) of each qubit in the Hartree–Fock state, qubit 0 first.
        e_hf: Hartree–Fock energy (Ha), equal to ⟨HF|H|HF⟩.
        e_fci: FCI energy (Ha) of the same basis and active space (NaN when FCI was
            skipped as too large and the file gives none).
        reference_source: where ``e_hf``/``e_fci`` came from (file or a fresh computation),
            and whether the file's values were checked.
        reference_verified: True when ``e_fci`` was computed here, or given by the file and
            checked against FCI (``e_hf`` is always checked); False when it is the file's
            unchecked value or unknown (FCI too large).
        spec: the molecule file's content; None for a Hamiltonian given as an operator,
            which ``operator_sha256`` identifies instead (:mod:`qvopt.chem.operators`).
        tapering: ``None``, or the :class:`~qvopt.chem.tapering.Tapering` that produced this
            problem (``load_problem(..., taper=True)``): then ``hamiltonian`` is the tapered
            one on ``n_qubits`` = original − removed qubits, ``hf_occupation`` the tapered
            reference, ``n_electrons``, ``e_hf`` and ``e_fci`` those of the molecule.
    """

    name: str
    hamiltonian: SparsePauliOp
    n_qubits: int
    n_electrons: int
    hf_occupation: tuple[int, ...]
    e_hf: float
    e_fci: float
    reference_source: str
    spec: MoleculeSpec | None = field(repr=False, compare=False)
    reference_verified: bool = True
    tapering: Tapering | None = field(default=None, compare=False)
    operator_sha256: str | None = field(default=None, compare=False)

    @property
    def source(self) -> str:
        """What a run configuration names this problem by: the molecule (or FCIDUMP) file's
        path, or ``operator:<sha256>`` for a Hamiltonian given as an operator
        (:func:`~qvopt.chem.operators.problem_from_operator`)."""
        if self.spec is not None:
            return str(self.spec.source)
        return f"{OPERATOR_PREFIX}{self.operator_sha256}"

    @property
    def hf_bitstring(self) -> str:
        """Hartree–Fock basis state as a qiskit bitstring (qubit 0 is the rightmost character)."""
        return "".join(str(b) for b in reversed(self.hf_occupation))

    @property
    def hf_index(self) -> int:
        """Index of the Hartree–Fock basis state in a qiskit statevector."""
        return int(self.hf_bitstring, 2)


def load_problem(name_or_path: str | Path, cache: bool = True, taper: bool = False) -> Problem:
    """Load a shipped molecule by name (``"h2"``, ``"lih_fc"``, …) or a molecule TOML file.

    Integrals come from PySCF (RHF, optional frozen core / active space), the qubit
    Hamiltonian from the Jordan–Wigner mapping. The RHF energy is always computed, and FCI
    (in the HF state's (N_α, N_β) sector) whenever its space has at most
    :data:`~qvopt.chem.integrals.FCI_MAX_DETERMINANTS` determinants. Reference energies in
    the file are checked against these (see :func:`verified_references`): a mismatch beyond
    :data:`REFERENCE_TOLERANCE_HA` is a :class:`MoleculeFileError` naming the field. With
    ``cache=True`` the Hamiltonian and computed energies are cached on disk, keyed by the
    file's content (see :mod:`qvopt.chem.cache`).

    With ``taper=True`` the Hamiltonian is tapered with its Z2 symmetries in the sector of
    the Hartree–Fock state (:mod:`qvopt.chem.tapering`; H2: 4 → 1 qubit, LiH: 12 → 8): same
    ground energy in that sector, same ``e_hf``/``e_fci``, fewer qubits. Works with the
    hardware-efficient ansatz; UCCSD/ADAPT raise an InputError on a tapered problem.
    """
    if str(name_or_path).startswith(OPERATOR_PREFIX):
        raise MoleculeFileError(
            f"molecule {str(name_or_path)[:24]!r}… names a Hamiltonian that was given as an "
            "operator, not a file: pass the operator itself (qvopt.vqe(op, …), "
            "qvopt.resume(checkpoint, problem=qvopt.problem_from_operator(op, …)))")
    problem = _load_untapered(name_or_path, cache)
    return tapered_problem(problem) if taper else problem


def tapered_problem(problem: Problem) -> Problem:
    """``problem`` with its Hamiltonian tapered in the Hartree–Fock sector (see
    :func:`~qvopt.chem.tapering.taper_hamiltonian`); ``problem`` itself if already tapered."""
    if problem.tapering is not None:
        return problem
    hamiltonian, occupation, tapering = taper_hamiltonian(
        problem.hamiltonian, problem.hf_occupation,
        hf_energy_of(problem.hamiltonian, problem.hf_occupation))
    return replace(problem, hamiltonian=hamiltonian, n_qubits=hamiltonian.num_qubits,
                   hf_occupation=occupation, tapering=tapering)


def _load_untapered(name_or_path: str | Path, cache: bool) -> Problem:
    spec = read_molecule_file(name_or_path)
    hamiltonian, n_electrons, computed_hf, computed_fci = _computed(spec, cache)
    n_qubits = hamiltonian.num_qubits
    occupation = tuple(1 if q < n_electrons else 0 for q in range(n_qubits))
    refs = verified_references(spec, computed_hf, computed_fci,
                               _fci_size(n_qubits, n_electrons))
    return Problem(
        name=spec.name, hamiltonian=hamiltonian, n_qubits=n_qubits, n_electrons=n_electrons,
        hf_occupation=occupation, e_hf=refs.e_hf, e_fci=refs.e_fci,
        reference_source=refs.source, spec=spec, reference_verified=refs.verified,
    )


def _fci_size(n_qubits: int, n_electrons: int) -> int:
    """Determinants of the active space (closed shell: N_α = N_β = N/2)."""
    half = n_electrons // 2
    return fci_determinants(n_qubits // 2, half, n_electrons - half)


def _computed(spec: MoleculeSpec, cache: bool) -> tuple[SparsePauliOp, int, float, float]:
    """``(hamiltonian, active electrons, RHF energy, FCI energy or NaN)``, from the cache
    when it holds this file's content (an entry lacking a cheap FCI energy is rebuilt)."""
    from . import cache as disk

    key = content_digest(spec) if cache else ""
    entry = disk.load_cached(key) if cache else None
    if entry is not None:
        hamiltonian, n_electrons = entry["hamiltonian"], int(entry["n_electrons"])
        _integrals.check_qubit_count(spec, hamiltonian.num_qubits)
        e_fci = float(entry["e_fci"])
        stale = np.isnan(e_fci) and _fci_size(hamiltonian.num_qubits, n_electrons) \
            <= _integrals.FCI_MAX_DETERMINANTS
        if not stale:
            return hamiltonian, n_electrons, float(entry["e_hf"]), e_fci
    integrals = active_space_integrals(spec)
    hamiltonian = qubit_hamiltonian(integrals)
    n_orbitals = integrals.one_body.shape[0]
    e_fci = (fci_energy(integrals) if fci_is_cheap(n_orbitals, integrals.n_alpha,
                                                    integrals.n_beta) else float("nan"))
    if cache:
        disk.store(key, hamiltonian, integrals.n_electrons, integrals.e_hf, e_fci)
    return hamiltonian, integrals.n_electrons, integrals.e_hf, e_fci


@dataclass(frozen=True)
class References:
    """The reference energies a :class:`Problem` reports, where they came from, and
    whether each one that came from the file was checked."""

    e_hf: float
    e_fci: float
    source: str
    verified: bool


def verified_references(spec: MoleculeSpec, computed_hf: float, computed_fci: float,
                        fci_size: int) -> References:
    """Check the file's ``[reference]`` energies against the computed ones.

    ``e_hf`` is always checked (RHF is run for every file). ``e_fci`` is checked when FCI
    was computed (``computed_fci`` finite); otherwise a file value is used but marked
    unverified, and without one ``e_fci`` is NaN (FCI skipped, ``fci_size`` determinants).
    A difference beyond :data:`REFERENCE_TOLERANCE_HA` raises :class:`MoleculeFileError`
    naming ``reference.e_hf`` / ``reference.e_fci``.
    """
    program = spec.reference_program or "unknown program"
    limit = _integrals.FCI_MAX_DETERMINANTS
    have_fci = bool(np.isfinite(computed_fci))
    _check_reference(spec, "e_hf", spec.e_hf, computed_hf, "RHF")
    if have_fci:
        _check_reference(spec, "e_fci", spec.e_fci, computed_fci, "FCI")
    computed = ("PySCF RHF" if spec.fcidump is None
                else "the FCIDUMP's determinant of the lowest orbitals")
    hf_source = (f"e_hf from file ({program}), verified" if spec.e_hf is not None
                 else f"e_hf computed ({computed})")
    if spec.e_fci is not None:
        e_fci = spec.e_fci
        fci_source = (f"e_fci from file ({program}), verified" if have_fci else
                      f"e_fci from file ({program}), UNVERIFIED (FCI of {fci_size:,} "
                      f"determinants is above the {limit:,} limit)")
    elif have_fci:
        e_fci, fci_source = computed_fci, "e_fci computed (PySCF FCI)"
    else:
        e_fci = float("nan")
        fci_source = (f"FCI skipped ({fci_size:,} determinants, above the {limit:,} "
                      "limit): e_fci unknown")
    return References(e_hf=float(spec.e_hf if spec.e_hf is not None else computed_hf),
                      e_fci=float(e_fci), source=f"{hf_source}; {fci_source}",
                      verified=have_fci)


def _check_reference(spec: MoleculeSpec, name: str, given: float | None, computed: float,
                     method: str) -> None:
    """Raise :class:`MoleculeFileError` if the file's ``reference.<name>`` is off."""
    if given is None or abs(given - computed) <= REFERENCE_TOLERANCE_HA:
        return
    raise MoleculeFileError(
        f"{spec.source}: field 'reference.{name}' = {given!r} Ha does not match the {method} "
        f"energy computed for this file, {computed:.10f} Ha (off by "
        f"{(given - computed) * 1000:+.3f} mHa; tolerance {REFERENCE_TOLERANCE_HA:g} Ha): "
        f"correct it or remove it to have it computed"
    )
