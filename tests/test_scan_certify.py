"""A scan fits only points its runs certify, and compares its E_min with FCI's."""

from __future__ import annotations

import numpy as np

from qvopt.scan.certify import certified_equilibrium, uncertified
from qvopt.scan.fit import morse

R = np.linspace(0.5, 1.1, 7)
FCI = morse(R, 0.17, 1.9, 0.74, -1.137)  # an H2-like curve


def _points(offsets_mha, stderr=0.5e-3, e_hf_gap=0.02, message="converged: …"):
    return [{"energy": float(e + d / 1e3), "stderr": stderr, "e_fci": float(e),
             "e_hf": float(e + e_hf_gap), "message": message}
            for e, d in zip(FCI, offsets_mha, strict=True)]


def test_points_at_fci_give_a_fit_and_its_gap_to_fci():
    fit = certified_equilibrium(R, _points([0.3] * 7), "morse", " Å")
    assert abs(fit["value"] - 0.74) < 0.01
    assert abs(fit["energy_vs_reference_mha"] - 0.3) < 3 * fit["energy_vs_reference_stderr_mha"]
    assert fit["note"] == ""


def test_points_far_from_fci_are_not_fitted():
    offsets = [0.2, 0.1, 46.0, 72.0, 55.0, 0.3, 0.2]  # the README's old water scan
    fit = certified_equilibrium(R, _points(offsets, e_hf_gap=0.1), "morse", " Å")
    assert fit["value"] is None and fit["curve"] is None
    assert "3 of the" in fit["note"]
    assert "0.8 Å: measured 72.0 ± 0.5 mHa above FCI" in fit["note"]


def test_points_above_hartree_fock_or_diverged_are_uncertified():
    above = _points([30.0] * 7, e_hf_gap=0.01)[0]
    assert "above it" in uncertified(above)
    assert uncertified(_points([0.0] * 7, message="diverged: …")[0])
    noisy_but_fine = _points([3.0] * 7, stderr=1e-3)[0]  # 3 mHa ± 1: within 1.6 + 3σ
    assert uncertified(noisy_but_fine) == ""


def test_a_fit_below_fci_says_so():
    fit = certified_equilibrium(R, _points([-1.0, -2.0, -4.0, -5.0, -4.0, -2.0, -1.0],
                                           stderr=0.2e-3), "morse", " Å")
    assert fit["value"] is not None and fit["energy_vs_reference_mha"] < -2
    assert "BELOW the FCI minimum" in fit["note"]


def test_without_fci_only_hartree_fock_is_checked():
    points = _points([0.5] * 7)
    for p in points:
        p["e_fci"] = None
    fit = certified_equilibrium(R, points, "morse")
    assert fit["value"] is not None and fit["energy_vs_reference_mha"] is None
