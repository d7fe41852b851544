"""Qubit tapering with the Z2 symmetries of a qubit Hamiltonian (Bravyi et al. 2017).

Convention (that of ``qiskit.quantum_info.Z2Symmetries``, used here): the symmetries are
independent Pauli strings ``S_i`` with ``[H, S_i] = 0``, each paired with a qubit ``q_i``
on which ``S_i`` acts with Z and every other ``S_j`` with the identity. The Clifford
``U = Π_i U_i``, ``U_i = (X_{q_i} + S_i)/√2`` (self-inverse), turns them into single-qubit
``U S_i U = X_{q_i}``, so in ``H' = U H U`` the qubits ``q_i`` carry only I or X; replacing
``X_{q_i}`` by an eigenvalue ``s_i = ±1`` leaves a Hamiltonian on ``n − M`` qubits whose
spectrum is that of ``H`` in the sector ``S_i = s_i``.

Sector of the reference: for molecular Jordan–Wigner Hamiltonians the ``S_i`` are Z-strings
(parities of spin-orbital subsets), so the Hartree–Fock basis state ``|b⟩`` is an eigenstate
with ``s_i = ⟨b|S_i|b⟩ = (−1)^{Σ_{j ∈ supp S_i} b_j}``. Because no ``S_j`` acts on ``q_i`` for
``j ≠ i``, ``U|b⟩`` is ``|b⟩`` on the kept qubits times an X eigenstate (eigenvalue ``s_i``) on
each ``q_i``: the tapered reference is simply ``b`` with the qubits ``q_i`` removed (checked:
``⟨b'|H'|b'⟩ = ⟨b|H|b⟩``).

Limitation: excitation operators (UCCSD, the ADAPT pool) are not tapered here; ansätze that
work on any qubit register (hardware-efficient) run on the tapered problem directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.quantum_info import Pauli, PauliList, SparsePauliOp, Z2Symmetries

from ..errors import InputError

HF_ENERGY_TOLERANCE_HA = 1e-8


@dataclass(frozen=True)
class Tapering:
    """What was tapered: ``symmetries`` (Pauli labels, qiskit order), ``removed_qubits``
    (``q_i``), ``sector`` (``s_i = ±1``, that of the Hartree–Fock state) and the qubit count
    before tapering."""

    symmetries: tuple[str, ...]
    removed_qubits: tuple[int, ...]
    sector: tuple[int, ...]
    original_qubits: int

    @property
    def z2(self) -> Z2Symmetries:
        """The qiskit object that tapers operators into this sector."""
        n = self.original_qubits
        sq_paulis = []
        for q in self.removed_qubits:
            x = np.zeros(n, dtype=bool)
            x[q] = True
            sq_paulis.append(Pauli((np.zeros(n, dtype=bool), x)))
        return Z2Symmetries(PauliList(list(self.symmetries)), PauliList(sq_paulis),
                            list(self.removed_qubits), list(self.sector))

    def taper(self, operator: SparsePauliOp) -> SparsePauliOp:
        """``operator`` (which must commute with every symmetry) in the tapered frame."""
        if not self.removed_qubits:
            return operator
        return self.z2.taper(operator).simplify(atol=1e-12)

    def kept_qubits(self) -> tuple[int, ...]:
        """Original indices of the qubits that remain, in order (tapered qubit k = kept[k])."""
        removed = set(self.removed_qubits)
        return tuple(q for q in range(self.original_qubits) if q not in removed)


def reference_sector(symmetries: PauliList, occupation: tuple[int, ...]) -> tuple[int, ...]:
    """``s_i = (−1)^{Σ_{j∈supp S_i} b_j}`` for the basis state ``b``; an InputError when a
    symmetry has X or Y (the basis state is then not one of its eigenstates)."""
    occ = np.asarray(occupation, dtype=bool)
    sector = []
    for pauli in symmetries:
        if pauli.x.any():
            raise InputError(f"symmetry {pauli.to_label()} is not diagonal: the Hartree–Fock "
                             "state is not in one of its sectors, cannot taper")
        sector.append(-1 if int(np.count_nonzero(pauli.z & occ)) % 2 else 1)
    return tuple(sector)


def find_tapering(hamiltonian: SparsePauliOp, occupation: tuple[int, ...]) -> Tapering:
    """The Z2 symmetries of ``hamiltonian`` and the sector of the basis state ``occupation``."""
    found = Z2Symmetries.find_z2_symmetries(hamiltonian)
    if found.is_empty():
        return Tapering((), (), (), hamiltonian.num_qubits)
    sector = reference_sector(found.symmetries, occupation)
    return Tapering(tuple(p.to_label() for p in found.symmetries),
                    tuple(int(q) for q in found.sq_list), sector, hamiltonian.num_qubits)


def taper_hamiltonian(hamiltonian: SparsePauliOp, occupation: tuple[int, ...],
                      hf_energy: float) -> tuple[SparsePauliOp, tuple[int, ...], Tapering]:
    """``(tapered H, tapered reference occupation, Tapering)``; the reference energy
    ``⟨b'|H'|b'⟩`` is checked against ``hf_energy`` (``⟨b|H|b⟩``)."""
    from .hamiltonian import hf_energy_of

    tapering = find_tapering(hamiltonian, occupation)
    tapered = tapering.taper(hamiltonian)
    reference = tuple(occupation[q] for q in tapering.kept_qubits())
    energy = hf_energy_of(tapered, reference)
    if abs(energy - hf_energy) > HF_ENERGY_TOLERANCE_HA:
        raise InputError(f"tapering failed: the tapered reference energy {energy:.10f} Ha "
                         f"differs from ⟨HF|H|HF⟩ = {hf_energy:.10f} Ha")
    return tapered, reference, tapering


def check_untapered(problem, ansatz: str) -> None:
    """An InputError for ansätze built from fermionic excitations on a tapered problem."""
    tapering = getattr(problem, "tapering", None)
    if tapering is not None and tapering.removed_qubits:
        raise InputError(
            f"ansatz {ansatz!r} needs the untapered problem: {problem.name!r} was tapered from "
            f"{tapering.original_qubits} to {problem.n_qubits} qubits, and qvopt does not "
            "taper the excitation operators (they would have to be rotated by the tapering "
            "Clifford and projected on the Hartree–Fock sector); use "
            "ansatz='hardware_efficient' on the tapered problem, or load it with taper=False")
