"""A classical proxy of the ground state, computed from the Hamiltonian alone.

Coefficient splitting (:mod:`.splitting`) needs covariances of the Pauli terms before any
shot is drawn. It takes them from this proxy, never from shots or from the current
parameters:

1. the **reference** ``|b₀⟩``: the computational basis state of lowest diagonal energy
   ``⟨b|H|b⟩ = Σ_{t: x_t = 0} c_t (−1)^{popcount(b & z_t)}`` (ties: the smallest ``b``);
   for a Jordan–Wigner molecular Hamiltonian this is the Hartree–Fock determinant;
2. the **interacting space** ``S = {b₀} ∪ {b₀ ⊕ x_t}``: every basis state one Hamiltonian
   term away from it (for a two-body molecular Hamiltonian, the singles and doubles);
3. the **proxy** ``|φ⟩``: the lowest eigenvector of ``H`` restricted to ``span(S)`` (for
   molecules, CISD in the qubit space). With two electrons, or two holes, in the active
   space ``S`` is the whole particle sector and the proxy is the FCI state (LiH and HF
   with frozen cores); otherwise it is an approximation (H4: −2.16503 against FCI
   −2.16639 Ha).

Matrix elements use qiskit's convention ``P = (−i)^{q + n_Y} Z^z X^x`` (``q`` the label
phase, ``n_Y = popcount(x & z)``), so

    ⟨b ⊕ x|P|b⟩ = (−i)^{q + n_Y} (−1)^{popcount((b ⊕ x) & z)}.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import eigsh

from ..errors import InputError

#: diagonal energies are evaluated this many basis states at a time
CHUNK_STATES = 2**18
#: interacting spaces up to this dimension are diagonalized densely (``numpy.linalg.eigh``)
DENSE_DIMENSION = 2000


def pauli_masks(hamiltonian: SparsePauliOp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, z, prefactor)``: int flip and phase masks of every term (qubit ``q`` ↔ bit
    ``q``) and ``(−i)^{q + n_Y}`` (module docstring)."""
    n = hamiltonian.num_qubits
    weights = 1 << np.arange(n, dtype=np.int64)
    paulis = hamiltonian.paulis
    x = (paulis.x * weights).sum(axis=1).astype(np.int64)
    z = (paulis.z * weights).sum(axis=1).astype(np.int64)
    n_y = np.bitwise_count(x & z).astype(np.int64)
    prefactor = (-1j) ** ((paulis.phase + n_y) % 4)
    return x, z, prefactor


def _parity_signs(states: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``(−1)^{popcount(state & mask)}`` as float, shape (masks, states)."""
    parity = np.bitwise_count(states[None, :] & masks[:, None]).astype(np.int64) & 1
    return 1.0 - 2.0 * parity


def reference_state(hamiltonian: SparsePauliOp) -> int:
    """The basis state of lowest diagonal energy ``⟨b|H|b⟩`` (ties: the smallest)."""
    x, z, prefactor = pauli_masks(hamiltonian)
    diagonal = x == 0
    coeffs = (np.asarray(hamiltonian.coeffs)[diagonal] * prefactor[diagonal]).real
    best, best_energy = 0, np.inf
    for start in range(0, 2**hamiltonian.num_qubits, CHUNK_STATES):
        states = np.arange(start, min(start + CHUNK_STATES, 2**hamiltonian.num_qubits),
                           dtype=np.int64)
        energies = coeffs @ _parity_signs(states, z[diagonal])
        k = int(np.argmin(energies))
        if energies[k] < best_energy - 1e-12:
            best, best_energy = int(states[k]), float(energies[k])
    return best


def interacting_space(hamiltonian: SparsePauliOp, reference: int) -> np.ndarray:
    """Sorted ``{b₀} ∪ {b₀ ⊕ x_t}`` (module docstring, step 2)."""
    x, _, _ = pauli_masks(hamiltonian)
    return np.unique(np.concatenate([[reference], reference ^ x]).astype(np.int64))


def restricted_matrix(hamiltonian: SparsePauliOp, basis: np.ndarray) -> coo_matrix:
    """``⟨a|H|b⟩`` for ``a, b`` in the sorted ``basis`` (sparse, D × D)."""
    x, z, prefactor = pauli_masks(hamiltonian)
    coeffs = np.asarray(hamiltonian.coeffs, dtype=complex) * prefactor
    rows, cols, values = [], [], []
    columns = np.arange(len(basis))
    for flip in np.unique(x):
        image = basis ^ flip
        at = np.minimum(np.searchsorted(basis, image), len(basis) - 1)
        present = basis[at] == image
        terms = np.flatnonzero(x == flip)
        signs = _parity_signs(image[present], z[terms])  # (terms, present states)
        rows.append(at[present])
        cols.append(columns[present])
        values.append(coeffs[terms] @ signs)
    return coo_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(len(basis), len(basis)))


def proxy_state(hamiltonian: SparsePauliOp) -> tuple[np.ndarray, np.ndarray]:
    """``(basis, amplitudes)``: the proxy ``|φ⟩ = Σ_d amplitudes[d] |basis[d]⟩`` (module
    docstring), normalised, with a deterministic global sign (largest amplitude real
    positive)."""
    if hamiltonian.num_qubits > 62:
        raise InputError("the classical proxy state needs at most 62 qubits")
    basis = interacting_space(hamiltonian, reference_state(hamiltonian))
    matrix = restricted_matrix(hamiltonian, basis).tocsr()
    if len(basis) <= DENSE_DIMENSION:
        _, vectors = np.linalg.eigh(matrix.toarray())
        vector = vectors[:, 0]
    else:
        _, vectors = eigsh(matrix, k=1, which="SA", v0=np.ones(len(basis)))
        vector = vectors[:, 0]
    vector = vector / np.linalg.norm(vector)
    top = int(np.argmax(np.abs(vector)))
    vector = vector * (abs(vector[top]) / vector[top])
    return basis, vector


def embedded(basis: np.ndarray, amplitudes: np.ndarray, n_qubits: int) -> np.ndarray:
    """The proxy as a ``2^n`` statevector (complex)."""
    state = np.zeros(2**n_qubits, dtype=complex)
    state[basis] = amplitudes
    return state
