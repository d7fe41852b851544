"""The :class:`~.sampler.Sampler` of the sector engine: honest shots from sector states.

States come from :class:`~.sector.SectorEngine` as real amplitudes over the sector basis
(``D`` of ``2^n``). Then

* **exact** energies: ``E = ψᵀ Re(H_S) ψ`` with ``H_S = P_S H P_S`` the Hamiltonian's block
  on the sector basis (sparse ``D × D``; the imaginary part of ``H_S`` is antisymmetric and
  contributes nothing for real ψ), no ``2^n`` vector at all;
* **sampled** group moments: the law of :mod:`.sampling` — per point and group, a
  multinomial draw of the group's shots over its outcome classes (Born probabilities in the
  group's basis merged by value), groups in order, points in order within a group. The
  moment groups' and fully commuting groups' class probabilities come from
  :class:`~.sector_classes.SectorClassProbabilities` (exact, from the ``D`` sector
  amplitudes; classes no sector state reaches, probability exactly 0, are left out of the
  draw) and are drawn by :func:`draw_class_means`; block-rotated groups draw each shot's
  outcome in two stages without their whole table (:mod:`.sector_draws`) when a batch
  asks few shots of them, and from their whole table by :func:`draw_class_means` when the
  shots make that cheaper (per group and batch, from the shots asked:
  :meth:`~.sector_draws.TwoStagePlan.prefers_table`). Every route is
  the same multinomial over the same outcome classes as the ``2^n`` rotation trie; the
  random streams differ (the statevector engine draws with numpy's multinomial).
"""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import SparsePauliOp
from scipy.sparse import csr_matrix

from .observable import SampledObservable
from .proxy_state import restricted_matrix
from .sampler import GroupMoments
from .sampling import sample_class_means
from .sector import SectorEngine
from .sector_classes import BlockRotation, SectorClassProbabilities
from .sector_draws import (
    CLASSES_PER_SHOT,
    StateDraws,
    TwoStagePlan,
    inverse_cdf_classes,
    per_shot_means,
)


def draw_class_means(probs: np.ndarray, values: np.ndarray, shots: np.ndarray,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sample means and variances of the mean (:func:`~.sampling.reduce_counts`) of one
    multinomial draw of ``shots[p]`` shots per column ``p`` of the class probabilities
    ``probs`` (C, P) with class values ``values``. Groups with many classes per shot
    (``C > CLASSES_PER_SHOT · mean shots``) draw by :func:`inverse_cdf_classes`, which
    costs ``O(C + shots · log C)`` a column, the rest by numpy's multinomial
    (:func:`~.sampling.sample_class_means`, ``O(C)`` binomials a column). Both are the
    same multinomial over the same classes; each shot counts once in the reduction."""
    shots = np.asarray(shots, dtype=np.int64)
    if len(values) <= CLASSES_PER_SHOT * max(1.0, float(shots.mean()) if shots.size else 1.0):
        n = int(shots[0]) if shots.size and np.all(shots == shots[0]) else shots
        return sample_class_means(probs.T, values, n, rng)
    return per_shot_means(values[inverse_cdf_classes(probs, shots, rng)], shots)


def sector_hamiltonian(hamiltonian: SparsePauliOp, basis: np.ndarray) -> csr_matrix:
    """``Re(P_S H P_S)``: the real part of ``H``'s block on the sector ``basis`` (D, D),
    sparse, from the terms' matrix elements between sector states
    (:func:`~.proxy_state.restricted_matrix`): no ``2^n`` matrix (H8's took 1.1 GB, then
    0.2 GB in parts of few flip masks)."""
    return csr_matrix(restricted_matrix(hamiltonian, basis).real).tocsr()


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
        self._plans: dict[int, TwoStagePlan] = {}

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
        states: StateDraws | None = None  # the CDF of ψ_d², built when first needed
        for g, table in self.classes.iter_methods(columns):  # one group at a time
            if isinstance(table, BlockRotation):
                plan = self._plan(g)
                mean_shots = float(shots[:, g].mean()) if shots.shape[0] else 0.0
                if not plan.prefers_table(table, columns.shape[1], mean_shots):
                    states = StateDraws(columns) if states is None else states
                    means[:, g], variances[:, g] = plan.means(columns, shots[:, g], rng,
                                                              states)
                    continue
            if not isinstance(table, np.ndarray):
                table = table.probabilities(columns)
            means[:, g], variances[:, g] = draw_class_means(
                table, self.classes.values[g], shots[:, g], rng)
        return GroupMoments(means, variances, shots, self.observable.grouped.constant)

    def _plan(self, g: int) -> TwoStagePlan:
        """Group ``g``'s two-stage draw (:mod:`.sector_draws`), built on first use."""
        if g not in self._plans:
            self._plans[g] = TwoStagePlan(self.observable.grouped.groups[g],
                                          self.observable.classes[g], self.engine.basis)
        return self._plans[g]

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
