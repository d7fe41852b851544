"""A guard around any ask/tell optimizer: steps checked against measured energies, and a
noise-aware test that ends the run when further iterations cannot improve it by ``tol``.

Only what the run measured and charged is used — never the exact energy.

**Step control.** Each iteration the evaluator measures ``E_k ± σ_k`` at the iterate
``θ_k``. With ``z = GUARD_Z`` (3), the *best* point is the accepted iterate with the lowest
upper bound ``E_j + zσ_j``. An iterate whose lower bound is above it,

    E_k − zσ_k > E_best + zσ_best,

is measurably worse than a point already visited (a false alarm needs a ≥ 3σ error on both
sides: about 1e-4 per iteration at equal σ against one point; the best point is the lowest
of many upper bounds, which raises it to about 1e-3 per iteration in long runs). It is
rejected: the optimizer is put back at ``θ_best`` (its other state — moments, running
averages — is kept), and every later step is scaled by ½ (``θ ← θ_k + s·Δθ``, ``s``
halved at each rejection). After ``MAX_REJECTIONS`` rejections in a row the run stops as
diverged, at ``θ_best``. The guard needs the optimizer's state to be a NamedTuple with a
field ``x`` (every qvopt optimizer's is); otherwise only the convergence test applies.

**Convergence** (``tol`` in Ha; None turns it off). With gradients (``Reply.gradient``) and
the diagonal curvature the same shifted energies give (``Reply.curvature``), the local
quadratic model predicts the improvement still available,

    D = Σ_i g_i² / (2 h_i),

averaged over the last ``GRADIENT_WINDOW`` accepted iterations (``h_i``: their mean
curvature, floored at 2% of the largest, so a flat or concave direction counts as nearly
flat: a large predicted gain, no stop). A gradient ``ĝ_i`` of variance ``s_i²`` makes
``ĝ_i²`` an estimate of ``g_i² + s_i²``, so each iteration contributes
``D̂_k = Σ_i (ĝ_i² − s_i²) / (2h_i)`` with variance
``Σ_i (4 max(ĝ_i² − s_i², 0) s_i² + 2 s_i⁴) / (4h_i²)``; with ``D̄`` their mean and
``σ_D̄`` its standard error the run stops when

    max(D̄, 0) + z_c σ_D̄ ≤ tol,        z_c = 1.645 (95% one-sided).

(A negative ``D̄`` — gradients measured smaller than their noise — counts as 0: noise alone
never makes the gain look negative enough to stop.)

(Squares are averaged, not gradients: an optimizer oscillating across a valley measures
gradients that cancel in a mean but not in ``D̄``.) The diagonal model can underestimate
what is left where parameters are strongly coupled (exact UCCSD on a linear H4 at 2 Å:
``D`` 1.6 mHa with 4.3 mHa still to go); in exact mode, where energies carry no noise, the
run must also pass the geometric tail of its last energy decreases, ``d ρ/(1 − ρ) ≤ tol``
(:func:`exact_tail`; ``ρ`` raised by its trend when convergence slows).

In exact mode (s̄ = 0) it is ``D ≤ tol`` on the last gradient. Optimizers that measure no
gradient (SPSA, Rotosolve, …) are tested on the recorded energies instead: the change
``Δ`` between the inverse-variance means of the older and the newer half of the last
``2·ENERGY_WINDOW`` iterations, ``|Δ| + z_c σ_Δ ≤ tol`` (two-sided: rising energies are
no convergence; with noisy energies this test rarely fires and ``maxiter`` ends the run).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .estimation.request import Reply, Request

GUARD_Z = 3.0
MAX_REJECTIONS = 6
CONFIDENCE_Z = 1.645
GRADIENT_WINDOW = 5
ENERGY_WINDOW = 10
CURVATURE_FLOOR = 0.02
DIVERGED = "diverged"
CONVERGED = "converged"


class GuardState(NamedTuple):
    """The wrapped optimizer's state plus what the guard and the stop test remember."""

    inner: Any
    best_x: np.ndarray
    best_energy: float
    best_stderr: float
    scale: float
    rejections: int  # in a row
    gradients: np.ndarray  # (GRADIENT_WINDOW, p) last accepted gradients, newest last
    variances: np.ndarray  # their variances
    curvatures: np.ndarray  # the diagonal curvature measured with them
    n_gradients: int
    energies: np.ndarray  # (2·ENERGY_WINDOW,) last accepted energies, newest last
    energy_variances: np.ndarray
    n_energies: int
    stop: str  # "" while running; else "converged: …" or "diverged: …"


class Guarded:
    """``optimizer`` behind the step guard and the convergence test (module docstring).

    ``tol``: the improvement (Ha) below which the run counts as converged; None: no test.
    ``guard``: False keeps only the convergence test.
    """

    def __init__(self, optimizer, tol: float | None, guard: bool = True):
        self.inner = optimizer
        self.tol = tol
        self.guard = guard
        self.name = optimizer.name

    @property
    def options(self) -> dict:
        return getattr(self.inner, "options", {})

    def init(self, x0: np.ndarray, rng: np.random.Generator) -> GuardState:
        inner = self.inner.init(x0, rng)
        p = len(x0)
        return GuardState(inner, np.array(x0, dtype=float), float("inf"), 0.0, 1.0, 0,
                          np.zeros((GRADIENT_WINDOW, p)), np.zeros((GRADIENT_WINDOW, p)),
                          np.zeros((GRADIENT_WINDOW, p)), 0, np.zeros(2 * ENERGY_WINDOW),
                          np.zeros(2 * ENERGY_WINDOW), 0, "")

    def params(self, state: GuardState) -> np.ndarray:
        return self.inner.params(state.inner)

    def ask(self, state: GuardState) -> Request:
        return self.inner.ask(state.inner)

    def stop_reason(self, state: GuardState) -> str:
        """"" while the run should go on, else why it stops ("converged: …"/"diverged: …")."""
        return state.stop

    def tell(self, state: GuardState, reply: Reply) -> GuardState:
        x = np.array(self.params(state), dtype=float)
        energy, stderr = float(reply.value.value), float(reply.value.stderr)
        steerable = self.guard and hasattr(state.inner, "_fields") and "x" in state.inner._fields
        if (steerable
                and energy - GUARD_Z * stderr > state.best_energy + GUARD_Z * state.best_stderr):
            return self._reject(state, energy, stderr)
        if energy + GUARD_Z * stderr < state.best_energy + GUARD_Z * state.best_stderr:
            state = state._replace(best_x=x, best_energy=energy, best_stderr=stderr)
        inner = self.inner.tell(state.inner, reply)
        if steerable and state.scale < 1.0:
            moved = self.inner.params(inner)
            inner = inner._replace(x=x + state.scale * (moved - x))
        state = _observe(state._replace(inner=inner, rejections=0), reply)
        return state._replace(stop=self._verdict(state))

    def _reject(self, state: GuardState, energy: float, stderr: float) -> GuardState:
        rejections = state.rejections + 1
        stop = ""
        if rejections >= MAX_REJECTIONS:
            stop = (f"{DIVERGED}: {rejections} steps in a row measured worse than the best "
                    f"point ({energy:.6f} ± {stderr:.6f} Ha against {state.best_energy:.6f} ± "
                    f"{state.best_stderr:.6f} Ha); reporting the best measured point")
        inner = state.inner._replace(x=np.array(state.best_x))
        return state._replace(inner=inner, rejections=rejections, scale=state.scale / 2,
                              stop=stop)

    def _verdict(self, state: GuardState) -> str:
        if self.tol is None:
            return ""
        if state.n_gradients:
            stationary = _stationary(state)
            if stationary:
                return stationary
            predicted = predicted_improvement(state)
            tail = exact_tail(state)
            if predicted is not None and tail is not None:
                predicted = max(predicted, tail)
            if predicted is not None and predicted <= self.tol:
                return (f"{CONVERGED}: the measured gradient and curvature leave at most "
                        f"{predicted * 1e3:.3g} mHa to gain (95% bound; tol "
                        f"{self.tol * 1e3:.3g} mHa)")
            return ""
        change = recent_change(state)
        if change is not None and change <= self.tol:
            return (f"{CONVERGED}: the measured energy changed by at most {change * 1e3:.3g} "
                    f"mHa over the last {ENERGY_WINDOW} iterations (95% bound; tol "
                    f"{self.tol * 1e3:.3g} mHa)")
        return ""


def _stationary(state: GuardState) -> str:
    """In exact mode, a gradient that vanishes (max |g_i| ≤ 1e-10) ends the run where it
    is: nothing moves it. Where some curvature is negative this is a saddle or a maximum
    (e.g. a hardware-efficient circuit at all-zero angles), which the message says."""
    if np.any(state.variances[-1] > 0) or np.max(np.abs(state.gradients[-1])) > 1e-10:
        return ""
    curvature = state.curvatures[-1]
    kind = ("a minimum along every parameter" if np.all(curvature >= 0) else
            f"NOT a minimum ({int(np.sum(curvature < 0))} directions of negative curvature):"
            " start from another initial_point")
    return f"{CONVERGED}: the gradient is zero, a stationary point, {kind}"


def _push(window: np.ndarray, value) -> np.ndarray:
    return np.concatenate([window[1:], np.asarray(value, dtype=float)[None]])


def _observe(state: GuardState, reply: Reply) -> GuardState:
    """The accepted reply's energy, and its gradient with the curvature, enter the windows."""
    state = state._replace(
        energies=_push(state.energies, reply.value.value),
        energy_variances=_push(state.energy_variances, float(reply.value.stderr) ** 2),
        n_energies=state.n_energies + 1)
    if reply.gradient is not None and reply.curvature is not None:
        state = state._replace(
            gradients=_push(state.gradients, reply.gradient.value),
            variances=_push(state.variances, np.asarray(reply.gradient.stderr) ** 2),
            curvatures=_push(state.curvatures, reply.curvature.value),
            n_gradients=state.n_gradients + 1)
    return state


def exact_tail(state: GuardState) -> float | None:
    """In exact mode, what a run still converging has left, from its last energy decreases
    ``d``: with ``ρ`` the ratio of the last two (``ρ = d₃/d₂``), raised by its trend when the
    ratios grow (sublinear convergence: ``ρ + (ρ − d₂/d₁)``, at most 0.99), the geometric
    tail ``d₃ ρ/(1 − ρ)``; ∞ when the decreases do not shrink or the energy rose (zero
    decreases — a point measured again after a rejection — are skipped). None with noisy
    energies or fewer than three energies."""
    n = min(state.n_energies, 4)
    if n < 3 or np.any(state.energy_variances[-n:] > 0):
        return None
    decreases = -np.diff(state.energies[-n:])
    if np.any(decreases < 0):  # the energy rose: no convergence to extrapolate
        return float("inf")
    decreases = decreases[decreases > 0]  # a re-measured point (a guard rejection): 0
    if len(decreases) == 0:
        return 0.0
    if len(decreases) == 1:
        return float("inf")  # one decrease says nothing about how fast they shrink
    last = decreases[-1]
    if decreases[-2] <= last:
        return float("inf")
    rho = last / decreases[-2]
    if len(decreases) == 3 and decreases[0] > 0:
        rho = min(rho + max(rho - decreases[-2] / decreases[0], 0.0), 0.99)
    return float(last * rho / (1 - rho))


def quadratic_gains(gradient: np.ndarray, variance: np.ndarray, curvature: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """What the local quadratic model predicts is still to gain along each component,
    ``g_i²/(2h_i)``, from gradients ``ĝ_i`` of variance ``s_i²``: the unbiased estimate
    ``(ĝ_i² − s_i²)/(2h_i)`` and its variance ``(4 max(ĝ_i² − s_i², 0) s_i² + 2s_i⁴)/(4h_i²)``,
    with ``h_i`` floored at :data:`CURVATURE_FLOOR` of the largest curvature (a flat or
    concave direction counts as nearly flat: a gradient there predicts a large gain). None
    when no curvature is positive. Shared by the stop test here and ADAPT's growth test
    (:func:`qvopt.pool_screening.pool_gain_test`)."""
    top = float(np.max(curvature))
    if top <= 0:
        return None
    h = np.maximum(curvature, CURVATURE_FLOOR * top)
    signal = gradient**2 - variance  # unbiased for g²
    return signal / (2 * h), (4 * np.maximum(signal, 0) * variance + 2 * variance**2) \
        / (4 * h**2)


def predicted_improvement(state: GuardState) -> float | None:
    """Upper 95% bound on the mean over the gradient window of ``Σ_i g_i²/(2h_i)`` (module
    docstring; :func:`quadratic_gains` per component and iterate); None until the window is
    full (in exact mode: after one gradient)."""
    n = min(state.n_gradients, GRADIENT_WINDOW)
    grads, noise = state.gradients[-n:], state.variances[-n:]
    if not np.any(noise[-1] > 0):  # exact: the last gradient
        grads, noise = grads[-1:], np.zeros_like(grads[-1:])
    elif n < GRADIENT_WINDOW:
        return None
    gains = quadratic_gains(grads, noise, state.curvatures[-n:].mean(axis=0))
    if gains is None:
        return None
    estimate, variance = gains
    k = len(grads)
    mean = max(float(np.sum(estimate)) / k, 0.0)
    return mean + CONFIDENCE_Z * float(np.sqrt(np.sum(variance))) / k


def recent_change(state: GuardState) -> float | None:
    """Upper 95% bound on ``|Δ|``, the change between the inverse-variance means of the
    older and the newer half of the last ``2·ENERGY_WINDOW`` energies; None until there are
    that many. Two-sided: energies that rise are not a converged run."""
    if state.n_energies < 2 * ENERGY_WINDOW:
        return None
    halves = []
    for values, variances in ((state.energies[:ENERGY_WINDOW],
                               state.energy_variances[:ENERGY_WINDOW]),
                              (state.energies[ENERGY_WINDOW:],
                               state.energy_variances[ENERGY_WINDOW:])):
        if np.any(variances <= 0):
            halves.append((float(values.mean()), 0.0))
        else:
            weights = 1.0 / variances
            halves.append((float((weights * values).sum() / weights.sum()),
                           float(1.0 / weights.sum())))
    (older, var_older), (newer, var_newer) = halves
    return abs(older - newer) + CONFIDENCE_Z * float(np.sqrt(var_older + var_newer))
