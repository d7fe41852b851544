"""The :class:`~.sampler.Sampler` of the sector engine: honest shots from sector states.

States come from :class:`~.sector.SectorEngine` as real amplitudes over the sector basis
(``D`` of ``2^n``). Then

* **exact** energies: ``E = ψᵀ Re(H_S) ψ`` with ``H_S = P_S H P_S`` the Hamiltonian's block
  on the sector basis (dense ``D × D``; the imaginary part of ``H_S`` is antisymmetric and
  contributes nothing for real ψ), no ``2^n`` vector at all;
* **sampled** group moments: exactly the scheme of :mod:`.sampling` — per point and QWC
  group, the Born probabilities in the group's basis merged into outcome classes, one
  multinomial draw per (point, group) in group-major, point-minor order. Classes that
  no sector state can reach (probability exactly 0) are left out of the draw: a
  multinomial with a zero-probability category is the same distribution without it. The class
  probabilities come from :class:`~.sector_classes.SectorClassProbabilities` (the sector
  state rotated block by block), not from a ``2^n`` rotation trie; the distribution is the
  same multinomial over the same outcome classes.
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from .observable import SampledObservable
from .sampler import GroupMoments
from .sampling import sample_class_means
from .sector import SectorEngine
from .sector_classes import SectorClassProbabilities


def sector_hamiltonian(hamiltonian: SparsePauliOp, basis: np.ndarray) -> np.ndarray:
    """``Re(P_S H P_S)``: the real part of ``H``'s block on the sector ``basis`` (D, D)."""
    matrix = hamiltonian.to_matrix(sparse=True).tocsr()
    return np.asarray(matrix[basis][:, basis].real.todense())


class SectorSampler:
    """Noiseless sampling from sector states (see the module docstring)."""

    stream = "energy"
    name = "statevector"

    def __init__(self, engine: SectorEngine, observable: SampledObservable,
                 hamiltonian: SparsePauliOp):
        self.engine = engine
        self.observable = observable
        self.hamiltonian = hamiltonian
        self._matrix: np.ndarray | None = None
        self._classes: SectorClassProbabilities | None = None

    @property
    def sector_matrix(self) -> np.ndarray:
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

    def class_probabilities(self, states: np.ndarray) -> list[np.ndarray]:
        """``[g] -> (P, C_g)`` class probabilities of sector states ``(P, D)``."""
        return self.classes.probabilities(states)

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        states = self.engine.sector_states(points)
        return self.sample_states(states, shots, rng)

    def sample_states(self, states: np.ndarray, shots: np.ndarray, rng: np.random.Generator
                      ) -> GroupMoments:
        """Group moments of sector states ``(P, D)`` with ``shots`` (P, G) (or broadcast)."""
        n_groups = self.observable.n_groups
        shots = np.broadcast_to(np.asarray(shots, dtype=np.int64), (len(states), n_groups))
        class_probs = self.class_probabilities(states)
        means = np.empty(shots.shape)
        variances = np.empty(shots.shape)
        for g, probs in enumerate(class_probs):
            column = shots[:, g]
            n = int(column[0]) if np.all(column == column[0]) else column
            possible = self.classes.possible[g]  # drop classes impossible on the sector
            means[:, g], variances[:, g] = sample_class_means(
                probs[:, possible], self.classes.values[g][possible], n, rng)
        return GroupMoments(means, variances, shots, self.observable.grouped.constant)

    def exact(self, points: np.ndarray) -> np.ndarray:
        states = self.engine.sector_states(points)
        return np.einsum("pi,pi->p", states @ self.sector_matrix, states)

    def group_variances(self, points: np.ndarray) -> np.ndarray:
        """Exact per-shot variances ``σ²_pg`` (points, groups)."""
        states = self.engine.sector_states(points)
        out = np.empty((len(states), self.observable.n_groups))
        for g, probs in enumerate(self.class_probabilities(states)):
            values = self.classes.values[g]
            mean = probs @ values
            out[:, g] = np.maximum(probs @ values**2 - mean**2, 0.0)
        return out

    def fidelities(self, theta: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Exact ``|⟨ψ(θ)|ψ(θ'_k)⟩|²`` (real sector amplitudes), clipped to [0, 1]."""
        state = self.engine.sector_states(np.atleast_2d(theta))[0]
        overlaps = self.engine.sector_states(others) @ state
        return np.clip(overlaps**2, 0.0, 1.0)
