"""Rosalin (Arrasmith et al. 2020): the iCANS shot rule with weighted random operator
sampling — hand-derived steps, convergence, requests honored exactly, and VQE/CLI reach."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.optimizers import get_optimizer
from qvopt.optimizers.icans import lipschitz_bound
from qvopt.optimizers.registry import (
    CANS_MAX_SHOTS_FACTOR,
    CANS_MIN_SHOTS_PER_GROUP,
    problem_options,
)

from .replies import reply


def test_two_steps_by_hand():
    # α = 0.2, L = 5 (Lα = 1: shot prefactor 2Lα/(2 − Lα) = 2), μ = 0.5, b = 0, s_min = 3
    opt = get_optimizer("rosalin", lr=0.2, lipschitz=5.0, mu=0.5, b=0.0, min_shots=3)
    x0 = np.array([1.0, 0.5])
    state = opt.init(x0)
    request = opt.ask(state)
    assert request.term_sampling == "weighted_random"
    assert np.array_equal(request.gradient_shots, [3, 3]) and np.array_equal(request.gradient, x0)
    # step 0: g = (0.5, 1), stderr (1, 0.5) with s = 3 → S = 3·stderr² = (3, 0.75)
    state = opt.tell(state, reply([0.5, 1.0], [1.0, 0.5]))
    assert np.allclose(opt.params(state), [0.9, 0.3])
    # bias-corrected χ̂ = g, ξ̂ = S: s = 2 ξ̂/χ̂² = (24, 1.5) → (24, 3) after s_min;
    # γ_i = [(α − Lα²/2) χ̂² − Lα² ξ̂/(2 s)]/s = [0.1 χ̂² − 0.1 ξ̂/s]/s:
    # γ_0 = (0.025 − 0.0125)/24 > 0, γ_1 = (0.1 − 0.025)/3 = 0.025 → s_max = 3 → (3, 3)
    assert np.array_equal(opt.ask(state).gradient_shots, [3, 3])
    # step 1: g = (0.25, 0.5), stderr (0.5, 1) with s = (3, 3) → S = (0.75, 3)
    state = opt.tell(state, reply([0.25, 0.5], [0.5, 1.0]))
    assert np.allclose(opt.params(state), [0.85, 0.2])
    # χ = ½·½(0.5, 1) + ½(0.25, 0.5) = (0.25, 0.5); ξ = ½·½(3, 0.75) + ½(0.75, 3) = (1.125, 1.6875)
    # correction ¾: χ̂ = (1/3, 2/3), ξ̂ = (1.5, 2.25); s = 2ξ̂/χ̂² = (27, 10.125) → (27, 11)
    # γ_0 = [0.1/9 − 0.1·1.5/27]/27 < 0 < γ_1 = [0.1·4/9 − 0.1·2.25/11]/11 → s_max = 11
    assert np.allclose(state.chi, [0.25, 0.5]) and np.allclose(state.xi, [1.125, 1.6875])
    assert np.array_equal(opt.ask(state).gradient_shots, [11, 11])


def test_converges_on_a_quadratic():
    center = np.array([0.5, -1.0, 2.0])
    weights = np.array([1.0, 3.0, 0.5])
    result = qvopt.minimize(lambda x: float(np.sum(weights * (x - center) ** 2)),
                            np.zeros(3), jac=lambda x: 2 * weights * (x - center),
                            method="rosalin",
                            options={"lr": 0.2, "lipschitz": 6.0, "maxiter": 200})
    assert np.allclose(result.x, center, atol=1e-6)


@pytest.mark.parametrize("allocation", [None, "variance"])
def test_shot_requests_are_charged_exactly(h2, allocation):
    circuit = build_ansatz("uccsd", h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=60, allocation=allocation, seed=5)
    opt = get_optimizer("rosalin", lr=0.05, lipschitz=lipschitz_bound(h2.hamiltonian),
                        mu=0.5)
    # fewer shots than H2's 5 groups for a component, then whatever the rule asks for
    state = opt.init(np.array([0.1, -0.05, 0.2]))._replace(shots=np.array([2, 9, 40]))
    points = 4  # Givens excitations: four-term shift rule
    for _ in range(4):
        request = opt.ask(state)
        shots = np.asarray(request.gradient_shots)
        before = est.shots_used
        answer = est.answer(opt.params(state), request)
        assert est.shots_used - before == est.cost(request) \
            == est.shots_per_evaluation + points * int(shots.sum())
        assert answer.gradient.shots == points * int(shots.sum())
        state = opt.tell(state, answer)


def test_problem_options_are_totals_per_shifted_point(h2):
    circuit = build_ansatz("uccsd", h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=100)  # per group: not rosalin's unit
    groups = est.grouped.n_groups
    assert problem_options("rosalin", est) == {
        "lipschitz": lipschitz_bound(h2.hamiltonian),
        "min_shots": CANS_MIN_SHOTS_PER_GROUP * groups,
        "max_shots": CANS_MAX_SHOTS_FACTOR * CANS_MIN_SHOTS_PER_GROUP * groups}


def test_vqe_reaches_chemical_accuracy_on_h2(h2):
    reached = []
    for seed in range(3):
        result = qvopt.vqe(h2, ansatz="uccsd", optimizer="rosalin", shots=40,
                           allocation="variance", initial_point="mp2", seed=seed, maxiter=40)
        assert result.config["optimizer"] == "rosalin"
        reached.append(result.shots_to_chemical_accuracy is not None)
        assert result.error_mha < 1.6
    assert all(reached)


def test_cli_runs_rosalin(tmp_path, capsys):
    from qvopt.cli import main

    out = tmp_path / "run.json"
    code = main(["run", "h2", "--optimizer", "rosalin", "--maxiter", "3", "--seed", "1",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    saved = json.loads(out.read_text())
    assert saved["config"]["optimizer"] == "rosalin"
