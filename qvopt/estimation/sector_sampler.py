"""The :class:`~.sampler.Sampler` of the sector engine: honest shots from sector states.

States come from :class:`~.sector.SectorEngine` as real amplitudes over the sector basis
(``D`` of ``2^n``). Then

* **exact** energies: ``E = ψᵀ Re(H_S) ψ`` with ``H_S = P_S H P_S`` the Hamiltonian's block
  on the sector basis (sparse ``D × D``; the imaginary part of ``H_S`` is antisymmetric and
  contributes nothing for real ψ), no ``2^n`` vector at all;
* **sampled** group moments: exactly the scheme of :mod:`.sampling` — per point and QWC
  group, the Born probabilities in the group's basis merged into outcome classes, one
  multinomial draw per (point, group) in group-major, point-minor order. The class
  probabilities come from :class:`~.sector_classes.SectorClassProbabilities` (exact, from
  the ``D`` sector amplitudes), not from a ``2^n`` rotation trie: the same multinomial over
  the same outcome classes. Classes no sector state can reach (probability exactly 0) are
  left out of the draw: a multinomial with a zero-probability category is the same
  distribution without it.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.sparse import csr_matrix

from .observable import SampledObservable
from .sampler import GroupMoments
from .sampling import sample_class_means
from .sector import SectorEngine
from .sector_classes import SectorClassProbabilities

#: terms with at most this many distinct flip (X) masks are turned into one ``2^n`` sparse
#: matrix at a time: H8's 16-qubit matrix at once took 1.1 GB
FLIPS_PER_PART = 16


def sector_hamiltonian(hamiltonian: SparsePauliOp, basis: np.ndarray) -> csr_matrix:
    """``Re(P_S H P_S)``: the real part of ``H``'s block on the sector ``basis`` (D, D),
    sparse. Summed over parts of the terms with few distinct flip masks (a ``2^n`` sparse
    matrix has ``2^n`` entries per flip mask), so only one part's matrix exists at a time."""
    weights = 1 << np.arange(hamiltonian.num_qubits, dtype=np.int64)
    flips = (hamiltonian.paulis.x * weights).sum(axis=1)
    unique, part_of = np.unique(flips, return_inverse=True)
    part_of = part_of.ravel() // FLIPS_PER_PART
    total = csr_matrix((len(basis), len(basis)))
    for part in range(int(part_of.max(initial=-1)) + 1):
        matrix = hamiltonian[part_of == part].to_matrix(sparse=True).tocsr()
        total = total + csr_matrix(matrix[basis][:, basis].real)
    return total.tocsr()


class SectorSampler:
    """Noiseless sampling from sector states (see the module docstring)."""

    stream = "energy"
    name = "statevector"

    def __init__(self, engine: SectorEngine, observable: SampledObservable,
                 hamiltonian: SparsePauliOp):
        self.engine = engine
        self.observable = observable
        self.hamiltonian = hamiltonian
        self._matrix: csr_matrix | None = None
        self._classes: SectorClassProbabilities | None = None

    @property
    def sector_matrix(self) -> csr_matrix:
        """``Re(H_S)`` (built on first use)."""
        if self._matrix is None:
            self._matrix = sector_hamiltonian(self.hamiltonian, self.engine.basis)
        return self._matrix

    @property
    def classes(self) -> SectorClassProbabilities:
        """Per-group class-probability tables on the sector basis (built on first use)."""
        if self._classes is None:
            self._classes = SectorClassProbabilities(self.observable, self.engine.basis)
        return self._classes

    def class_probabilities(self, columns: np.ndarray) -> list[np.ndarray]:
        """``[g] -> (P, C_g)`` probabilities of group ``g``'s classes that the sector can
        reach (values ``classes.values[g]``) for sector states ``columns`` (D, P)."""
        return [p.T for p in self.classes.probabilities_columns(columns)]

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        return self.sample_columns(self.engine.sector_columns(points), shots, rng)

    def sample_columns(self, columns: np.ndarray, shots: np.ndarray,
                       rng: np.random.Generator) -> GroupMoments:
        """Group moments of sector states ``columns`` (D, P) with ``shots`` (P, G) (or
        anything that broadcasts to it)."""
        n_groups = self.observable.n_groups
        shots = np.broadcast_to(np.asarray(shots, dtype=np.int64),
                                (columns.shape[1], n_groups))
        means = np.empty(shots.shape)
        variances = np.empty(shots.shape)
        for g, probs in self.classes.iter_columns(columns):  # one group's table at a time
            column = shots[:, g]
            n = int(column[0]) if np.all(column == column[0]) else column
            means[:, g], variances[:, g] = sample_class_means(
                probs.T, self.classes.values[g], n, rng)
        return GroupMoments(means, variances, shots, self.observable.grouped.constant)

    def exact(self, points: np.ndarray) -> np.ndarray:
        columns = self.engine.sector_columns(points)
        return np.einsum("dp,dp->p", columns, self.sector_matrix @ columns)

    def group_variances(self, points: np.ndarray) -> np.ndarray:
        """Exact per-shot variances ``σ²_pg`` (points, groups)."""
        columns = self.engine.sector_columns(points)
        out = np.empty((columns.shape[1], self.observable.n_groups))
        for g, probs in self.classes.iter_columns(columns):
            values = self.classes.values[g]
            mean = probs.T @ values
            out[:, g] = np.maximum(probs.T @ values**2 - mean**2, 0.0)
        return out

    def fidelities(self, theta: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Exact ``|⟨ψ(θ)|ψ(θ'_k)⟩|²`` (real sector amplitudes), clipped to [0, 1]."""
        state = self.engine.sector_columns(np.atleast_2d(theta))[:, 0]
        overlaps = state @ self.engine.sector_columns(others)
        return np.clip(overlaps**2, 0.0, 1.0)
