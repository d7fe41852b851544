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
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from ..errors import InputError
from .ask_tell import Reply, Request
from .base import check_number

DEFAULT_LR = 0.1


class CANSState(NamedTuple):
    """State of iCANS/gCANS: iterate, running averages, shots and rates for the next step."""

    x: np.ndarray
    chi: np.ndarray  # running average of g (not bias-corrected)
    xi: np.ndarray  # running average of the per-shot variance S
    shots: np.ndarray  # int shots per component for the next gradient
    rates: np.ndarray  # learning rate per component for the next step
    step: int


def lipschitz_bound(hamiltonian: SparsePauliOp) -> float:
    """``Σ |c_k|`` over the non-identity Pauli terms: a bound on ``|∂²E/∂θ²|`` (and the
    Lipschitz constant iCANS/gCANS use) for gates whose generator spectrum spans 1."""
    paulis = hamiltonian.paulis
    identity = ~(paulis.x.any(axis=1) | paulis.z.any(axis=1))
    return float(np.sum(np.abs(hamiltonian.coeffs[~identity])))


def resolve_rate(lr: float | None, lipschitz: float | None) -> tuple[float, float]:
    """``(α, L)`` from the options (see the module docstring); checks ``α L < 2``."""
    if lr is None and lipschitz is None:
        lr = DEFAULT_LR
    if lipschitz is None:
        lipschitz = 1.0 / lr
    if lr is None:
        lr = 1.0 / lipschitz
    if lr * lipschitz >= 2.0:
        raise InputError(f"option lr must be < 2/lipschitz = {2.0 / lipschitz:g} (the "
                         f"shot rule needs α L < 2), got {lr!r}")
    return lr, lipschitz


class _CoupledAdaptiveShots:
    """What iCANS and gCANS share: the ask/tell loop, the averages, the validation."""

    name = "cans"

    def __init__(self, lr: float | None = None, lipschitz: float | None = None,
                 min_shots: int = 2, max_shots: int | None = None, mu: float = 0.99,
                 b: float = 1e-6):
        lr = check_number("lr", lr, 0.0, low_open=True, none_ok=True)
        lipschitz = check_number("lipschitz", lipschitz, 0.0, low_open=True, none_ok=True)
        self.min_shots = check_number("min_shots", min_shots, 2, integer=True)
        self.max_shots = check_number("max_shots", max_shots, self.min_shots, integer=True,
                                      none_ok=True)
        self.mu = check_number("mu", mu, 0.0, 1.0, high_open=True)
        self.b = check_number("b", b, 0.0)
        self.lr, self.lipschitz = resolve_rate(lr, lipschitz)
        self.options = {"lr": lr, "lipschitz": lipschitz, "min_shots": self.min_shots,
                        "max_shots": self.max_shots, "mu": self.mu, "b": self.b}

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> CANSState:
        x0 = np.array(x0, dtype=float)
        p = len(x0)
        return CANSState(x0, np.zeros(p), np.zeros(p), np.full(p, self.min_shots, dtype=np.int64),
                         np.full(p, self.lr), 0)

    def ask(self, state: CANSState) -> Request:
        return Request(gradient=state.x, gradient_shots=np.asarray(state.shots, dtype=np.int64))

    def params(self, state: CANSState) -> np.ndarray:
        return state.x

    def tell(self, state: CANSState, reply: Reply) -> CANSState:
        grad = np.asarray(reply.gradient.value, dtype=float)
        stderr = np.asarray(reply.gradient.stderr, dtype=float)
        per_shot = state.shots * stderr**2  # S_i: Var g_i = S_i / s_i
        x = state.x - state.rates * grad
        mu, t = self.mu, state.step
        chi = mu * state.chi + (1 - mu) * grad
        xi = np.where(np.isfinite(per_shot), mu * state.xi + (1 - mu) * per_shot, state.xi)
        correction = 1.0 - mu ** (t + 1)
        shots, rates = self.next_shots(chi / correction, xi / correction, t)
        return CANSState(x, chi, xi, shots, rates, t + 1)

    def _ceil_shots(self, raw: np.ndarray) -> np.ndarray:
        """``⌈raw⌉`` as int64 in ``[s_min, max_shots]``; ``nan`` (0/0) → ``s_min``, ``inf`` →
        the cap (``max_shots``, or 10⁹ without one)."""
        high = self.max_shots if self.max_shots is not None else 10**9
        raw = np.where(np.isnan(raw), self.min_shots, raw)
        return np.clip(np.ceil(np.minimum(raw, high)), self.min_shots, high).astype(np.int64)

    def next_shots(self, chi_hat: np.ndarray, xi_hat: np.ndarray, t: int
                   ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class ICANS(_CoupledAdaptiveShots):
    """iCANS1 / iCANS2 (see the module docstring for the update equations)."""

    name = "icans"

    def __init__(self, lr: float | None = None, lipschitz: float | None = None,
                 min_shots: int = 2, max_shots: int | None = None, mu: float = 0.99,
                 b: float = 1e-6, variant: str = "icans1"):
        if variant not in ("icans1", "icans2"):
            raise InputError(f"option variant must be 'icans1' or 'icans2', got {variant!r}")
        super().__init__(lr, lipschitz, min_shots, max_shots, mu, b)
        self.variant = variant
        self.options["variant"] = variant

    def next_shots(self, chi_hat, xi_hat, t):
        alpha, lip = self.lr, self.lipschitz
        curvature = chi_hat**2 + self.b * self.mu**t
        with np.errstate(divide="ignore", invalid="ignore"):
            optimal = 2 * lip * alpha / (2 - lip * alpha) * xi_hat / curvature
        shots = self._ceil_shots(optimal)
        gain = ((alpha - lip * alpha**2 / 2) * chi_hat**2
                - lip * alpha**2 * xi_hat / (2 * shots)) / shots
        s_max = max(int(shots[int(np.argmax(gain))]), self.min_shots)
        capped = np.minimum(shots, s_max)
        rates = np.full(len(shots), alpha)
        if self.variant == "icans2":
            over = shots > s_max
            c = curvature[over]
            rates[over] = 2 * s_max * c / (lip * (2 * xi_hat[over] + s_max * c))
        return capped, rates


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
