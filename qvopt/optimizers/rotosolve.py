"""Sequential minimal optimization: Rotosolve (Ostaszewski et al., Quantum 5, 391 (2021))
and NFT (Nakanishi et al., Phys. Rev. Research 2, 043158 (2020)).

With every parameter but ``θ_i`` fixed, a gate ``exp(−iθ_i G)`` makes the energy a
trigonometric polynomial whose frequencies are the differences of G's eigenvalues:

    E(θ + x e_i) = a₀ + Σ_{k=1..R} [a_k cos(ω_k x) + b_k sin(ω_k x)]

* Pauli rotations ``exp(−iθP/2)`` (generator spectrum {±½}): one frequency, ω = 1
  (not ½): 3 energies per coordinate.
* qvopt's Givens excitations (generator spectrum {−½, 0, ½}): ω ∈ {½, 1}: 5 energies.
  The default ``frequencies=(0.5, 1.0)`` covers Pauli rotations exactly as well (their
  ½-terms are zero), at the price of 5 energies instead of 3 and the noise of the two
  unneeded coefficients; pass ``frequencies=(1.0,)`` for Pauli-rotation circuits.

**Reconstruction.** Frequencies must be integer multiples ``ω_k = k ω₁`` (k = 1..R) of the
smallest one, ω₁ = min. The energies are measured at the ``2R + 1`` equidistant shifts
``x_m = 2π m / ((2R + 1) ω₁)``, m = −R..R (m = 0 is the current point, the energy the
driver measures every iteration anyway), and the coefficients are the discrete Fourier
transform

    a₀ = Σ_m E_m / (2R+1),   a_k = 2 Σ_m E_m cos(ω_k x_m) / (2R+1),
    b_k = 2 Σ_m E_m sin(ω_k x_m) / (2R+1)

(exact for noiseless energies; with independent noise of variance σ² each coefficient has
variance ≤ 2σ²/(2R+1), the smallest any 2R+1-point design gives). **Minimisation:**
R = 1 in closed form, ``x* = (atan2(b₁, a₁) + π) / ω₁``; R ≥ 2 on a grid of 64R points
over one period ``2π/ω₁`` refined by Newton steps on ``f'``. The step is
``θ_i ← θ_i + x*`` with ``x*`` taken in ``(−π/ω₁, π/ω₁]``.

One ask/tell round (one driver iteration) updates one coordinate: it asks for the 2R
shifted energies. ``order="cyclic"`` visits 0, 1, …, p−1, 0, …; ``order="random"`` a new
random permutation every sweep (drawn from the state's stored generator state, so ask and
tell see the same one). ``rotosolve`` is cyclic; ``nft`` is random. NFT's saving of the
energy at the current point (it reuses the previous reconstruction's minimum) is built
into qvopt's loop, which measures that energy every iteration; so the two differ only in
the order here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from .ask_tell import Reply, Request, answered

GIVENS_FREQUENCIES = (0.5, 1.0)
PAULI_FREQUENCIES = (1.0,)


def check_frequencies(frequencies) -> tuple[float, ...]:
    """Validate ``frequencies``: positive numbers, integer multiples 1..R of the smallest."""
    message = (f"option frequencies must be a non-empty tuple of numbers > 0 that are the "
               f"multiples 1, 2, …, R of the smallest, e.g. (0.5, 1.0), got {frequencies!r}")
    try:
        values = tuple(sorted(float(f) for f in frequencies))
    except (TypeError, ValueError):
        raise InputError(message) from None
    if isinstance(frequencies, (str, bytes)) or not values \
            or not all(np.isfinite(values)) or values[0] <= 0:
        raise InputError(message)
    ratios = np.array(values) / values[0]
    if not np.allclose(ratios, np.arange(1, len(values) + 1), atol=1e-9):
        raise InputError(message)
    return values


def reconstruction_shifts(frequencies: tuple[float, ...]) -> np.ndarray:
    """The ``2R + 1`` shifts ``x_m = 2πm/((2R+1)ω₁)``, m = −R..R (m = 0 in the middle)."""
    r = len(frequencies)
    m = np.arange(-r, r + 1)
    return 2 * np.pi * m / ((2 * r + 1) * frequencies[0])


def reconstruct(frequencies: tuple[float, ...], energies: np.ndarray) -> np.ndarray:
    """``(a₀, a₁..a_R, b₁..b_R)`` from the energies at :func:`reconstruction_shifts`."""
    shifts = reconstruction_shifts(frequencies)
    energies = np.asarray(energies, dtype=float)
    n = len(shifts)
    omega_x = np.outer(frequencies, shifts)  # (R, 2R+1)
    a0 = energies.sum() / n
    a = 2 * np.cos(omega_x) @ energies / n
    b = 2 * np.sin(omega_x) @ energies / n
    return np.concatenate([[a0], a, b])


def trig_value(frequencies: tuple[float, ...], coeffs: np.ndarray, x) -> np.ndarray:
    """``a₀ + Σ a_k cos(ω_k x) + b_k sin(ω_k x)`` at ``x`` (scalar or array)."""
    r = len(frequencies)
    x = np.asarray(x, dtype=float)
    omega_x = np.multiply.outer(x, np.asarray(frequencies))
    return coeffs[0] + np.cos(omega_x) @ coeffs[1:r + 1] + np.sin(omega_x) @ coeffs[r + 1:]


def minimize_trig(frequencies: tuple[float, ...], coeffs: np.ndarray) -> tuple[float, float]:
    """``(x*, f(x*))``: the global minimum of the trigonometric polynomial, with x* in
    ``(−π/ω₁, π/ω₁]``."""
    omega = np.asarray(frequencies)
    r = len(omega)
    half = np.pi / omega[0]
    a, b = coeffs[1:r + 1], coeffs[r + 1:]
    if r == 1:
        x = (np.arctan2(b[0], a[0]) + np.pi) / omega[0]
    else:
        grid = np.linspace(-half, half, 64 * r, endpoint=False)
        x = float(grid[np.argmin(trig_value(frequencies, coeffs, grid))])
        for _ in range(20):  # Newton on f'(x) = 0 from the best grid point
            s, c = np.sin(omega * x), np.cos(omega * x)
            d1 = np.sum(omega * (b * c - a * s))
            d2 = -np.sum(omega**2 * (a * c + b * s))
            if d2 <= 0:
                break
            x -= d1 / d2
            if abs(d1 / d2) < 1e-14:
                break
    x = float((x + half) % (2 * half) - half)
    if x == -half:
        x = half
    return x, float(trig_value(frequencies, coeffs, x))


class SMOState(NamedTuple):
    x: np.ndarray
    order: np.ndarray  # coordinates of the current sweep
    position: int  # index into ``order`` of the coordinate of the next round
    rng_state: dict[str, Any]  # bit-generator state for the next random permutation
    step: int


class SequentialMinimalOptimizer:
    """Rotosolve/NFT: one coordinate per round, set to the minimum of its reconstruction."""

    name = "rotosolve"
    default_order = "cyclic"

    def __init__(self, frequencies: tuple[float, ...] = GIVENS_FREQUENCIES,
                 order: str | None = None):
        order = self.default_order if order is None else order
        if order not in ("cyclic", "random"):
            raise InputError(f"option order must be 'cyclic' or 'random', got {order!r}")
        self.frequencies = check_frequencies(frequencies)
        self.order = order
        self.shifts = reconstruction_shifts(self.frequencies)
        self.options = {"frequencies": self.frequencies, "order": order}

    def _sweep(self, p: int, rng_state: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        if self.order == "cyclic":
            return np.arange(p), rng_state
        generator = np.random.Generator(np.random.PCG64())
        generator.bit_generator.state = rng_state
        return generator.permutation(p), dict(generator.bit_generator.state)

    def init(self, x0: np.ndarray, rng: np.random.Generator | None = None) -> SMOState:
        rng = rng if rng is not None else np.random.default_rng()
        x0 = np.array(x0, dtype=float)
        order, rng_state = self._sweep(len(x0), dict(rng.bit_generator.state))
        return SMOState(x0, order, 0, rng_state, 0)

    def coordinate(self, state: SMOState) -> int:
        return int(state.order[state.position])

    def ask(self, state: SMOState) -> Request:
        i = self.coordinate(state)
        offsets = np.delete(self.shifts, len(self.frequencies))  # all but m = 0
        points = np.tile(state.x, (len(offsets), 1))
        points[:, i] += offsets
        return Request(energies=points)

    def tell(self, state: SMOState, reply: Reply) -> SMOState:
        i = self.coordinate(state)
        r = len(self.frequencies)
        others = np.asarray(answered(reply.energies, "energies").value, dtype=float)
        energies = np.concatenate([others[:r], [float(reply.value.value)], others[r:]])
        step, _ = minimize_trig(self.frequencies, reconstruct(self.frequencies, energies))
        x = state.x.copy()
        x[i] += step
        position, order, rng_state = state.position + 1, state.order, state.rng_state
        if position == len(order):
            order, rng_state = self._sweep(len(x), rng_state)
            position = 0
        return SMOState(x, order, position, rng_state, state.step + 1)

    def params(self, state: SMOState) -> np.ndarray:
        return state.x


class Rotosolve(SequentialMinimalOptimizer):
    """Rotosolve: coordinates in cyclic order."""

    name = "rotosolve"
    default_order = "cyclic"


class NFT(SequentialMinimalOptimizer):
    """NFT (Nakanishi–Fujii–Todo): coordinates in a random order, a new one every sweep."""

    name = "nft"
    default_order = "random"
