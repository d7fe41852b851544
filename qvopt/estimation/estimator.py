"""``Estimator``: energies and parameter-shift gradients of ⟨ψ(θ)|H|ψ(θ)⟩, exact or sampled.

Exact mode (``shots=None``): ``E(θ) = ⟨ψ|H|ψ⟩`` from the Aer statevector and the sparse
matrix of ``H``; ``stderr = 0``; no shots are charged.

Sampled mode (``shots=N``): for every parameter point the statevector is simulated once
(Aer, all points of a call in one job); for every qubit-wise-commuting group the state is
rotated into the group's basis and ``N`` outcomes are drawn (see :mod:`.sampling`).

    Ê = c_I + Σ_g mean_g(v_g),        stderr² = Σ_g s_g² / N

with ``s_g²`` the sample variance of the group's per-shot values (covariances of terms in
one group included; groups are independent samples). Each (point, group) counts as one
circuit execution of ``N`` shots on the :class:`~.base.ShotLedger`.
"""

from __future__ import annotations

import numbers

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from .allocation import ShotAllocator, predicted_stderr
from .base import Estimate, ShotLedger
from .observable import SampledObservable
from .parameter_shift import shift_rules, shifted_points
from .statevector import AerStatevectorEngine


def validate_shots(shots) -> int | None:
    """``None`` (exact) or a positive int; anything else gets a clear ``ValueError``."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, numbers.Integral):
        if isinstance(shots, float) and shots.is_integer() and shots > 0:
            return int(shots)
        raise ValueError(f"shots must be a positive integer or None (exact), got {shots!r}")
    if shots <= 0:
        raise ValueError(f"shots must be a positive integer or None (exact), got {shots}")
    return int(shots)


class Estimator:
    """Energy and gradient estimates for ``hamiltonian`` on the states of ``circuit``.

    Args:
        hamiltonian: a Hermitian ``SparsePauliOp`` on ``circuit.num_qubits`` qubits.
        circuit: a ``QuantumCircuit`` whose free Parameters are θ, in
            ``circuit.parameters`` order.
        shots: shots per measurement group per parameter point, or ``None`` for exact values;
            with ``allocation`` set, the total shots of one energy evaluation.
        allocation: ``None`` (``shots`` per group) or how a total is split over the groups:
            ``"uniform"``, ``"weighted"`` (∝ Σ|c|) or ``"variance"`` (∝ running σ_g
            estimates; optimal). See :mod:`.allocation`.
        grouping: ``"sorted_insertion"`` (default; fewer shots) or ``"dsatur"`` (fewer
            groups); see :mod:`.grouping`.
        backend: ``"statevector"`` (default), ``"aer"``, ``"fake_<device>"``,
            ``"ibm:<name>"``, ``"pennylane:<device>"`` or a SamplerV2-like object; see
            :mod:`.backends`. ``exact_energy`` always uses the noiseless statevector.
        backend_options: ``noise``, ``mitigation``, ``max_retries``, … (circuit backends).
        threads: CPU threads for simulation and sampling (default: all cores; a study
            with several worker processes gives each its share).
        seed: seed (or ``numpy.random.Generator``) of the sampling; same seed and same
            calls → identical results.
        device: ``"CPU"`` or ``"GPU"`` (needs qiskit-aer-gpu, see ``qvopt[gpu]``).
        ledger: a :class:`ShotLedger` to charge (shared by a whole run); a new one if None.
    """

    def __init__(self, hamiltonian: SparsePauliOp, circuit: QuantumCircuit,
                 shots: int | None = None, seed: int | np.random.Generator | None = None,
                 device: str = "CPU", ledger: ShotLedger | None = None,
                 allocation: str | None = None, grouping: str = "sorted_insertion",
                 backend="statevector", backend_options: dict | None = None,
                 threads: int | None = None):
        if not isinstance(hamiltonian, SparsePauliOp):
            raise TypeError(f"hamiltonian must be a qiskit SparsePauliOp, got "
                            f"{type(hamiltonian).__name__}")
        if not isinstance(circuit, QuantumCircuit):
            raise TypeError(f"circuit must be a qiskit QuantumCircuit, got "
                            f"{type(circuit).__name__}")
        if hamiltonian.num_qubits != circuit.num_qubits:
            raise ValueError(f"hamiltonian acts on {hamiltonian.num_qubits} qubits but the "
                             f"circuit has {circuit.num_qubits}")
        self.hamiltonian = hamiltonian
        self.circuit = circuit
        self.shots = validate_shots(shots)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.ledger = ledger if ledger is not None else ShotLedger()
        self.n_qubits = circuit.num_qubits
        self.n_params = circuit.num_parameters
        self.engine = AerStatevectorEngine(circuit, device=device, threads=threads)
        self.observable = SampledObservable(hamiltonian, grouping=grouping, threads=threads)
        self.grouped = self.observable.grouped
        self.allocator = None
        if allocation is not None:
            if self.shots is None:
                raise ValueError("allocation needs a total number of shots (shots=None is exact)")
            self.allocator = ShotAllocator(allocation, self.shots, self.grouped)
        self.backend_name = backend if isinstance(backend, str) else getattr(backend, "name",
                                                                             "custom")
        self.sampler = None
        if isinstance(backend, str) and backend == "statevector":
            if backend_options:
                raise ValueError("backend_options only apply to circuit backends "
                                 "(aer, fake_*, ibm:*, pennylane:*)")
        elif isinstance(backend, str) and backend.startswith("pennylane:"):
            from .pennylane_device import PennyLaneSampler

            self.sampler = PennyLaneSampler(circuit, hamiltonian, self.grouped,
                                            backend.split(":", 1)[1])
        else:
            if self.shots is None:
                raise ValueError(f"backend {self.backend_name!r} samples measurements: give "
                                 "shots (exact values need backend='statevector')")
            from .backends import CircuitSampler

            self.sampler = CircuitSampler(circuit, self.grouped, backend, backend_options,
                                          seed_source=self.rng)
            if self.sampler.calibration_spent:
                self.ledger.charge_total(2, self.sampler.calibration_spent, 0)
        self._group_values = None
        self._rules = None
        self._structure = None
        self._block_metric = None

    # ------------------------------------------------------------------ helpers
    @property
    def shots_used(self) -> int:
        """Total shots charged to this estimator's ledger."""
        return self.ledger.shots_used

    @property
    def shots_per_evaluation(self) -> int:
        """Shots one energy evaluation costs (0 in exact mode)."""
        if self.shots is None:
            return 0
        if self.allocator is not None:
            return self.allocator.total
        return self.shots * self.grouped.n_groups

    def group_shots(self) -> np.ndarray:
        """Shots each measurement group gets in the next energy evaluation."""
        if self.allocator is not None:
            return self.allocator.shots()
        return np.full(self.grouped.n_groups, self.shots or 0, dtype=np.int64)

    def predicted_stderr(self, theta) -> float | np.ndarray:
        """``sqrt(Σ_g σ_g²(θ) / N_g)`` with the exact group variances at θ and the current
        allocation: the standard error an energy estimate at θ will have (a reference; not
        charged)."""
        points, single = self._check_points(theta)
        variances = np.concatenate([self.observable.group_variances(states)
                                    for _, states in self.engine.iter_statevectors(points)])
        shots = self.group_shots()
        out = np.array([predicted_stderr(v, shots) for v in variances])
        return float(out[0]) if single else out

    def _check_points(self, theta) -> tuple[np.ndarray, bool]:
        arr = np.asarray(theta, dtype=float) if not isinstance(theta, np.ndarray) else theta
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"theta must be numeric, got {theta!r}") from exc
        single = arr.ndim == 1
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.n_params:
            raise ValueError(
                f"theta must have shape ({self.n_params},) or (batch, {self.n_params}) for "
                f"this circuit's {self.n_params} parameters, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError("theta contains NaN or infinite values")
        return np.atleast_2d(arr), single

    def _evaluate(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Energies and their variances at ``points`` (P, p); charges the ledger."""
        n_points = len(points)
        if self.shots is None:
            values = (self.sampler.exact(points) if self.sampler is not None
                      else self._exact(points))
            self.ledger.charge(0, 0, n_points)
            return values, np.zeros(n_points), 0
        if self.sampler is not None:
            return self._evaluate_on_backend(points)
        means = np.empty(n_points)
        variances = np.empty(n_points)
        shots = self.group_shots()
        per_shot = np.zeros(self.grouped.n_groups)
        for rows, states in self.engine.iter_statevectors(points):
            means[rows], variances[rows], chunk_var = self.observable.sample(
                states, shots, self.rng, group_variances=True)
            per_shot += chunk_var * (rows.stop - rows.start) / n_points
        if self.allocator is not None:
            self.allocator.update(per_shot)
        spent = self.ledger.charge_total(n_points * self.grouped.n_groups,
                                         n_points * int(shots.sum()), n_points)
        return means, variances, spent

    def _evaluate_on_backend(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Means and variances from measured counts (circuit or PennyLane backends)."""
        if self._group_values is None:
            mitigate = getattr(self.sampler, "mitigated_values", lambda v: v)
            self._group_values = [mitigate(g.values(self.n_qubits))
                                  for g in self.grouped.groups]
        shots = self.group_shots()
        counts = self.sampler.counts(points, shots)
        means = np.full(len(points), self.grouped.constant)
        variances = np.zeros(len(points))
        per_shot = np.zeros(self.grouped.n_groups)
        for k, (c, values) in enumerate(zip(counts, self._group_values, strict=True)):
            n = int(shots[k])
            mean = c @ values / n
            second = c @ values**2 / n
            var = np.maximum(second - mean**2, 0.0) / (n - 1) if n > 1 else np.nan * mean
            means += mean
            variances += var
            per_shot[k] = float(np.mean(var)) * n
        if self.allocator is not None:
            self.allocator.update(per_shot)
        spent = self.ledger.charge_total(len(points) * self.grouped.n_groups,
                                         len(points) * int(shots.sum()), len(points))
        return means, variances, spent

    def _exact(self, points: np.ndarray) -> np.ndarray:
        out = np.empty(len(points))
        for rows, states in self.engine.iter_statevectors(points):
            out[rows] = self.observable.exact(states)
        return out

    # ------------------------------------------------------------------ public API
    def energy(self, theta) -> Estimate:
        """Energy at θ (shape (p,)) or at each row of a batch (shape (B, p))."""
        points, single = self._check_points(theta)
        values, variances, spent = self._evaluate(points)
        stderr = np.sqrt(variances)
        if single:
            return Estimate(float(values[0]), float(stderr[0]), spent)
        return Estimate(values, stderr, spent)

    def exact_energy(self, theta) -> float | np.ndarray:
        """Noiseless ⟨ψ(θ)|H|ψ(θ)⟩; a reference value, not charged to the ledger."""
        points, single = self._check_points(theta)
        values = self._exact(points)
        return float(values[0]) if single else values

    def gradient(self, theta) -> Estimate:
        """Parameter-shift gradient at θ: all shifted points evaluated in one batch.

        ``stderr[i] = sqrt(Σ_k w_ik² Var E_k)``: the shifted energies are independent samples.
        """
        return self.evaluate(gradient_at=theta)[1]

    def value_and_gradient(self, theta) -> tuple[Estimate, Estimate]:
        """Energy at θ and the parameter-shift gradient, sampled in one batched call."""
        energies, gradient = self.evaluate(energies=theta, gradient_at=theta)
        return energies, gradient

    def evaluate(self, energies=None, gradient_at=None) -> tuple[Estimate | None,
                                                                 Estimate | None]:
        """Energies at ``energies`` (one point or a batch) and a gradient at ``gradient_at``.

        Everything is simulated and sampled in one batch (one Aer job). Returns
        ``(energy_estimate or None, gradient_estimate or None)``; each Estimate's ``shots``
        is what its own points cost.
        """
        blocks, single = [], True
        if energies is not None:
            e_points, single = self._check_points(energies)
            blocks.append(e_points)
        if gradient_at is not None:
            g_points, g_single = self._check_points(gradient_at)
            if not g_single:
                raise ValueError(f"gradient_at must be one parameter vector of shape "
                                 f"({self.n_params},), got shape {g_points.shape}")
            if self._rules is None:
                self._rules = shift_rules(self.circuit)
            shifted, weights = shifted_points(g_points[0], self._rules)
            blocks.append(shifted)
        if not blocks:
            return None, None
        values, variances, _ = self._evaluate(np.vstack(blocks))
        per_point = self.shots_per_evaluation
        energy = gradient = None
        n_e = 0
        if energies is not None:
            n_e = len(blocks[0])
            e_val, e_err = values[:n_e], np.sqrt(variances[:n_e])
            energy = (Estimate(float(e_val[0]), float(e_err[0]), per_point) if single
                      else Estimate(e_val, e_err, per_point * n_e))
        if gradient_at is not None:
            grad = weights @ values[n_e:]
            grad_err = np.sqrt((weights**2) @ variances[n_e:])
            gradient = Estimate(grad, grad_err, per_point * (len(values) - n_e))
        return energy, gradient

    # ------------------------------------------------------------------ fidelity and metric
    def fidelity(self, theta, others) -> Estimate:
        """``|⟨ψ(θ)|ψ(θ')⟩|²`` for each θ' in ``others`` (one point or a batch).

        Sampled as the compute–uncompute circuit ``U(θ')†U(θ)|0⟩`` measured ``shots`` times:
        the number of all-zeros outcomes is Binomial(shots, F); the estimate is its frequency
        and the variance ``F̂(1 − F̂)/(shots − 1)``. One circuit execution per θ'.
        """
        if self.sampler is not None:
            raise ValueError(f"fidelities are only available on the statevector backend, not "
                             f"{self.backend_name!r}")
        base, _ = self._check_points(theta)
        targets, single = self._check_points(others)
        state = self.engine.statevectors(base)[0]
        fids = np.empty(len(targets))
        for rows, states in self.engine.iter_statevectors(targets):
            fids[rows] = np.abs(states.conj() @ state) ** 2
        fids = np.clip(fids, 0.0, 1.0)
        if self.shots is None:
            self.ledger.charge(0, 0, len(targets))
            variances = np.zeros_like(fids)
            spent = 0
        else:
            counts = self.rng.binomial(self.shots, fids)
            fids = counts / self.shots
            variances = (fids * (1 - fids) / (self.shots - 1) if self.shots > 1
                         else np.full_like(fids, np.nan))
            spent = self.ledger.charge(len(targets), self.shots, len(targets))
        if single:
            return Estimate(float(fids[0]), float(np.sqrt(variances[0])), spent)
        return Estimate(fids, np.sqrt(variances), spent)

    def metric_cost(self, approx: str | None = None) -> int:
        """Shots one :meth:`metric` call charges (0 in exact mode)."""
        from .metric import CircuitStructure, SampledBlockMetric

        if self.shots is None:
            return 0
        if self._rules is None:
            self._rules = shift_rules(self.circuit)
        if approx is None:
            counts = [len(r.shifts) for r in self._rules]
            pairs = sum(counts[i] * counts[j] for i in range(len(counts))
                        for j in range(i, len(counts)))
            return pairs * self.shots
        if self._structure is None:
            self._structure = CircuitStructure(self.circuit)
        if self._block_metric is None:
            self._block_metric = SampledBlockMetric(self._structure)
        return self._block_metric.executions(approx) * self.shots

    def metric(self, theta, approx: str | None = None) -> Estimate:
        """Fubini–Study metric g(θ) (QFI/4), ``approx`` ∈ {None, "block-diag", "diag"}.

        Exact mode: exact full / block-diagonal / diagonal metric. With shots: block-diagonal
        and diagonal from sampled generator moments of each layer's prefix state; full from
        sampled fidelities and the double parameter-shift rule. See :mod:`.metric`.
        """
        from .metric import (APPROXIMATIONS, CircuitStructure, SampledBlockMetric,
                             exact_metric, fidelity_shift_points, metric_from_fidelities)

        if approx not in APPROXIMATIONS:
            raise ValueError(f"approx must be one of {list(APPROXIMATIONS)}, got {approx!r}")
        if self.sampler is not None:
            raise ValueError(f"the metric is only available on the statevector backend, not "
                             f"{self.backend_name!r}")
        points, single = self._check_points(theta)
        if not single:
            raise ValueError(f"metric needs one parameter vector of shape ({self.n_params},)")
        theta = points[0]
        if self._structure is None:
            self._structure = CircuitStructure(self.circuit)
        if self.shots is None:
            value = exact_metric(self._structure, theta, approx)
            return Estimate(value, np.zeros_like(value), 0)
        if approx is None:
            if self._rules is None:
                self._rules = shift_rules(self.circuit)
            shifted, terms = fidelity_shift_points(theta, self._rules)
            fids = self.fidelity(theta, shifted)
            value, variance = metric_from_fidelities(self.n_params, terms, fids.value,
                                                     fids.stderr**2)
            return Estimate(value, np.sqrt(variance), fids.shots)
        if self._block_metric is None:
            self._block_metric = SampledBlockMetric(self._structure)
        value, variance, executions = self._block_metric.estimate(theta, approx, self.shots,
                                                                  self.rng)
        spent = self.ledger.charge(executions, self.shots, 0)
        return Estimate(value, np.sqrt(variance), spent)
