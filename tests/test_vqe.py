"""VQE driver: defaults reach chemical accuracy, result fields, budgets, callbacks, errors."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.vqe import DEFAULT_MAXITER

# the settings before the shot-frugal defaults (issue 10): Adam, ``shots`` per measurement
# group, the Hartree–Fock start; for tests of the accounting, not of the defaults
PER_GROUP = {"optimizer": "adam", "allocation": None, "initial_point": "hf",
             "final_precision": None}


@pytest.fixture(scope="module")
def h2_default_run(h2):
    return qvopt.vqe(h2, seed=7)


@pytest.fixture(scope="module")
def h2_per_group_run(h2):
    return qvopt.vqe(h2, seed=7, **PER_GROUP)


def test_h2_defaults_reach_chemical_accuracy(h2_default_run):
    r = h2_default_run
    assert abs(r.error_mha) < 1.6
    assert r.within_chemical_accuracy
    # the final energy is measured to chemical accuracy, its shots charged on the ledger
    assert r.config["final_precision"] == 1.6e-3 and r.stderr <= 1.6e-3
    assert r.final_shots > 1000 and r.history[-1]["shots"] == r.shots_used
    # the run ends by itself: the noise-aware convergence test, well before maxiter
    assert r.nit < DEFAULT_MAXITER and r.status == 0 and r.success
    assert r.message.startswith("converged: ")
    assert (r.optimizer, r.allocation, r.shots) == ("icans", "variance", 1000)
    assert r.config["initial_point"] == "mp2"


def test_defaults_reach_chemical_accuracy_with_fewer_shots(h2_default_run, h2_per_group_run):
    frugal, old = h2_default_run, h2_per_group_run
    assert old.within_chemical_accuracy and old.success
    # seed 7: 1.6e4 shots (iteration 3) against 1.0e6 (iteration 15)
    assert frugal.shots_to_chemical_accuracy * 10 < old.shots_to_chemical_accuracy


def test_result_repr_is_one_line_of_headline_fields(h2_default_run):
    text = repr(h2_default_run)
    assert text.startswith("VQEResult(fun=") and "\n" not in text
    assert "shots_to_chemical_accuracy=" in text and "shots_used=" in text


def test_result_fields_and_history(h2_per_group_run, h2):
    r = h2_per_group_run
    assert r.x.shape == (3,)
    assert len(r.history) == r.nit + 1
    shots = [h["shots"] for h in r.history]
    assert shots == sorted(shots) and shots[-1] == r.shots_used
    # per iteration: E(x_k) + 4-term gradient (4 points per parameter); plus the final point
    per_point = 1000 * 5
    assert r.shots_used == per_point * (r.nit * (1 + 4 * 3) + 1)
    assert r.nfev == r.nit * 13 + 1
    assert r.history[0]["energy_exact"] == pytest.approx(h2.e_hf, abs=1e-8)
    assert r.energy_exact == r.history[-1]["energy_exact"]
    assert r.error_mha == pytest.approx((r.energy_exact - h2.e_fci) * 1000)
    assert r.fun == r.history[-1]["energy"] and r.stderr > 0
    d = r.to_dict()
    for key in ("energy", "energy_exact", "e_fci", "error_mha", "shots_used", "nit", "history"):
        assert key in d
    assert isinstance(d["x"], list)


def test_same_seed_same_run(h2):
    a = qvopt.vqe(h2, seed=3, maxiter=5)
    b = qvopt.vqe(h2, seed=3, maxiter=5)
    c = qvopt.vqe(h2, seed=4, maxiter=5)
    assert np.array_equal(a.x, b.x) and a.history[-1]["energy"] == b.history[-1]["energy"]
    assert not np.array_equal(a.x, c.x)


def test_exact_mode_converges_and_uses_no_shots(h2):
    r = qvopt.vqe(h2, shots=None, maxiter=80, optimizer="adam", optimizer_options={"lr": 0.1},
                  tol=1e-7)
    assert r.shots_used == 0 and abs(r.error_mha) < 0.01


def test_exact_mode_stops_by_itself_within_tol(h2):
    # the default tol (1.6 mHa): the exact gradient and curvature bound what is left to gain
    r = qvopt.vqe(h2, shots=None, seed=1)
    assert r.status == 0 and r.nit < 20 and r.message.startswith("converged")
    optimum = qvopt.vqe(h2, shots=None, seed=1, tol=1e-9, maxiter=200).energy_exact
    assert 0 <= r.energy_exact - optimum <= 1.6e-3


def test_shot_budget_is_never_exceeded(h2):
    budget = 1_000_000
    r = qvopt.vqe(h2, seed=1, shot_budget=budget, maxiter=1000, tol=None, **PER_GROUP)
    assert r.status == 2 and "budget" in r.message
    assert r.shots_used <= budget
    assert r.shots_used + 13 * 5000 > budget  # it stopped only when the next step did not fit


def test_callback_can_stop(h2):
    calls = []

    def callback(intermediate):
        calls.append(intermediate.nit)
        if intermediate.nit == 3:
            raise StopIteration

    r = qvopt.vqe(h2, seed=1, maxiter=50, callback=callback)
    assert calls == [1, 2, 3] and r.nit == 3 and r.status == 3
    r2 = qvopt.vqe(h2, seed=1, maxiter=50, callback=lambda res: res.nit >= 2)
    assert r2.nit == 2


def test_gtol_stops_exact_run(h2):
    r = qvopt.vqe(h2, shots=None, maxiter=500, optimizer="sgd", optimizer_options={
        "lr": 0.5, "schedule": None}, gtol=1e-6)
    assert r.status == 0 and r.nit < 500


def test_hardware_efficient_ansatz_runs(h2):
    r = qvopt.vqe(h2, ansatz="hardware_efficient", ansatz_options={"layers": 1}, seed=2,
                  maxiter=3)
    assert r.x.shape == (8,) and r.ansatz == "hardware_efficient"


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "adamm"}, r"unknown optimizer 'adamm'"),
    ({"optimizer_options": {"learning_rate": 1}}, r"unknown option\(s\) \['learning_rate'\]"),
    ({"shots": 0}, "shots must be a positive integer"),
    ({"shots": -10}, "shots must be a positive integer"),
    ({"maxiter": -1}, "maxiter must be an integer"),
    ({"initial_point": [0.0, 0.0]}, r"shape \(3,\)"),
    ({"initial_point": [0.0, np.nan, 0.0]}, "NaN"),
    ({"ansatz": "ucc"}, "unknown ansatz"),
    ({"shot_budget": 0}, "shot_budget must be a positive integer"),
])
def test_bad_input(h2, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qvopt.vqe(h2, **kwargs)


def test_unknown_molecule_name():
    with pytest.raises(qvopt.MoleculeFileError, match="unknown molecule 'hx'"):
        qvopt.vqe("hx")


@pytest.mark.slow
def test_lih_fc_defaults_reach_chemical_accuracy(lih_fc):
    r = qvopt.vqe(lih_fc, seed=7)
    assert abs(r.error_mha) < 1.6
