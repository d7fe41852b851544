"""Every optimizer through the VQE driver on H2 with 1000 shots per measurement group, from
the Hartree–Fock state (pinned: the run defaults are 1000 shots per evaluation and MP2)."""

from __future__ import annotations

import pytest

import qvopt

REACH_CHEMICAL_ACCURACY = ["adam", "rmsprop", "qng", "spsa", "lbfgs"]
PER_GROUP = {"allocation": None, "initial_point": "hf", "final_precision": None}


@pytest.mark.parametrize("name", REACH_CHEMICAL_ACCURACY)
def test_h2_1000_shots_reaches_chemical_accuracy_with_vqe_defaults(h2, name):
    # a seeded run: adam ends within 1.6 mHa on 14 of seeds 0–19 (the same count before
    # and after the sector engine's draws changed, when seed 3 stopped being one of
    # them); seed 7 is one for all five
    r = qvopt.vqe(h2, optimizer=name, shots=1000, **PER_GROUP, seed=7)
    assert abs(r.error_mha) < 1.6, (name, r.error_mha, r.message)


@pytest.mark.parametrize("name", sorted(set(qvopt.optimizers.available())
                                        - set(REACH_CHEMICAL_ACCURACY)))
def test_every_other_optimizer_runs_and_improves_on_hartree_fock(h2, name):
    r = qvopt.vqe(h2, optimizer=name, shots=1000, **PER_GROUP, seed=3, maxiter=40)
    assert r.energy_exact < h2.e_hf
    assert len(r.history) >= 2 and r.history[-1]["shots"] == r.shots_used


@pytest.mark.parametrize("name", ["qng", "spsa", "qnspsa", "lbfgs", "cobyla"])
def test_shot_budget_respected_by_every_kind_of_optimizer(h2, name):
    budget = 150_000
    r = qvopt.vqe(h2, optimizer=name, shots=1000, **PER_GROUP, seed=1, shot_budget=budget,
                  maxiter=10_000)
    assert r.shots_used <= budget
    assert r.status == 2 and "budget" in r.message


def test_spsa_history_counts_rounds_and_shots(h2):
    r = qvopt.vqe(h2, optimizer="spsa", shots=1000, **PER_GROUP, seed=2, maxiter=5)
    # calibration round (2×10 points) then 4 steps of 2 points, plus E(θ) each round + final
    # + the start measured again (SPSA measures no gradient: its end is compared with its
    # start, see qvopt.vqe)
    groups = 5
    assert r.shots_used == 1000 * groups * ((1 + 20) + 4 * (1 + 2) + 1 + 1)
