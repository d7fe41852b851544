"""iCANS: individual Coupled Adaptive Number of Shots (Kübler et al., Quantum 4, 263 (2020)).

Gradient descent whose every component ``i`` is estimated with its own number of shots
``s_i``, chosen to maximise the expected decrease of ``E`` per shot. Step ``t`` (from 0),
with ``g`` the parameter-shift gradient measured with the shots ``s`` chosen at ``t − 1``
and ``S_i = s_i · stderr(g_i)²`` its per-shot variance (``Var g_i = S_i / s_i``):

    θ_i ← θ_i − α_i g_i
    χ_i ← μ χ_i + (1 − μ) g_i,         ξ_i ← μ ξ_i + (1 − μ) S_i
    χ̂_i = χ_i / (1 − μ^{t+1}),         ξ̂_i = ξ_i / (1 − μ^{t+1})         (bias correction)
    s_i ← ⌈ 2Lα / (2 − Lα) · ξ̂_i / (χ̂_i² + b μ^t) ⌉
    γ_i = [ (α − Lα²/2) χ̂_i² − Lα² ξ̂_i / (2 s_i) ] / s_i               (gain per shot)

* **iCANS1** (``variant="icans1"``): ``s ← clip(s, s_min, s_{argmax γ})``; ``α_i = α``.
* **iCANS2** (``variant="icans2"``): the same cap ``s_max = s_{argmax γ}``, but a component
  whose optimal count exceeds it keeps ``s_max`` shots and takes the learning rate for
  which ``s_max`` *is* optimal, ``α_i = 2 s_max c_i / (L (2ξ̂_i + s_max c_i))`` with
  ``c_i = χ̂_i² + bμ^t`` (the shot rule solved for α); the others keep ``α``.

``s_i`` is the shot count in the estimator's meaning (per measurement group per shifted
point, or per evaluation with an allocation) and is sent as ``Request.gradient_shots``;
the first gradient uses ``s_min`` for every component. ``max_shots`` (optional) caps every
``s_i``. A component whose variance comes back undefined (``nan``: a group with one shot)
keeps its previous ξ. In exact mode (stderr 0) every ``s_i`` stays ``s_min``.

**Lipschitz constant and learning rate.** The analysis needs ``∇E`` to be ``L``-Lipschitz
and ``α < 2/L``. For gates ``exp(−iθG)`` whose generator spectrum spans 1 (Pauli
rotations, Givens excitations) ``|∂²E| ≤ ‖H − c₀I‖ ≤ Σ_{k≠0} |c_k|`` (coefficients of the
non-identity Pauli terms): :func:`lipschitz_bound`. The optimizer does not see the
Hamiltonian, so: ``lipschitz`` given → used (``lr`` defaults to ``1/L``); ``lipschitz``
None and ``lr`` given → ``L = 1/lr`` (the step implies that curvature; the shot prefactor
``2Lα/(2 − Lα)`` is then 2); both None → ``lr = 0.1``, ``L = 10``. The VQE driver fills
``lipschitz`` from the problem via :func:`qvopt.optimizers.registry.problem_options`.

**Measured curvature** (``lipschitz="measured"``, the VQE default). A constant ``L`` tuned
on one molecule is wrong on the next (UCCSD's largest curvature at the MP2 start: H2 0.8,
lih_fc 0.54, lih 3.2, beh2 5.7, h2o 22 Ha/rad²; ``α = 0.5`` diverges on water). Instead
each component gets its own smoothness constant from the diagonal curvature the gradient's
shifted energies measure at no extra cost (``Reply.curvature``, ``h_i ± σ_i``):

    η_i ← ν η_i + (1 − ν) h_i,    η̂_i = η_i / (1 − ν^{t+1})          (ν = 0.9)
    L_i = max(η̂_i, 2σ_i, 0.02 · max_j |η̂_j|),      α_i = β ρ_i w_i / L_i,
    w_i = χ̂_i² / (χ̂_i² + ξ̂_i / s_i)

(``β`` = ``step_fraction``, default 0.5; ``ρ_i`` = 1, or iCANS2's reduction below; ``w_i``
shrinks a noise-dominated component: ``α g²/(L(g² + σ²))`` is the step that maximises the
expected decrease along a coordinate with a gradient of variance ``σ²``, and keeps flat,
noisy directions from taking long steps on noise; 1 in exact mode). The
largest diagonal curvature matched the Hessian's largest eigenvalue within 13% on all six
shipped molecules, so ``β < 2`` keeps every step stable to second order. With ``α_i L_i
= β`` the shot rule and iCANS2's rate become ``s_i = 2β/(2 − β) · ξ̂_i / c_i`` and
``ρ_i = 2 s_max c_i / (β (2ξ̂_i + s_max c_i))``, and the gain per shot
``γ_i = α_i [(1 − β/2) χ̂_i² − β ξ̂_i / (2 s_i)] / s_i`` (for a constant ``L`` this is
the rule above with ``β = αL``). ``state.rates`` holds ``ρ`` in this mode (``α`` with a
constant ``L``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .ask_tell import Reply, Request, answered
from .base import check_number

DEFAULT_LR = 0.1
MEASURED = "measured"
CURVATURE_DECAY = 0.9  # ν: running average of the measured curvature
CURVATURE_FLOOR = 0.02  # L_i ≥ this × the largest measured curvature


class CANSState(NamedTuple):
    """State of iCANS/gCANS: iterate, running averages, shots and rates for the next step."""

    x: np.ndarray
    chi: np.ndarray  # running average of g (not bias-corrected)
    xi: np.ndarray  # running average of the per-shot variance S
    shots: np.ndarray  # int shots per component for the next gradient
    rates: np.ndarray  # learning rate per component (measured curvature: the factor ρ)
    step: int
    curvature: np.ndarray  # running average η of the measured curvature (measured mode)


def lipschitz_bound(hamiltonian: SparsePauliOp) -> float:
    """``Σ |c_k|`` over the non-identity Pauli terms: a bound on ``|∂²E/∂θ²|`` (and the
    Lipschitz constant iCANS/gCANS use) for gates whose generator spectrum spans 1."""
    paulis = hamiltonian.paulis
    identity = ~(paulis.x.any(axis=1) | paulis.z.any(axis=1))
    return float(np.sum(np.abs(hamiltonian.coeffs[~identity])))


def resolve_rate(lr: float | None, lipschitz: float | None) -> tuple[float, float]:
    """``(α, L)`` from the options (see the module docstring); checks ``α L < 2``."""
    if lipschitz is None:
        lr = DEFAULT_LR if lr is None else lr
        lipschitz = 1.0 / lr
    elif lr is None:
        lr = 1.0 / lipschitz
    if lr * lipschitz >= 2.0:
        raise InputError(f"option lr must be < 2/lipschitz = {2.0 / lipschitz:g} (the "
                         f"shot rule needs α L < 2), got {lr!r}")
    return lr, lipschitz


def _signal_fraction(chi_hat: np.ndarray, xi_hat: np.ndarray, shots: np.ndarray
                     ) -> np.ndarray:
    """``w_i = χ̂_i² / (χ̂_i² + ξ̂_i / s_i)``: ``g²/(g² + σ²)`` with the running average
    ``χ̂`` for ``g`` and ``ξ̂/s`` for the variance σ² of this gradient.
    ``α g²/(L(g² + σ²))`` is the step that maximises the expected decrease along a
    coordinate of curvature ``L`` with a gradient of variance ``σ²``, relative to
    ``α = 1/L`` (1 when exact; 0/0 → 0). (The unbiased ``max(χ̂² − ξ̂/s, 0)/χ̂²`` was
    measured too: it stops noise-dominated components for good, as χ̂ averages past
    gradients while ξ̂/s is one gradient's noise — H2 ended 1.4–2.5 mHa off in 3 seeds.)"""
    signal = chi_hat**2
    noise = np.where(np.isfinite(xi_hat), xi_hat, 0.0) / shots
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(signal + noise > 0, signal / (signal + noise), 0.0)


class _CoupledAdaptiveShots:
    """What iCANS and gCANS share: the ask/tell loop, the averages, the validation."""

    name = "cans"

    def __init__(self, lr: float | None = None, lipschitz: float | str | None = None,
                 min_shots: int = 2, max_shots: int | None = None, mu: float = 0.99,
                 b: float = 1e-6, step_fraction: float = 0.5):
        self.measured = lipschitz == MEASURED
        if self.measured and lr is not None:
            raise InputError("option lr does not apply with lipschitz='measured' (the step "
                             "is step_fraction / L_i per component): give step_fraction")
        lr = check_number("lr", lr, 0.0, low_open=True, none_ok=True)
        bound: float | None = None if self.measured else check_number(
            "lipschitz", lipschitz, 0.0, low_open=True, none_ok=True)
        self.min_shots = check_number("min_shots", min_shots, 2, integer=True)
        self.max_shots = check_number("max_shots", max_shots, self.min_shots, integer=True,
                                      none_ok=True)
        self.mu = check_number("mu", mu, 0.0, 1.0, high_open=True)
        self.b = check_number("b", b, 0.0)
        self.step_fraction = check_number("step_fraction", step_fraction, 0.0, 2.0,
                                          low_open=True, high_open=True)
        self.lr: float | None  # None with lipschitz="measured" (no constant rate)
        self.lipschitz: float | str
        if self.measured:
            self.lr, self.lipschitz = None, MEASURED
        else:
            self.lr, self.lipschitz = resolve_rate(lr, bound)
        self.options = {"lr": lr, "lipschitz": lipschitz if self.measured else bound,
                        "min_shots": self.min_shots, "max_shots": self.max_shots, "mu": self.mu,
                        "b": self.b, "step_fraction": self.step_fraction}

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> CANSState:
        x0 = np.array(x0, dtype=float)
        p = len(x0)
        return CANSState(x0, np.zeros(p), np.zeros(p), np.full(p, self.min_shots, dtype=np.int64),
                         np.full(p, 1.0 if self.measured else self._constant_rate()[0]), 0,
                         np.zeros(p))

    def _constant_rate(self) -> tuple[float, float]:
        """``(α, L)``: the learning rate and the Lipschitz constant when ``L`` is a number
        (not ``lipschitz="measured"``)."""
        lr, lipschitz = self.lr, self.lipschitz
        if lr is None or isinstance(lipschitz, str):
            raise InputError(f"{self.name}: no constant learning rate with "
                             "lipschitz='measured'")
        return lr, lipschitz

    @property
    def beta(self) -> float:
        """``β = α L``: ``step_fraction`` with measured curvature, else ``lr · lipschitz``."""
        if self.measured:
            return self.step_fraction
        lr, lipschitz = self._constant_rate()
        return lr * lipschitz

    def step_sizes(self, state: CANSState, reply: Reply) -> tuple[np.ndarray, np.ndarray]:
        """``(α, η)``: the learning rate per component before iCANS2's factor ``ρ`` and the
        new running average of the curvature (unchanged with a constant ``L``; see the
        module docstring)."""
        if not self.measured:
            return np.full(len(state.x), self._constant_rate()[0]), state.curvature
        if reply.curvature is None:
            raise InputError(f"{self.name}: lipschitz='measured' needs the diagonal curvature "
                             "in each reply (the VQE estimator measures it with the gradient); "
                             "give a number instead")
        h = np.asarray(reply.curvature.value, dtype=float)
        sigma = np.nan_to_num(np.asarray(reply.curvature.stderr, dtype=float), nan=0.0)
        # a component measured as NaN keeps its running average (as ξ does)
        eta = np.where(np.isfinite(h),
                       CURVATURE_DECAY * state.curvature + (1 - CURVATURE_DECAY) * h,
                       state.curvature)
        eta_hat = eta / (1.0 - CURVATURE_DECAY ** (state.step + 1))
        scale = float(np.max(np.abs(eta_hat)))
        if scale == 0.0:  # no curvature measured at all: no step on no information
            return np.zeros(len(eta)), eta
        # the floor is relative to the largest |curvature|: a concave or flat direction
        # steps as if its curvature were 2% of the largest (never an unbounded step)
        lipschitz = np.maximum(np.maximum(eta_hat, 2 * sigma), CURVATURE_FLOOR * scale)
        return self.step_fraction / lipschitz, eta

    def ask(self, state: CANSState) -> Request:
        return Request(gradient=state.x, gradient_shots=np.asarray(state.shots, dtype=np.int64))

    def params(self, state: CANSState) -> np.ndarray:
        return state.x

    def tell(self, state: CANSState, reply: Reply) -> CANSState:
        gradient = answered(reply.gradient, "gradient")
        grad = np.asarray(gradient.value, dtype=float)
        stderr = np.asarray(gradient.stderr, dtype=float)
        per_shot = state.shots * stderr**2  # S_i: Var g_i = S_i / s_i
        alpha, curvature = self.step_sizes(state, reply)
        mu, t = self.mu, state.step
        chi = mu * state.chi + (1 - mu) * grad
        xi = np.where(np.isfinite(per_shot), mu * state.xi + (1 - mu) * per_shot, state.xi)
        correction = 1.0 - mu ** (t + 1)
        if self.measured:
            step = alpha * state.rates * _signal_fraction(chi / correction, xi / correction,
                                                          state.shots)
        else:
            step = state.rates
        x = state.x - step * grad
        shots, factors = self.next_shots(chi / correction, xi / correction, t, alpha)
        rates = factors if self.measured else alpha * factors
        return CANSState(x, chi, xi, shots, rates, t + 1, curvature)

    def _ceil_shots(self, raw: np.ndarray) -> np.ndarray:
        """``⌈raw⌉`` as int64 in ``[s_min, max_shots]``; ``nan`` (0/0) → ``s_min``, ``inf`` →
        the cap (``max_shots``, or 10⁹ without one)."""
        high = self.max_shots if self.max_shots is not None else 10**9
        raw = np.where(np.isnan(raw), self.min_shots, raw)
        return np.clip(np.ceil(np.minimum(raw, high)), self.min_shots, high).astype(np.int64)

    def next_shots(self, chi_hat: np.ndarray, xi_hat: np.ndarray, t: int, alpha: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Shots per component for the next gradient and the rate factors ``ρ`` (α_i is
        this step's rate per component, before ``ρ``)."""
        raise NotImplementedError


class ICANS(_CoupledAdaptiveShots):
    """iCANS1 / iCANS2 (see the module docstring for the update equations)."""

    name = "icans"

    def __init__(self, lr: float | None = None, lipschitz: float | str | None = None,
                 min_shots: int = 2, max_shots: int | None = None, mu: float = 0.99,
                 b: float = 1e-6, variant: str = "icans1", step_fraction: float = 0.5):
        if variant not in ("icans1", "icans2"):
            raise InputError(f"option variant must be 'icans1' or 'icans2', got {variant!r}")
        super().__init__(lr, lipschitz, min_shots, max_shots, mu, b, step_fraction)
        self.variant = variant
        self.options["variant"] = variant

    def next_shots(self, chi_hat, xi_hat, t, alpha):
        beta = self.beta
        signal = chi_hat**2 + self.b * self.mu**t  # c_i
        with np.errstate(divide="ignore", invalid="ignore"):
            optimal = 2 * beta / (2 - beta) * xi_hat / signal
        shots = self._ceil_shots(optimal)
        gain = alpha * ((1 - beta / 2) * chi_hat**2 - beta * xi_hat / (2 * shots)) / shots
        s_max = max(int(shots[int(np.argmax(gain))]), self.min_shots)
        capped = np.minimum(shots, s_max)
        factors = np.ones(len(shots))
        if self.variant == "icans2":
            over = shots > s_max
            c = signal[over]
            factors[over] = 2 * s_max * c / (beta * (2 * xi_hat[over] + s_max * c))
        return capped, factors


class Rosalin(ICANS):
    """Rosalin (Arrasmith et al., arXiv:2004.06252): the iCANS shot rule with weighted
    random operator sampling.

    The updates are iCANS's (module docstring; ``variant`` "icans1" as in the paper, or
    "icans2"); the difference is how a gradient component's ``s_i`` shots are measured.
    Each shifted point of parameter ``i`` gets ``s_i`` shots *in total*, and every shot
    picks a measurement group at random with probability ``p_g ∝ Σ_{k∈g} |c_k|``
    (``Request.term_sampling = "weighted_random"``, :mod:`qvopt.estimation.term_sampling`).
    The estimate stays unbiased with fewer shots than groups, so ``s_i`` can follow the
    shot rule down to ``min_shots`` (default 2) instead of one shot per group. (Through
    ``qvopt.vqe`` the problem sets ``min_shots`` to 12 per group in total, which measured
    better on lih_fc than small first gradients; pass ``min_shots`` to go lower.)
    """

    name = "rosalin"

    def ask(self, state: CANSState) -> Request:
        return Request(gradient=state.x, gradient_shots=np.asarray(state.shots, dtype=np.int64),
                       term_sampling="weighted_random")
