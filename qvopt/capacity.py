"""What a gradient will take on this machine — time and peak memory — before a run starts.

The sampling work of one request is linear in its number of parameter points ``P`` (one
state per point, every group's outcome probabilities and draws per point) on top of a fixed
part (tables built once, work buffers of bounded size). :func:`gradient_cost` measures it:
it samples ``P₁ = 32`` and ``P₂ = 128`` shifted copies of the start point
(:func:`probe_points`) through the estimator's own sampler (with a scratch random
generator: the run's ledger, random streams and allocation are untouched), timing each
call and recording its peak of traced allocations (``tracemalloc``, which numpy reports
to), and fits ``t(P) = t₀ + t₁ P`` and ``m(P) = m₀ + m₁ P`` through the two probes (the
first call builds the tables; it is repeated so that both probes time the per-call work).
The model is then evaluated at the points of one gradient. Only the statevector path is
modelled (circuit backends spend their time on the device).

:func:`check_fits` refuses, with one line, a run whose predicted peak exceeds
:data:`MEMORY_FRACTION` of the memory this machine has available now (``MemAvailable`` of
``/proc/meminfo``; physical memory elsewhere).
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from .memory import MEMORY_FRACTION, available_memory, refuse_unless_fits

__all__ = ["CHECK_FROM_QUBITS", "MEMORY_FRACTION", "PROBE_POINTS", "GradientCost",
           "available_memory", "check_fits", "gradient_cost"]

PROBE_POINTS = (32, 128)
#: problems below this many qubits are not probed before a run (their gradients take
#: milliseconds and megabytes)
CHECK_FROM_QUBITS = 14


@dataclass(frozen=True)
class GradientCost:
    """Predicted cost of one request of ``points`` parameter points (see the module)."""

    points: int
    seconds: float
    peak_bytes: float
    model: str

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / 1e9


def probe_points(x: np.ndarray, n_points: int) -> np.ndarray:
    """``n_points`` copies of ``x``, copy ``i`` with coordinate ``⌊i p / n⌋`` shifted by
    π/2 (``p`` parameters): like a parameter-shift gradient's points, one shifted angle
    each, spread over the circuit. Plain copies would be cheaper than a gradient's points:
    the sector engine rotates a point's state only from its first differing gate on."""
    points = np.repeat(np.asarray(x, dtype=float)[None, :], n_points, axis=0)
    if points.shape[1]:
        shifted = np.arange(n_points) * points.shape[1] // n_points
        points[np.arange(n_points), shifted] += np.pi / 2
    return points


def _probe(estimator, x: np.ndarray, n_points: int) -> tuple[float, float]:
    """Seconds and peak traced bytes of sampling ``n_points`` shifted copies of ``x``."""
    points = probe_points(x, n_points)
    shots = np.tile(estimator.group_shots(), (n_points, 1)) if estimator.shots else \
        np.ones((n_points, estimator.grouped.n_groups), dtype=np.int64)
    rng = np.random.default_rng(0)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        estimator.sampler.sample(points, shots, rng)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return seconds, float(peak)


def gradient_cost(estimator, x: np.ndarray, points: int) -> GradientCost | None:
    """The fitted model at ``points`` points (module docstring); None off the statevector
    path."""
    if estimator.sampler is not estimator.reference:
        return None
    _probe(estimator, x, 1)  # builds the tables once (the run pays this once as well)
    (t_a, m_a), (t_b, m_b) = (_probe(estimator, x, n) for n in PROBE_POINTS)
    p_a, p_b = PROBE_POINTS
    slope_t = max((t_b - t_a) / (p_b - p_a), 0.0)
    slope_m = max((m_b - m_a) / (p_b - p_a), 0.0)
    seconds = max(t_b + slope_t * (points - p_b), 0.0)
    peak = max(m_b + slope_m * (points - p_b), m_b)
    return GradientCost(points, seconds, peak,
                        f"timed here on {p_a} and {p_b} points, linear in points")


def check_fits(cost: GradientCost | None, what: str) -> None:
    """:class:`InputError` when ``cost``'s peak is above :data:`MEMORY_FRACTION` of the
    available memory."""
    if cost is None:
        return
    refuse_unless_fits(cost.peak_bytes, f"{what}: one gradient ({cost.points} parameter "
                       "points)", "choose a smaller active space, another grouping, or a "
                       "machine with more memory", available_memory(), f" ({cost.model})")
