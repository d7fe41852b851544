"""The :class:`Sampler` protocol: per-group means and variances at parameter points.

A sampler answers one question: "measure every group (QWC or FC) of the Hamiltonian at
these points with these shots". For group ``g`` at point ``θ_p`` with ``N_pg`` shots it returns
the sample mean ``m_pg`` of the per-shot value ``v_g`` and the variance of that mean
``Var(m_pg) = s²_pg / N_pg`` (``s²`` the unbiased sample variance over shots). The energy
is then

    Ê_p = c_I + Σ_g m_pg,        Var(Ê_p) = Σ_g Var(m_pg)

(groups are independent samples). Everything above a sampler (energies, parameter-shift
gradients, shot allocation, the ledger) is the same for every backend.

Implementations: :class:`StatevectorSampler` (Aer statevectors + multinomial draws, this
module), :class:`~.backends.CircuitSampler` (measured circuits: noisy Aer, fake devices,
IBM hardware, SamplerV2-like objects) and :class:`~.pennylane_device.PennyLaneSampler`.
Counts-based samplers reduce their counts with :func:`moments_from_counts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .observable import SampledObservable
from .sampling import reduce_counts
from .statevector import AerStatevectorEngine


@dataclass(frozen=True)
class GroupMoments:
    """Per-group sample means and variances of the means, each (points, groups).

    ``shots`` (points, groups) are the shots each (point, group) pair used; ``constant`` is
    the identity coefficient ``c_I`` (not measured).
    """

    means: np.ndarray
    variances: np.ndarray
    shots: np.ndarray
    constant: float = 0.0

    def energies(self) -> tuple[np.ndarray, np.ndarray]:
        """``(c_I + Σ_g m_pg, Σ_g Var(m_pg))`` for every point ``p``."""
        return self.constant + self.means.sum(axis=1), self.variances.sum(axis=1)

    def per_shot_variances(self) -> np.ndarray:
        """Each group's per-shot sample variance ``s²_g = N Var(m)``, averaged over points
        (what the variance allocation learns from; ``nan`` where a group had one shot)."""
        return np.mean(self.variances * self.shots, axis=0)


@runtime_checkable
class Sampler(Protocol):
    """Measures the Hamiltonian's measurement groups at parameter points.

    ``stream`` names the estimator random stream the sampler draws from: ``"energy"`` when
    it draws shots itself, ``"backend"`` when it only seeds jobs of a device simulator.
    """

    name: str
    stream: str

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        """Moments at ``points`` (P, p) with ``shots`` (P, G) ints (shots per group)."""
        ...

    def exact(self, points: np.ndarray) -> np.ndarray:
        """Noiseless energies ``⟨ψ(θ_p)|H|ψ(θ_p)⟩``, shape (P,)."""
        ...


class ReferenceSampler(Sampler, Protocol):
    """A noiseless sampler that also serves exact references from its states: the group
    variances (``predicted_stderr``) and state fidelities (fidelities, the metric);
    ``observable`` holds the measurement groups circuit backends measure."""

    observable: SampledObservable

    def group_variances(self, points: np.ndarray) -> np.ndarray:
        """Exact variance of each measurement group's observable, shape (P, G)."""
        ...

    def fidelities(self, theta: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Exact ``|⟨ψ(θ)|ψ(θ')⟩|²`` for each row θ' of ``others``, shape (B,)."""
        ...


def moments_from_counts(counts: Sequence[np.ndarray], values: Sequence[np.ndarray],
                        shots: np.ndarray, constant: float) -> GroupMoments:
    """:class:`GroupMoments` from measured counts: ``counts[g]`` (P, 2^n) outcome counts of
    group ``g``, ``values[g]`` (2^n,) its per-outcome values ``v_g(x)``, ``shots`` (P, G)."""
    shots = np.asarray(shots, dtype=np.int64)
    means = np.empty(shots.shape)
    variances = np.empty(shots.shape)
    for g, (c, v) in enumerate(zip(counts, values, strict=True)):
        means[:, g], variances[:, g] = reduce_counts(c, v, shots[:, g])
    return GroupMoments(means, variances, shots, constant)


class StatevectorSampler:
    """Noiseless sampling: one Aer statevector per point, then for every group a multinomial
    draw of its shots in the group's basis (:meth:`.SampledObservable.sample_groups`)."""

    stream = "energy"

    def __init__(self, engine: AerStatevectorEngine, observable: SampledObservable):
        self.engine = engine
        self.observable = observable
        self.name = "statevector"

    def sample(self, points: np.ndarray, shots: np.ndarray, rng: np.random.Generator
               ) -> GroupMoments:
        shots = np.broadcast_to(np.asarray(shots, dtype=np.int64),
                                (len(points), self.observable.n_groups))
        means = np.empty(shots.shape)
        variances = np.empty(shots.shape)
        for rows, states in self.engine.iter_statevectors(points):
            means[rows], variances[rows] = self.observable.sample_groups(states, shots[rows],
                                                                         rng)
        return GroupMoments(means, variances, shots, self.observable.grouped.constant)

    def exact(self, points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for rows, states in self.engine.iter_statevectors(points):
            out[rows] = self.observable.exact(states)
        return out

    def group_variances(self, points: np.ndarray) -> np.ndarray:
        """Exact per-shot variances ``σ²_pg`` (points, groups) (for predicted stderrs)."""
        return np.concatenate([self.observable.group_variances(states)
                               for _, states in self.engine.iter_statevectors(points)])

    def fidelities(self, theta: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Exact ``|⟨ψ(θ)|ψ(θ'_k)⟩|²`` for every row of ``others``, clipped to [0, 1]."""
        state = self.engine.statevectors(np.atleast_2d(theta))[0]
        out = np.empty(len(others))
        for rows, states in self.engine.iter_statevectors(others):
            out[rows] = np.abs(states.conj() @ state) ** 2
        return np.clip(out, 0.0, 1.0)
