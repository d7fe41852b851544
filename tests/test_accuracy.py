"""Shots to chemical accuracy: entered *and stayed*, the same in results and reports."""

from __future__ import annotations

import pytest

import qvopt
from qvopt.accuracy import reached_accuracy, settle_index


@pytest.mark.parametrize("errors, expected", [
    ([5.0, 1.0, 0.5], 1),
    ([1.0, 5.0, 0.5, 0.2], 2),      # a dip into the band that leaves again does not count
    ([0.1, 0.2], 0),
    ([5.0, 1.0, 2.0], None),        # ends outside: never reached for good
    ([-1.0, -1.7, 1.59], 2),        # |error| counts, on both sides of FCI
    ([], None),
])
def test_settle_index(errors, expected):
    assert settle_index(errors) == expected


def test_result_reports_shots_to_chemical_accuracy(h2):
    r = qvopt.vqe(h2, seed=7, maxiter=60)
    entry = reached_accuracy(r.history, h2.e_fci)
    assert entry is not None and r.within_chemical_accuracy
    assert r.shots_to_chemical_accuracy == entry["shots"]
    assert r.iterations_to_chemical_accuracy == entry["iteration"]
    k = r.iterations_to_chemical_accuracy
    later = [abs(h["energy_exact"] - h2.e_fci) * 1000 for h in r.history[k:]]
    assert max(later) <= 1.6
    if k > 0:
        assert abs(r.history[k - 1]["energy_exact"] - h2.e_fci) * 1000 > 1.6
    d = r.to_dict()
    assert d["shots_to_chemical_accuracy"] == r.shots_to_chemical_accuracy


def test_not_reached_is_none(h2):
    # from Hartree–Fock (the default MP2 start of H2 is within chemical accuracy already)
    r = qvopt.vqe(h2, seed=1, maxiter=1, optimizer="adam", allocation=None, initial_point="hf")
    assert r.shots_to_chemical_accuracy is None and r.iterations_to_chemical_accuracy is None
