"""Fermionic Hamiltonian → qubit Hamiltonian (Jordan–Wigner) as a qiskit ``SparsePauliOp``.

Qubit order: spin orbitals are interleaved, ``qubit 2p = orbital p, spin α`` and
``qubit 2p+1 = orbital p, spin β`` (PennyLane's convention), orbitals in increasing RHF
energy. Qubit ``k`` is qiskit's qubit ``k``: in a Pauli label or a bitstring it is the
``k``-th character *from the right* (qiskit's little-endian convention).

The fermionic operator is built by PennyLane's ``qchem.fermionic_observable`` and mapped
by ``pennylane.jordan_wigner`` (``a†_j = Z_0 … Z_{j-1} (X_j − iY_j)/2``).
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from .integrals import ActiveSpaceIntegrals

COEFF_DECIMALS = 12


def qubit_hamiltonian(integrals: ActiveSpaceIntegrals, cutoff: float = 1e-12) -> SparsePauliOp:
    """Jordan–Wigner qubit Hamiltonian of the active space (see module docstring for order)."""
    import pennylane as qml

    n_qubits = 2 * integrals.one_body.shape[0]
    # PennyLane's fermionic_observable puts two[p,q,r,s]/2 on a†_p a†_q a_r a_s, which
    # needs two[p,q,r,s] = (ps|qr): swapping axes 1 and 3 of the chemists' tensor.
    two = np.swapaxes(integrals.two_body, 1, 3)
    fermionic = qml.qchem.fermionic_observable(
        np.array([integrals.core_energy]), integrals.one_body, two, cutoff=cutoff
    )
    qubit_op = qml.jordan_wigner(fermionic, ps=True, tol=cutoff)
    qubit_op.simplify(cutoff)

    labels: list[str] = []
    terms: list[complex] = []
    for word, coeff in qubit_op.items():
        chars = ["I"] * n_qubits
        for wire, pauli in word.items():
            chars[n_qubits - 1 - int(wire)] = pauli
        labels.append("".join(chars))
        terms.append(coeff)
    coeffs = np.asarray(terms, dtype=complex)
    if np.max(np.abs(coeffs.imag), initial=0.0) > 1e-10:
        raise RuntimeError("Jordan–Wigner Hamiltonian has complex coefficients")
    op = SparsePauliOp(labels, coeffs.real).simplify(atol=cutoff)
    # Sort terms for reproducible grouping: identity first, then lexicographic labels.
    order = np.lexsort((op.paulis.to_labels(),))
    # Coefficients on a 1e-12 Ha grid (the SCF converges to 1e-12): two PySCF runs of the
    # same file differ in the last bits (threaded BLAS sums), and a shot-adaptive run
    # amplifies such bits into different shot counts; rounded, the same file gives the
    # same Hamiltonian, bit for bit, and the same seed the same run.
    return SparsePauliOp(op.paulis[order], np.round(op.coeffs[order].real, COEFF_DECIMALS))


def sector_ground_energy(hamiltonian: SparsePauliOp, n_alpha: int, n_beta: int) -> float:
    """Lowest eigenvalue of ``hamiltonian`` among basis states with the given α and β counts.

    Uses the interleaved spin-orbital order of :func:`qubit_hamiltonian` (even qubits α).
    """
    from scipy.sparse.linalg import eigsh

    n = hamiltonian.num_qubits
    idx = np.arange(2**n)
    bits = (idx[:, None] >> np.arange(n)) & 1
    keep = np.flatnonzero((bits[:, 0::2].sum(1) == n_alpha) & (bits[:, 1::2].sum(1) == n_beta))
    matrix = hamiltonian.to_matrix(sparse=True).real.tocsr()[keep][:, keep]
    if matrix.shape[0] <= 64:
        return float(np.linalg.eigvalsh(matrix.toarray())[0])
    return float(eigsh(matrix, k=1, which="SA", tol=1e-12)[0][0])


def hf_energy_of(hamiltonian: SparsePauliOp, occupation: tuple[int, ...]) -> float:
    """⟨b|H|b⟩ for the computational basis state with the given per-qubit occupation."""
    z = hamiltonian.paulis.z
    x = hamiltonian.paulis.x
    occ = np.asarray(occupation, dtype=bool)
    diagonal = ~x.any(axis=1)
    signs = np.where((z & occ).sum(axis=1) % 2 == 1, -1.0, 1.0)
    return float(np.sum(hamiltonian.coeffs.real[diagonal] * signs[diagonal]))
