"""MP2 starting point for the UCCSD (Givens) ansatz.

First-order Møller–Plesset theory on the Problem's own active space, read off its qubit
Hamiltonian (so it is consistent with the Hamiltonian by construction, whatever signs the
SCF gave the orbitals, and needs no second SCF). For the double excitation
``I, J → A, B`` (qubits; ``|D⟩`` the basis state with ``I, J`` emptied and ``A, B``
filled) the first-order wavefunction's coefficient of ``|D⟩`` is

    c_D = ⟨D|H|HF⟩ / (ε_I + ε_J − ε_A − ε_B),

``⟨D|H|HF⟩ = ±⟨IJ||AB⟩`` with the Jordan–Wigner sign included (it is a matrix element
between qubit basis states), and the canonical orbital energies from Koopmans' theorem on
the diagonal of H: ``ε_I = E_HF − ⟨HF − I|H|HF − I⟩``, ``ε_A = ⟨HF + A|H|HF + A⟩ − E_HF``.
This is RMP2: ``Σ_D c_D ⟨HF|H|D⟩`` is PySCF's MP2 correlation energy with the same
frozen core and virtuals (checked in ``tests/test_mp2.py``). The Givens double on
``[I, J, A, B]`` makes ``cos(θ/2)|HF⟩ + sin(θ/2)|D⟩``, so to first order

    θ_D = 2 c_D,         θ_singles = 0

(Brillouin: the first-order singles vanish for canonical RHF orbitals). Checked against
exact energies: the MP2 point is below HF for lih_fc, lih, beh2, h4 (and the opposite sign
is above).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .problem import Problem


def _basis_index(occupation) -> int:
    """Index of a qubit basis state (qubit q occupied ↔ bit q set, qiskit little-endian)."""
    return int(sum(1 << q for q, occupied in enumerate(occupation) if occupied))


def basis_matrix_elements(hamiltonian: SparsePauliOp, ket: int, bras: np.ndarray
                          ) -> np.ndarray:
    """``⟨y|H|x⟩`` for the basis state ``x = ket`` and each ``y`` in ``bras``, term by term
    without the ``2^n`` matrix. qiskit writes a term as ``P = (−i)^{q + n_Y} Z^z X^x``
    (``q`` its ``phase``, ``n_Y`` its Y count), so

        P|x⟩ = (−i)^{q + n_Y} (−1)^{popcount((x ⊕ x_P) ∧ z_P)} |x ⊕ x_P⟩,

    and ``⟨y|H|x⟩`` sums ``c_P`` times that phase over the terms with ``x_P = x ⊕ y``."""
    paulis = hamiltonian.paulis
    weights = 1 << np.arange(hamiltonian.num_qubits, dtype=np.int64)
    flips = (paulis.x * weights).sum(axis=1)
    signs = (paulis.z * weights).sum(axis=1)
    n_y = np.count_nonzero(paulis.x & paulis.z, axis=1)
    image = ket ^ flips  # P|x⟩ ∝ |x ⊕ x_P⟩
    phases = (-1j) ** ((paulis.phase + n_y) % 4) * (
        1.0 - 2.0 * (np.bitwise_count(image & signs) & 1))
    contributions = hamiltonian.coeffs * phases
    bras = np.asarray(bras, dtype=np.int64)
    order = np.argsort(image, kind="stable")
    sorted_images = image[order]
    start = np.searchsorted(sorted_images, bras, side="left")
    stop = np.searchsorted(sorted_images, bras, side="right")
    totals = np.concatenate([[0], np.cumsum(contributions[order])])
    return totals[stop] - totals[start]


def mp2_amplitudes(problem: Problem, doubles: list[list[int]]) -> np.ndarray:
    """``c_D = ⟨D|H|HF⟩ / (ε_I + ε_J − ε_A − ε_B)`` for each double ``[I, J, A, B]``.

    The matrix elements come from the Hamiltonian's terms
    (:func:`basis_matrix_elements`): only the HF column and a few diagonal elements are
    needed (H8's ``2^16`` sparse matrix took 3.8 GB to build)."""
    hamiltonian = problem.hamiltonian
    occupation = np.asarray(problem.hf_occupation, dtype=int)
    hf = _basis_index(occupation)
    n_qubits = len(occupation)
    moved = [hf - (1 << q) if occupation[q] else hf + (1 << q) for q in range(n_qubits)]
    diagonal = np.array([basis_matrix_elements(hamiltonian, state, np.array([state]))[0].real
                         for state in [hf, *moved]])
    e_hf = float(diagonal[0])
    eps = np.array([e_hf - diagonal[1 + q] if occupation[q] else diagonal[1 + q] - e_hf
                    for q in range(n_qubits)])
    targets = np.array([hf - (1 << qi) - (1 << qj) + (1 << qa) + (1 << qb)
                        for qi, qj, qa, qb in doubles], dtype=np.int64)
    couplings = basis_matrix_elements(hamiltonian, hf, targets)
    amplitudes = np.zeros(len(doubles))
    for k, (qi, qj, qa, qb) in enumerate(doubles):
        coupling = couplings[k]
        if abs(coupling.imag) > 1e-10:
            raise ValueError(f"complex matrix element for double {[qi, qj, qa, qb]}")
        amplitudes[k] = coupling.real / (eps[qi] + eps[qj] - eps[qa] - eps[qb])
    return amplitudes


def mp2_initial_point(problem: Problem, circuit: QuantumCircuit) -> np.ndarray:
    """UCCSD parameters from MP2: doubles ``θ_D = 2 c_D``, singles 0 (see the module).

    ``circuit`` must be qvopt's ``uccsd`` ansatz of ``problem`` (its ``metadata`` lists the
    excitations, doubles first as in ``circuit.parameters``).
    """
    metadata = circuit.metadata or {}
    if metadata.get("ansatz") != "uccsd":
        raise InputError("initial_point='mp2' needs the 'uccsd' ansatz (its parameters are "
                         f"excitation angles), got circuit {circuit.name!r}")
    doubles, singles = metadata["doubles"], metadata["singles"]
    theta = np.zeros(len(doubles) + len(singles))
    theta[:len(doubles)] = 2.0 * mp2_amplitudes(problem, doubles)
    return theta
