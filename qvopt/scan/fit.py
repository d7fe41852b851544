"""The equilibrium value of a scan coordinate from a fit near the lowest energy.

Bond lengths: a Morse curve ``E(r) = D (1 − exp(−a (r − r_e)))² + E_0`` fitted by weighted
least squares (weights ``1/stderr²``; unweighted for exact energies) to the points from
two below to four above the lowest one (at least four points). Angles, or a Morse fit that
fails: a parabola through the lowest point and its two neighbours. A parabola over a wide
window is biased by the anharmonicity (H2, 0.25 Å steps: 0.80 Å instead of 0.735 Å; the
Morse fit gives 0.740 Å), hence the Morse form for bonds.

Uncertainty: ``stderr`` propagates the shot noise of the energies through the fit
(covariance with absolute sigma; 0 for exact energies); ``model_spread`` is how far the
same fit on a narrower window (one below, three above) lands, a measure of what the grid
spacing leaves undetermined; ``uncertainty = √(stderr² + model_spread²)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

MORSE_WINDOW = (2, 4)  # points below / above the lowest one
NARROW_WINDOW = (1, 3)
CURVE_POINTS = 40  # samples of the fitted curve kept for the plot


def morse(r, depth, width, r_e, e_0):
    """Morse potential ``D (1 − exp(−a (r − r_e)))² + E_0``."""
    return depth * (1.0 - np.exp(-width * (r - r_e))) ** 2 + e_0


def fit_equilibrium(values, energies, stderrs, model: str = "morse") -> dict:
    """``{"value", "stderr", "model_spread", "uncertainty", "energy", "energy_stderr",
    "method", "window", "curve", "note"}`` (``curve``: samples ``[x, E]`` of the fit, for
    plots; ``energy_stderr``: the shot noise of ``E_min``); ``value`` is None (with a
    ``note``) when the minimum is not bracketed."""
    x, y, s = _sorted_finite(values, energies, stderrs)
    if len(x) < 3:
        return _none("fewer than three points with an energy: no fit")
    low = int(np.argmin(y))
    if low in (0, len(x) - 1):
        return _none("the lowest energy is at an end of the scan: extend the range to "
                     "bracket the minimum")
    fits = []
    if model == "morse":
        fits = [f for f in (_morse_fit(x, y, s, low, w) for w in (MORSE_WINDOW, NARROW_WINDOW))
                if f is not None]
    if not fits:
        fits = [f for f in (_parabola_fit(x, y, s, low, w) for w in (1, 2)) if f is not None]
    if not fits:
        return _none("the fit failed")
    best = dict(fits[0])
    best["model_spread"] = abs(fits[0]["value"] - fits[1]["value"]) if len(fits) > 1 else 0.0
    best["uncertainty"] = math.hypot(best["stderr"], best["model_spread"])
    best["note"] = ""
    return best


def _none(note: str) -> dict:
    return {"value": None, "stderr": None, "model_spread": None, "uncertainty": None,
            "energy": None, "energy_stderr": None, "method": None, "window": None,
            "curve": None, "note": note}


def _sorted_finite(values, energies, stderrs):
    x, y, s = (np.asarray(a, dtype=float) for a in (values, energies, stderrs))
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep])
    s = np.where(np.isfinite(s), s, 0.0)
    return x[keep][order], y[keep][order], s[keep][order]


def _window(n: int, low: int, below: int, above: int) -> slice:
    return slice(max(0, low - below), min(n, low + above + 1))


def _sigma(s: np.ndarray) -> np.ndarray | None:
    """Weights for the fit: None (unweighted) if any energy is exact."""
    return s if np.all(s > 0) else None


def _morse_fit(x, y, s, low: int, window: tuple[int, int]) -> dict | None:
    from scipy.optimize import OptimizeWarning, curve_fit

    part = _window(len(x), low, *window)
    xs, ys, ss = x[part], y[part], s[part]
    if len(xs) < 4:
        return None
    start = [max(ys.max() - ys.min(), 1e-3), 1.5 / max(x[low], 1e-3), x[low], ys.min()]
    sigma = _sigma(ss)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            p, cov = curve_fit(morse, xs, ys, p0=start, sigma=sigma,
                               absolute_sigma=sigma is not None, maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    if not xs[0] <= p[2] <= xs[-1] or p[0] <= 0:
        return None
    stderr = float(np.sqrt(cov[2, 2])) if sigma is not None and np.isfinite(cov[2, 2]) \
        else 0.0
    energy_stderr = float(np.sqrt(cov[3, 3])) if sigma is not None \
        and np.isfinite(cov[3, 3]) else 0.0
    grid = np.linspace(xs[0], xs[-1], CURVE_POINTS)
    return {"value": float(p[2]), "stderr": stderr, "energy": float(p[3]),
            "energy_stderr": energy_stderr,
            "method": "morse", "window": [float(xs[0]), float(xs[-1])],
            "curve": np.column_stack([grid, morse(grid, *p)]).tolist()}


def _parabola_fit(x, y, s, low: int, half: int) -> dict | None:
    part = _window(len(x), low, half, half)
    xs, ys, ss = x[part], y[part], s[part]
    if len(xs) < 3:
        return None
    sigma = _sigma(ss)
    weights = None if sigma is None else 1.0 / sigma
    if sigma is not None and len(xs) > 3:
        coef, cov = np.polyfit(xs, ys, 2, w=weights, cov="unscaled")
    else:
        coef, cov = np.polyfit(xs, ys, 2, w=weights), None
    a, b, c = coef
    if a <= 0:
        return None
    value = -b / (2 * a)
    stderr = energy_stderr = 0.0
    if sigma is not None:
        cov = cov if cov is not None else _exact_cov(xs, sigma)
        grad = np.array([b / (2 * a * a), -1 / (2 * a), 0.0])
        stderr = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
        # E_min = c − b²/(4a): ∂/∂(a, b, c) = (b²/(4a²), −b/(2a), 1)
        grad_e = np.array([b * b / (4 * a * a), -b / (2 * a), 1.0])
        energy_stderr = float(np.sqrt(max(grad_e @ cov @ grad_e, 0.0)))
    grid = np.linspace(xs[0], xs[-1], CURVE_POINTS)
    return {"value": float(value), "stderr": stderr, "energy": float(c - b * b / (4 * a)),
            "energy_stderr": energy_stderr,
            "method": "parabola", "window": [float(xs[0]), float(xs[-1])],
            "curve": np.column_stack([grid, np.polyval(coef, grid)]).tolist()}


def _exact_cov(xs: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Covariance of the coefficients of a parabola through three noisy points."""
    design = np.vander(xs, 3) / sigma[:, None]
    return np.linalg.inv(design.T @ design)
