"""The Estimator's fidelity and metric entry points: state fidelities
``|⟨ψ(θ)|ψ(θ')⟩|²`` (:mod:`.fidelity`) and the Fubini–Study metric (:mod:`.metric`) of one
circuit, computed on the noiseless reference engine, sampled honestly and charged to a
shot ledger.

Costs: one fidelity is one compute–uncompute circuit execution of ``shots`` shots; the
metric costs what :meth:`.metric.MetricEstimator.cost` says (the full metric: one
fidelity per double-shift point; block-diagonal and diagonal: one execution per sampled
prefix-state group). Exact mode (``shots=None``) charges no shots (fidelities still count
their points as evaluations, as before the split).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit

from .base import Estimate, ShotLedger
from .fidelity import sample_fidelities
from .metric import MetricEstimator
from .parameter_shift import ShiftRule
from .sampler import ReferenceSampler

__all__ = ["StateGeometry"]


class StateGeometry:
    """Fidelities and the metric of ``circuit``'s states from ``reference`` (the
    estimator's noiseless sampler) with ``shots`` per circuit execution (None: exact)."""

    def __init__(self, circuit: QuantumCircuit, reference: ReferenceSampler, shots: int | None):
        self.reference = reference
        self.shots = shots
        self._metric = MetricEstimator(circuit)

    def fidelities(self, theta: np.ndarray, targets: np.ndarray, rng: np.random.Generator,
                   ledger: ShotLedger) -> tuple[np.ndarray, np.ndarray]:
        """Sampled (or exact) fidelities of each row of ``targets`` with θ and their
        variances; charges ``ledger`` one execution of ``shots`` per target."""
        values, variances = sample_fidelities(self.reference.fidelities(theta, targets),
                                              self.shots, rng)
        ledger.charge(len(targets) if self.shots else 0, self.shots or 0, len(targets))
        return values, variances

    def fidelity(self, theta: np.ndarray, targets: np.ndarray, single: bool,
                 rng: np.random.Generator, ledger: ShotLedger) -> Estimate:
        """:meth:`fidelities` as an :class:`~.base.Estimate` (floats when ``single``)."""
        values, variances = self.fidelities(theta, targets, rng, ledger)
        spent = len(targets) * (self.shots or 0)
        if single:
            return Estimate(float(values[0]), float(np.sqrt(variances[0])), spent)
        return Estimate(values, np.sqrt(variances), spent)

    def metric_cost(self, approx: str | None, rules: list[ShiftRule]) -> int:
        """Shots one :meth:`metric` call charges (0 in exact mode)."""
        return self._metric.cost(approx, self.shots, rules)

    def metric(self, theta: np.ndarray, approx: str | None, rng: np.random.Generator,
               rules: list[ShiftRule], ledger: ShotLedger) -> Estimate:
        """Fubini–Study metric at θ with ``approx`` ∈ {None, "block-diag", "diag"} (see
        :mod:`.metric`); the full metric's fidelities are charged as they are drawn, the
        block metrics' executions afterwards."""

        def fidelities(points: np.ndarray, stream: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
            return self.fidelities(theta, points, stream, ledger)

        value, variance, executions = self._metric.estimate(
            theta, approx, self.shots, rng, rules, fidelities)
        if approx is not None:
            ledger.charge(executions, self.shots or 0, 0)
        return Estimate(value, np.sqrt(variance), executions * (self.shots or 0))
