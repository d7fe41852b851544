"""SPSA and its second-order variants, as ask/tell optimizers.

First order (Spall, IEEE TAC 37, 332 (1992); gains from Spall, IEEE TAES 34, 817 (1998)):

    a_k = a / (A + k + 1)^α,    c_k = c / (k + 1)^γ,     α = 0.602, γ = 0.101
    ĝ_k = (1/R) Σ_r [E(θ + c_kΔ_r) − E(θ − c_kΔ_r)] / (2c_k) · Δ_r     (Δ_r ∈ {±1}^p)
    θ_{k+1} = θ_k − a_k ĝ_k

``R = resamplings``. ``k`` counts completed steps (from 0).

* **Calibration** (``a=None``): before the first step, ``calibration_steps`` random Δ give
  ``m = mean |E(θ + cΔ) − E(θ − cΔ)| / (2c)``, the typical size of a component of ĝ, and
  ``a = target_step · (A + 1)^α / m`` so that the first step moves each parameter by about
  ``target_step``.
* **Blocking**: a candidate θ' is accepted only if ``E(θ') < E(θ) + tol``, where
  ``tol = allowed_increase`` or, by default, twice the standard error of the difference of
  the two (independent) energy estimates. The check costs one extra round (one energy).
* **2-SPSA** (Spall, IEEE TAC 45, 1839 (2000)): with a second perturbation Δ̃ and
  ``c̃_k = c_k`` (``hessian_c_factor`` scales it),
  ``d = [E(θ+cΔ+c̃Δ̃) − E(θ+cΔ)] − [E(θ−cΔ+c̃Δ̃) − E(θ−cΔ)]``,
  ``Ĥ = d / (2 c c̃) · (ΔΔ̃ᵀ + Δ̃Δᵀ) / 2``, averaged ``H̄_k = (k H̄_{k−1} + Ĥ_k)/(k+1)``;
  the step is ``a_k (√(H̄ᵀH̄) + βI)⁻¹ ĝ`` (β = ``regularization``).
* **QN-SPSA** (Gacon et al., Quantum 5, 567 (2021)): the same with the Fubini–Study metric
  estimated from measured state fidelities ``F(θ') = |⟨ψ(θ)|ψ(θ')⟩|²``:
  ``δF = F(θ+cΔ₁+cΔ₂) − F(θ+cΔ₁) − F(θ−cΔ₁+cΔ₂) + F(θ−cΔ₁)``,
  ``ĝ_F = −½ · δF / (2c²) · (Δ₁Δ₂ᵀ + Δ₂Δ₁ᵀ) / 2``.

One ask/tell round is one iteration of the driver: calibration takes one round before the
first step, and with blocking each step takes two rounds (gradient, then check).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from .ask_tell import Reply, Request, answered
from .base import check_flag, check_number


def spsa_gains(a: float, c: float, A: float, alpha: float, gamma: float, k: int
               ) -> tuple[float, float]:
    """``(a_k, c_k) = (a / (A + k + 1)^α, c / (k + 1)^γ)``."""
    return a / (A + k + 1) ** alpha, c / (k + 1) ** gamma


def rademacher(rng: np.random.Generator, shape) -> np.ndarray:
    """Random ±1 entries with equal probability."""
    return 2.0 * rng.integers(0, 2, size=shape) - 1.0


def _held(value: np.ndarray | None, what: str) -> np.ndarray:
    """``value``, an array of :class:`SPSAState` that the state's phase always holds."""
    if value is None:
        raise ValueError(f"SPSA state holds no {what} in this phase")
    return value


class SPSAState(NamedTuple):
    x: np.ndarray
    k: int
    a: float | None
    phase: str  # "calibrate", "gradient" or "check"
    deltas: np.ndarray | None  # perturbations of the pending request (R, p)
    deltas2: np.ndarray | None  # second perturbations (2-SPSA, QN-SPSA)
    candidate: np.ndarray | None
    curvature: np.ndarray | None  # running average of Ĥ (2-SPSA) or ĝ_F (QN-SPSA)
    rng_state: dict[str, Any]  # bit-generator state: ask and tell redraw the same perturbations
    accepted: int
    rejected: int


class SPSA:
    """SPSA with calibration, resampling, blocking; ``second_order`` = None, "2spsa", "qnspsa".

    Options are validated here (:func:`.base.check_number`): gains ``a`` (or None),
    ``c``, ``alpha``, ``gamma`` > 0, ``A`` ≥ 0, counts are positive integers.
    """

    def __init__(self, a: float | None = None, c: float = 0.1, A: float = 0.0,
                 alpha: float = 0.602, gamma: float = 0.101, target_step: float = 0.1,
                 calibration_steps: int = 10, resamplings: int = 1, blocking: bool = False,
                 allowed_increase: float | None = None, second_order: str | None = None,
                 regularization: float = 0.01, hessian_c_factor: float = 1.0):
        if second_order not in (None, "2spsa", "qnspsa"):
            raise InputError(f"option second_order must be None, '2spsa' or 'qnspsa', got "
                             f"{second_order!r}")
        a = check_number("a", a, 0.0, low_open=True, none_ok=True)  # None: calibrate
        c, target_step, regularization, hessian_c_factor = (
            check_number(name, value, 0.0, low_open=True)
            for name, value in (("c", c), ("target_step", target_step),
                                ("regularization", regularization),
                                ("hessian_c_factor", hessian_c_factor)))
        A = check_number("A", A, 0.0)
        alpha = check_number("alpha", alpha, 0.0, low_open=True)
        gamma = check_number("gamma", gamma, 0.0, low_open=True)
        calibration_steps = check_number("calibration_steps", calibration_steps, 1, integer=True)
        resamplings = check_number("resamplings", resamplings, 1, integer=True)
        blocking = check_flag("blocking", blocking)
        allowed_increase = check_number("allowed_increase", allowed_increase, none_ok=True)
        self.a, self.c, self.A, self.alpha, self.gamma = a, c, A, alpha, gamma
        self.target_step, self.calibration_steps = target_step, calibration_steps
        self.resamplings, self.blocking, self.allowed_increase = resamplings, blocking, \
            allowed_increase
        self.second_order, self.regularization = second_order, regularization
        self.hessian_c_factor = hessian_c_factor
        self.name = {None: "spsa", "2spsa": "2spsa", "qnspsa": "qnspsa"}[second_order]
        self.options = {"a": a, "c": c, "A": A, "alpha": alpha, "gamma": gamma,
                        "target_step": target_step, "calibration_steps": calibration_steps,
                        "resamplings": resamplings, "blocking": blocking,
                        "allowed_increase": allowed_increase, "regularization": regularization}

    # ------------------------------------------------------------------ protocol
    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> SPSAState:
        rng = rng if rng is not None else np.random.default_rng()
        phase = "calibrate" if self.a is None else "gradient"
        return SPSAState(np.array(x0, dtype=float), 0, self.a, phase, None, None, None, None,
                         dict(rng.bit_generator.state), 0, 0)

    def _draw(self, state: SPSAState) -> SPSAState:
        """The perturbations of this round, drawn from the stored RNG state (pure)."""
        generator = np.random.Generator(np.random.PCG64())
        generator.bit_generator.state = state.rng_state
        p = len(state.x)
        deltas: np.ndarray | None
        deltas2: np.ndarray | None
        if state.phase == "calibrate":
            deltas, deltas2 = rademacher(generator, (self.calibration_steps, p)), None
        elif state.phase == "check":
            deltas = deltas2 = None
        else:
            deltas = rademacher(generator, (self.resamplings, p))
            deltas2 = (rademacher(generator, (self.resamplings, p))
                       if self.second_order is not None else None)
        return state._replace(deltas=deltas, deltas2=deltas2,
                              rng_state=dict(generator.bit_generator.state))

    def params(self, state: SPSAState) -> np.ndarray:
        return state.x

    def gains(self, state: SPSAState) -> tuple[float, float]:
        if state.a is None:
            raise ValueError("SPSA gains: `a` is not calibrated yet (phase 'calibrate')")
        return spsa_gains(state.a, self.c, self.A, self.alpha, self.gamma, state.k)

    def ask(self, state: SPSAState) -> Request:
        drawn = self._draw(state)
        x = state.x
        if state.phase == "calibrate":
            deltas = _held(drawn.deltas, "perturbations")
            return Request(energies=np.concatenate([x + self.c * deltas, x - self.c * deltas]))
        if state.phase == "check":
            return Request(energies=_held(state.candidate, "candidate")[None, :])
        _, c_k = self.gains(state)
        deltas = _held(drawn.deltas, "perturbations")
        blocks = [x + c_k * deltas, x - c_k * deltas]
        fidelities = None
        if self.second_order == "2spsa":
            c2 = c_k * self.hessian_c_factor
            deltas2 = _held(drawn.deltas2, "second perturbations")
            blocks += [x + c_k * deltas + c2 * deltas2, x - c_k * deltas + c2 * deltas2]
        elif self.second_order == "qnspsa":
            deltas2 = _held(drawn.deltas2, "second perturbations")
            fidelities = np.concatenate([x + c_k * deltas + c_k * deltas2, x + c_k * deltas,
                                         x - c_k * deltas + c_k * deltas2, x - c_k * deltas])
        return Request(energies=np.concatenate(blocks), fidelities=fidelities)

    def tell(self, state: SPSAState, reply: Reply) -> SPSAState:
        state = self._draw(state)
        measured = answered(reply.energies, "energies")
        energies = np.asarray(measured.value, dtype=float)
        if state.phase == "calibrate":
            n = self.calibration_steps
            magnitude = np.mean(np.abs(energies[:n] - energies[n:])) / (2 * self.c)
            if magnitude == 0:
                raise InputError("SPSA calibration: the energy did not change under any "
                                 "perturbation; give `a` explicitly or a larger `c`")
            a = self.target_step * (self.A + 1) ** self.alpha / magnitude
            return state._replace(a=a, phase="gradient", deltas=None)
        if state.phase == "check":
            e_candidate = float(energies[0])
            err = float(np.hypot(np.atleast_1d(measured.stderr)[0], reply.value.stderr))
            tol = self.allowed_increase if self.allowed_increase is not None else 2 * err
            if e_candidate < float(reply.value.value) + tol:
                return state._replace(x=_held(state.candidate, "candidate"), k=state.k + 1,
                                      phase="gradient",
                                      candidate=None, accepted=state.accepted + 1)
            return state._replace(k=state.k + 1, phase="gradient", candidate=None,
                                  rejected=state.rejected + 1)

        a_k, c_k = self.gains(state)
        r = self.resamplings
        plus, minus = energies[:r], energies[r:2 * r]
        grad = np.mean(((plus - minus) / (2 * c_k))[:, None] * state.deltas, axis=0)
        step = a_k * grad
        curvature = state.curvature
        if self.second_order is not None:
            estimate = self._curvature_estimate(state, reply, energies, c_k)
            curvature = estimate if curvature is None else \
                (state.k * curvature + estimate) / (state.k + 1)
            # √(H̄ᵀH̄) of the symmetric H̄ is V|Λ|Vᵀ: positive semi-definite, exact.
            eigvals, eigvecs = np.linalg.eigh(0.5 * (curvature + curvature.T))
            eigvals = np.abs(eigvals) + self.regularization
            step = a_k * (eigvecs @ ((eigvecs.T @ grad) / eigvals))
        candidate = state.x - step
        if self.blocking:
            return state._replace(phase="check", candidate=candidate, curvature=curvature)
        return state._replace(x=candidate, k=state.k + 1, curvature=curvature,
                              accepted=state.accepted + 1)

    def _curvature_estimate(self, state, reply, energies, c_k) -> np.ndarray:
        r = self.resamplings
        d1, d2 = state.deltas, state.deltas2
        outer = (np.einsum("ri,rj->rij", d1, d2) + np.einsum("ri,rj->rij", d2, d1)) / 2
        if self.second_order == "2spsa":
            c2 = c_k * self.hessian_c_factor
            plus, minus = energies[:r], energies[r:2 * r]
            plus2, minus2 = energies[2 * r:3 * r], energies[3 * r:4 * r]
            d = (plus2 - plus) - (minus2 - minus)
            return np.mean((d / (2 * c_k * c2))[:, None, None] * outer, axis=0)
        f = np.asarray(reply.fidelities.value, dtype=float)
        delta_f = f[:r] - f[r:2 * r] - f[2 * r:3 * r] + f[3 * r:4 * r]
        return np.mean((-0.5 * delta_f / (2 * c_k**2))[:, None, None] * outer, axis=0)
