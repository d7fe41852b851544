"""``Estimator``: a façade over a :class:`~.sampler.Sampler` for energies, gradients,
fidelities and the metric of ``⟨ψ(θ)|H|ψ(θ)⟩``, exact or sampled.

Exact mode (``shots=None``): ``E(θ) = ⟨ψ|H|ψ⟩``; ``stderr = 0``; no shots are charged.

Sampled mode: the sampler measures every measurement group ``g`` (QWC or fully
commuting, ``grouping``) at every point with ``N_g`` shots (``shots`` each, or a split
of the total ``shots`` when an allocation is set) and returns the group means ``m_g`` and
their variances; then

    Ê = c_I + Σ_g m_g,        stderr² = Σ_g Var(m_g) = Σ_g s_g² / N_g

Each (point, group) is one circuit execution of ``N_g`` shots on the
:class:`~.base.ShotLedger`. Gradients (:mod:`.parameter_shift`) are built on the same
sampler; fidelities and the metric (:mod:`.state_geometry`) on the noiseless reference
engine; what a request costs is priced by :mod:`.pricing`. Energies,
fidelities, metric shots and backend-job seeds use independent random streams
(:mod:`.random_streams`).

Engines: noiseless states come from the particle-number sector engine (:mod:`.sector`,
excitation-gate circuits such as UCCSD) or from Aer (:mod:`.statevector`, any circuit);
``engine="auto"`` picks the sector engine whenever it applies (see :func:`choose_engine`).
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import CheckpointError, InputError
from .allocation import ShotAllocator, predicted_stderr
from .base import Estimate, ShotLedger, as_points, validate_shots
from .engines import ENGINES, build_reference, choose_engine
from .grouping import GroupedHamiltonian
from .inputs import check_group_shots, check_problem
from .observable import SampledObservable
from .parameter_shift import (
    ShiftRule,
    curvature_from_energies,
    gradient_from_energies,
    points_per_parameter,
    shift_rules,
    shifted_points,
)
from .pricing import ShotPrices
from .random_streams import set_streams_state, spawn_streams, streams_state
from .registry import SamplerContext, make_sampler
from .request import Reply, Request
from .sampler import GroupMoments
from .state_geometry import StateGeometry
from .term_sampling import (
    TERM_SAMPLING,
    draw_group_shots,
    group_probabilities,
    weighted_random_energies,
)

__all__ = ["ENGINES", "Estimator", "choose_engine", "validate_shots"]


class Estimator:
    """Energy, gradient, fidelity and metric estimates for ``hamiltonian`` on ``circuit``.

    Args:
        hamiltonian: a Hermitian ``SparsePauliOp`` on ``circuit.num_qubits`` qubits.
        circuit: a ``QuantumCircuit`` whose free Parameters are θ, in
            ``circuit.parameters`` order.
        shots: shots per measurement group per parameter point (at most 10¹²), or ``None``
            for exact values; with ``allocation`` set, the total shots of one evaluation.
        allocation: ``None`` (``shots`` per group) or how a total is split over the groups:
            ``"uniform"``, ``"weighted"`` (∝ Σ|c|) or ``"variance"`` (∝ running σ_g
            estimates; optimal). See :mod:`.allocation`.
        grouping: qubit-wise commuting ``"sorted_insertion"`` (default) or ``"dsatur"``
            (fewer QWC groups), see :mod:`.grouping`; or ``"fc"``: fully commuting groups
            by sorted insertion, each measured after its diagonalizing Clifford (fewest
            groups; :mod:`.commuting`); or ``"fc_split"``: the same groups, each also
            measuring every term that commutes with all its members, with the coefficients
            of shared terms split between groups (fewest shots; :mod:`.splitting`). A
            :class:`~qvopt.config.RunConfig`'s ``"auto"`` chooses (see
            :func:`qvopt.run_defaults.default_grouping`). ``grouped``: the groups of
            ``hamiltonian`` when the caller already formed them
            (:func:`.partition.form_groups`), so they are not formed twice.
        backend: ``"statevector"`` (default), ``"aer"``, ``"fake_<device>"``,
            ``"ibm:<name>"``, ``"pennylane:<device>"`` or a SamplerV2-like object; see
            :mod:`.registry`. ``exact_energy`` always uses the noiseless statevector.
        backend_options: ``noise``, ``mitigation``, ``max_retries``, … (circuit backends).
        threads: CPU threads for Aer simulation and trie sampling (default: all cores); the
            sector engine runs single-threaded numpy.
        seed: int, None, ``numpy.random.SeedSequence`` or ``numpy.random.Generator``; the
            streams ``energy``, ``fidelity``, ``metric``, ``backend`` are spawned from it.
            Same seed and same calls → identical results.
        device: ``"CPU"`` or ``"GPU"`` (needs qiskit-aer-gpu, see ``qvopt[gpu]``).
        ledger: a :class:`ShotLedger` to charge (shared by a whole run); a new one if None.
        engine: how noiseless states are computed: ``"sector"`` (particle-number sector
            states of an excitation-gate circuit, :mod:`.sector`; CPU numpy), ``"aer"``
            (Aer statevectors, any circuit, ``device="GPU"``) or ``"auto"`` (default:
            ``"sector"`` when the circuit qualifies, ``backend="statevector"`` and
            ``device="CPU"``, else ``"aer"``). ``engine_name`` says which one runs. With a
            circuit backend the engine only serves exact references (``exact_energy``,
            ``predicted_stderr``).
    """

    def __init__(self, hamiltonian: SparsePauliOp, circuit: QuantumCircuit,
                 shots: int | None = None,
                 seed: int | np.random.SeedSequence | np.random.Generator | None = None,
                 device: str = "CPU", ledger: ShotLedger | None = None,
                 allocation: str | None = None, grouping: str = "sorted_insertion",
                 backend="statevector", backend_options: dict | None = None,
                 threads: int | None = None, engine: str = "auto",
                 grouped: GroupedHamiltonian | None = None):
        check_problem(hamiltonian, circuit)
        self.hamiltonian = hamiltonian
        self.circuit = circuit
        self.shots = validate_shots(shots)
        self._streams = spawn_streams(seed)
        self.ledger = ledger if ledger is not None else ShotLedger()
        self.n_qubits = circuit.num_qubits
        self.n_params = circuit.num_parameters
        self.engine_name = choose_engine(engine, circuit, backend, device)
        self.observable = SampledObservable(hamiltonian, grouping=grouping, threads=threads,
                                            grouped=grouped)
        self.engine, self.reference = build_reference(self.engine_name, circuit, hamiltonian,
                                                      self.observable, device, threads)
        self.grouped = self.observable.grouped
        self.allocator: ShotAllocator | None = None
        if allocation is not None:
            if self.shots is None:
                raise InputError("allocation needs a total number of shots (shots=None is exact)")
            self.allocator = ShotAllocator(allocation, self.shots, self.grouped)
        self.sampler = make_sampler(SamplerContext(
            backend, circuit, hamiltonian, self.reference, self.shots,
            dict(backend_options or {}), self._streams["backend"]))
        self.backend_name = backend if isinstance(backend, str) else getattr(backend, "name",
                                                                             "custom")
        calibration = getattr(self.sampler, "calibration_spent", 0)
        if calibration:
            self.ledger.charge_total(2, calibration, 0)
        self._rule_cache: list[ShiftRule] | None = None
        self._prices = ShotPrices(self.shots, self.grouped.n_groups, self.n_params,
                                  self.allocator is not None)
        self._geometry = StateGeometry(circuit, self.reference, self.shots)

    # ------------------------------------------------------------------ shots and state
    @property
    def shots_used(self) -> int:
        """Total shots charged to this estimator's ledger."""
        return self.ledger.shots_used

    @property
    def shots_per_evaluation(self) -> int:
        """Shots one energy evaluation costs (0 in exact mode)."""
        return self._prices.per_evaluation

    def group_shots(self, shots: int | None = None) -> np.ndarray:
        """Shots each measurement group gets in an evaluation with ``shots`` (default: the
        estimator's ``shots``; per group, or the total split by the allocation)."""
        shots = self.shots if shots is None else validate_shots(shots)
        if self.allocator is not None:
            return self.allocator.shots(shots)
        return np.full(self.grouped.n_groups, shots or 0, dtype=np.int64)

    def random_state(self) -> dict:
        """Every random stream's bit-generator state and the allocator's running variances,
        as JSON-serializable plain data (restore with :meth:`set_random_state`)."""
        variances = None if self.allocator is None else self.allocator.state()
        return {"streams": streams_state(self._streams), "allocator_variances": variances}

    def set_random_state(self, state: dict) -> None:
        """Restore what :meth:`random_state` captured: subsequent estimates are identical."""
        if not isinstance(state, dict) or "streams" not in state:
            raise CheckpointError(f"not an estimator random state: {state!r}")
        variances = state.get("allocator_variances")
        allocator = self.allocator
        if (variances is None) != (allocator is None):
            raise CheckpointError("random state and estimator disagree on the shot allocation")
        set_streams_state(self._streams, state["streams"])
        if variances is not None and allocator is not None:
            try:
                allocator.set_state(variances)
            except InputError as exc:
                raise CheckpointError(str(exc)) from None

    def reseed(self, seed) -> None:
        """Restart every random stream from ``seed`` (as a new ``Estimator(seed=seed)``);
        the allocator's learned variances and the ledger are kept."""
        self._streams = spawn_streams(seed)

    # ------------------------------------------------------------------ points
    def check_points(self, theta, name: str = "theta") -> tuple[np.ndarray, bool]:
        """``theta`` as a float array (P, p) and whether it was one point (shape (p,)).

        :class:`~qvopt.errors.InputError` naming ``name`` for a complex dtype (even with
        zero imaginary part), non-numeric entries, a shape other than (p,) or (B, p), NaN or
        infinite entries (see :func:`.base.as_points`).
        """
        return as_points(theta, self.n_params, name)

    def _check_point(self, theta, name: str) -> np.ndarray:
        points, single = self.check_points(theta, name)
        if not single:
            raise InputError(f"{name} must be one parameter vector of shape ({self.n_params},),"
                             f" got shape {points.shape}")
        return points[0]

    def shift_rules(self) -> list[ShiftRule]:
        """The parameter-shift rule of each parameter (read off the circuit once, cached)."""
        if self._rule_cache is None:
            self._rule_cache = shift_rules(self.circuit)
        return self._rule_cache

    # ------------------------------------------------------------------ sampling
    def _measure(self, points: np.ndarray, shots: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Energies, their variances and the shots of each point, in one sampler call;
        ``shots`` (P, G) defaults to :meth:`group_shots` for every point. Charges the ledger
        and lets the allocation learn."""
        n_points = len(points)
        if self.shots is None:
            self.ledger.charge(0, 0, n_points)
            return self.sampler.exact(points), np.zeros(n_points), np.zeros(n_points, np.int64)
        if shots is None:
            shots = np.tile(self.group_shots(), (n_points, 1))
        moments = self.sampler.sample(points, shots, self._streams[self.sampler.stream])
        if self.allocator is not None:
            # degrees of freedom of each group's pooled sample: N − 1 per point
            self.allocator.update(moments.per_shot_variances(),
                                  np.maximum(shots - 1, 0).sum(axis=0))
        self.ledger.charge_total(shots.size, int(shots.sum()), n_points)
        values, variances = moments.energies()
        return values, variances, shots.sum(axis=1)

    def _gradient_shots(self, gradient_shots) -> np.ndarray:
        """(p, G) group shots of each parameter's shifted points (``gradient_shots`` (p,) in
        the meaning of ``shots``; None: the estimator's shots)."""
        if gradient_shots is None:
            return np.tile(self.group_shots(), (self.n_params, 1))
        return np.stack([self.group_shots(s)
                         for s in self._prices.check_gradient_shots(gradient_shots)])

    def _check_term_sampling(self, term_sampling) -> None:
        """An InputError, before anything is sampled, for an unknown ``term_sampling`` or
        weighted random sampling on a sampler that extrapolates (ZNE)."""
        if term_sampling is None:
            return
        if term_sampling not in TERM_SAMPLING:
            raise InputError(f"term_sampling must be None or one of {list(TERM_SAMPLING)}, "
                             f"got {term_sampling!r}")
        if getattr(self.sampler, "zne", None) is not None:
            raise InputError(f"term_sampling={term_sampling!r} (optimizer rosalin) cannot be "
                             "combined with zero-noise extrapolation (mitigation 'zne')")

    def _measure_weighted_random(self, points: np.ndarray, totals: np.ndarray
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Energies, variances and shots of ``points`` (P, p), ``totals[k]`` shots each,
        spread over groups by weighted random sampling (:mod:`.term_sampling`). Groups that
        drew no shot are not executed; the allocation does not learn from these shots."""
        rng = self._streams[self.sampler.stream]
        probabilities = group_probabilities(self.grouped)
        counts = draw_group_shots(totals, probabilities, rng)
        moments = self.sampler.sample(points, counts, rng)
        self.ledger.charge_total(int(np.count_nonzero(counts)), int(counts.sum()), len(points))
        values, variances = weighted_random_energies(moments, probabilities)
        return values, variances, counts.sum(axis=1)

    def _batch(self, energies, gradient_at, gradient_shots=None, term_sampling=None):
        """(energy points, values, variances, shots), the gradient Estimate (or None) and
        the shifted points' (energies, variances) it came from (or None):
        every point sampled in one call (two with weighted random term sampling: the
        energies as usual, the shifted points with their drawn group counts)."""
        self._check_term_sampling(term_sampling)
        random_terms = term_sampling is not None and self.shots is not None
        blocks, shots = [], []
        if energies is not None:
            blocks.append(energies)
            shots.append(np.tile(self.group_shots(), (len(energies), 1)))
        if gradient_at is not None:
            rules = self.shift_rules()
            shifted, weights = shifted_points(gradient_at, rules)
            repeats = points_per_parameter(rules)
            if not random_terms:
                blocks.append(shifted)
                shots.append(np.repeat(self._gradient_shots(gradient_shots), repeats, axis=0))
        n_e = 0 if energies is None else len(energies)
        values, variances, spent = (self._measure(np.vstack(blocks), np.vstack(shots))
                                    if blocks else (np.empty(0),) * 3)
        gradient = shifted_energies = None
        if gradient_at is not None:
            g_values, g_variances, g_spent = (
                self._measure_weighted_random(shifted, np.repeat(
                    self._prices.gradient_totals(gradient_shots, term_sampling), repeats))
                if random_terms else (values[n_e:], variances[n_e:], spent[n_e:]))
            grad, var = gradient_from_energies(weights, g_values, g_variances)
            gradient = Estimate(grad, np.sqrt(var), int(g_spent.sum()))
            shifted_energies = (g_values, g_variances)
        return values[:n_e], variances[:n_e], spent[:n_e], gradient, shifted_energies

    # ------------------------------------------------------------------ energies
    def energy(self, theta, *, term_sampling: str | None = None) -> Estimate:
        """Energy at θ (shape (p,)) or at each row of a batch (shape (B, p)).

        ``term_sampling="weighted_random"``: each point's :attr:`shots_per_evaluation` shots
        go to groups drawn at random ∝ their coefficient norms (:mod:`.term_sampling`)
        instead of the fixed per-group split; exact mode ignores it.
        """
        points, single = self.check_points(theta)
        self._check_term_sampling(term_sampling)
        if term_sampling is not None and self.shots is not None:
            totals = np.full(len(points), self.shots_per_evaluation, dtype=np.int64)
            values, variances, spent = self._measure_weighted_random(points, totals)
        else:
            values, variances, spent = self._measure(points)
        return _energy_estimate(values, variances, spent, single)

    def exact_energy(self, theta) -> float | np.ndarray:
        """Noiseless ⟨ψ(θ)|H|ψ(θ)⟩ from the statevector; a reference, not charged."""
        points, single = self.check_points(theta)
        values = self.reference.exact(points)
        return float(values[0]) if single else values

    def predicted_stderr(self, theta) -> float | np.ndarray:
        """``sqrt(Σ_g σ_g²(θ) / N_g)`` with the exact group variances at θ and the current
        allocation: the standard error an energy estimate at θ will have (not charged)."""
        points, single = self.check_points(theta)
        shots = self.group_shots()
        out = np.array([predicted_stderr(v, shots)
                        for v in self.reference.group_variances(points)])
        return float(out[0]) if single else out

    def sample_groups(self, theta, group_shots) -> GroupMoments:
        """Per-group sample means and variances of the means at one point θ (shape (p,))
        with an explicit shot count for every measurement group.

        ``group_shots``: (G,) positive ints, ``G = self.grouped.n_groups`` (any mode, exact
        estimators included: the shots are explicit). Returns a :class:`GroupMoments` with
        arrays of shape (1, G): ``means[0, g] = m_g``, ``variances[0, g] = s²_g / N_g``,
        ``shots[0, g] = N_g`` and ``constant = c_I``, so that ``moments.energies()`` gives
        ``(c_I + Σ_g m_g, Σ_g Var m_g)``. Drawn from the sampler's stream (``energy`` on
        the statevector backend, as energies are) and charged to the ledger as G circuit
        executions of ``Σ_g N_g`` shots in total (one evaluation); the shot allocation does
        not learn from it. Works on every backend.
        """
        point = self._check_point(theta, "theta")
        shots = check_group_shots(group_shots, self.grouped.n_groups)
        moments = self.sampler.sample(point[None, :], shots[None, :],
                                      self._streams[self.sampler.stream])
        self.ledger.charge_total(shots.size, int(shots.sum()), 1)
        return moments

    def gradient(self, theta, *, term_sampling: str | None = None) -> Estimate:
        """Parameter-shift gradient at θ: all shifted points evaluated in one batch.

        ``stderr[i] = sqrt(Σ_k w_ik² Var E_k)``: the shifted energies are independent samples.
        ``term_sampling``: as in :meth:`energy`, for every shifted point.
        """
        return _given(self.evaluate(gradient_at=theta, term_sampling=term_sampling)[1])

    def value_and_gradient(self, theta) -> tuple[Estimate, Estimate]:
        """Energy at θ and the parameter-shift gradient, sampled in one batched call."""
        energy, gradient = self.evaluate(energies=theta, gradient_at=theta)
        return _given(energy), _given(gradient)

    def evaluate(self, energies=None, gradient_at=None, term_sampling: str | None = None
                 ) -> tuple[Estimate | None, Estimate | None]:
        """Energies at ``energies`` (one point or a batch) and a gradient at ``gradient_at``,
        all sampled in one sampler call (the gradient's shifted points with
        ``term_sampling``, see :meth:`gradient`). Each Estimate's ``shots`` is what its
        points cost."""
        single = True
        if energies is not None:
            energies, single = self.check_points(energies)
        if gradient_at is not None:
            gradient_at = self._check_point(gradient_at, "gradient_at")
        if energies is None and gradient_at is None:
            return None, None
        values, variances, spent, gradient, _ = self._batch(energies, gradient_at,
                                                            term_sampling=term_sampling)
        energy = (None if energies is None
                  else _energy_estimate(values, variances, spent, single))
        return energy, gradient

    # ------------------------------------------------------------------ requests
    def cost(self, request: Request) -> int:
        """Shots :meth:`answer` will charge for ``request``, the energy at x included
        (priced by :meth:`.pricing.ShotPrices.request`)."""
        return self._prices.request(request, self.shift_rules, self.metric_cost)

    def answer(self, x, request: Request) -> Reply:
        """Evaluate ``request`` plus the energy at ``x``: the energy at x, the requested
        energies and every shifted point of the gradient (with ``request.gradient_shots``)
        in ONE sampler call; then the metric and the fidelities to x. The ledger grows by
        exactly :meth:`cost`."""
        x = self._check_point(x, "x")
        points = x[None, :]
        if request.energies is not None:
            points = np.vstack([points, self.check_points(request.energies, "energies")[0]])
        g_point = (None if request.gradient is None
                   else self._check_point(request.gradient, "gradient"))
        values, variances, spent, gradient, shifted_energies = self._batch(
            points, g_point, request.gradient_shots, request.term_sampling)
        value = _energy_estimate(values[:1], variances[:1], spent[:1], True)
        curvature = None
        if g_point is not None and np.array_equal(g_point, x):
            curvature = self._curvature(value, variances[0], *shifted_energies)
        others = (None if request.energies is None
                  else _energy_estimate(values[1:], variances[1:], spent[1:], False))
        metric = (None if request.metric is None
                  else self.metric(request.metric, approx=request.metric_approx))
        fidelities = (None if request.fidelities is None
                      else self.fidelity(x, np.atleast_2d(request.fidelities)))
        return Reply(value=value, energies=others, gradient=gradient, metric=metric,
                     fidelities=fidelities, curvature=curvature)

    def _curvature(self, value: Estimate, variance: float, shifted: np.ndarray,
                   shifted_variances: np.ndarray) -> Estimate:
        """Diagonal curvature ``∂²E/∂θ_i²`` at x from the gradient's shifted energies and
        the energy at x (:func:`.parameter_shift.curvature_from_energies`); charges
        nothing."""
        curvature, curvature_variance = curvature_from_energies(
            self.shift_rules(), float(value.value), variance, shifted, shifted_variances)
        return Estimate(curvature, np.sqrt(curvature_variance), 0)

    # ------------------------------------------------------------------ fidelity and metric
    def _require_statevector(self, what: str) -> None:
        if self.sampler is not self.reference:
            raise InputError(f"{what} only available on the statevector backend, not "
                             f"{self.backend_name!r}")

    def fidelity(self, theta, others) -> Estimate:
        """``|⟨ψ(θ)|ψ(θ')⟩|²`` for each θ' in ``others`` (one point or a batch).

        Sampled as the compute–uncompute circuit ``U(θ')†U(θ)|0⟩`` measured ``shots`` times
        (see :mod:`.fidelity`): ``F̂ = k/shots``, variance ``F̂(1 − F̂)/(shots − 1)``. One
        circuit execution per θ', drawn from the ``fidelity`` stream.
        """
        self._require_statevector("fidelities are")
        base = self._check_point(theta, "theta")
        targets, single = self.check_points(others, "others")
        return self._geometry.fidelity(base, targets, single, self._streams["fidelity"],
                                       self.ledger)

    def metric_cost(self, approx: str | None = None) -> int:
        """Shots one :meth:`metric` call charges (0 in exact mode)."""
        return self._geometry.metric_cost(approx, self.shift_rules())

    def metric(self, theta, approx: str | None = None) -> Estimate:
        """Fubini–Study metric g(θ) (QFI/4), ``approx`` ∈ {None, "block-diag", "diag"}.

        Exact mode: exact full / block-diagonal / diagonal metric. With shots: block-diagonal
        and diagonal from sampled generator moments of each layer's prefix state; full from
        sampled fidelities and the double parameter-shift rule (see :mod:`.metric`), drawn
        from the ``metric`` stream.
        """
        self._require_statevector("the metric is")
        point = self._check_point(theta, "theta")
        return self._geometry.metric(point, approx, self._streams["metric"],
                                     self.shift_rules(), self.ledger)


def _energy_estimate(values, variances, spent, single: bool) -> Estimate:
    stderr = np.sqrt(variances)
    if single:
        return Estimate(float(values[0]), float(stderr[0]), int(spent[0]))
    return Estimate(values, stderr, int(np.sum(spent)))


def _given(estimate: Estimate | None) -> Estimate:
    """``estimate``, which :meth:`Estimator.evaluate` returns whenever its points were
    given; an InputError for a missing point (``theta=None``)."""
    if estimate is None:
        raise InputError("theta must be one parameter vector, got None")
    return estimate
