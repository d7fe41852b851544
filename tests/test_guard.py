"""The guard (qvopt.guard): steps checked against measured energies, runs that end by
themselves, the reported point, and the curvature the steps are scaled by."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.cli import main
from qvopt.driver import Status
from qvopt.estimation.base import Estimate
from qvopt.estimation.estimator import Estimator
from qvopt.estimation.request import Reply, Request
from qvopt.guard import MAX_REJECTIONS, Guarded, predicted_improvement
from qvopt.optimizers import get_optimizer


def _reply(energy, stderr, grad, grad_stderr=0.0, curvature=1.0):
    grad = np.asarray(grad, dtype=float)
    return Reply(value=Estimate(energy, stderr, 0),
                 gradient=Estimate(grad, np.full(grad.shape, grad_stderr), 0),
                 curvature=Estimate(np.full(grad.shape, curvature), np.zeros(grad.shape), 0))


def test_a_step_measured_worse_is_undone_and_later_steps_halved():
    guarded = Guarded(get_optimizer("sgd", lr=0.5), tol=None)
    state = guarded.init(np.array([1.0, 0.0]), np.random.default_rng(0))
    state = guarded.tell(state, _reply(-1.0, 0.01, [1.0, 0.0]))  # accepted: x → (0.5, 0)
    assert np.allclose(guarded.params(state), [0.5, 0.0]) and state.scale == 1.0
    # 0.1 Ha worse than the best point, far beyond 3σ on both sides: undone
    state = guarded.tell(state, _reply(-0.9, 0.01, [5.0, 0.0]))
    assert np.allclose(guarded.params(state), [1.0, 0.0]) and state.scale == 0.5
    assert state.rejections == 1 and state.stop == ""
    # within the noise of the best point: accepted, and the step is halved
    state = guarded.tell(state, _reply(-0.99, 0.01, [1.0, 0.0]))
    assert np.allclose(guarded.params(state), [1.0 - 0.5 * 0.5, 0.0])
    assert state.rejections == 0


def test_steps_that_keep_measuring_worse_stop_as_diverged_at_the_best_point():
    guarded = Guarded(get_optimizer("sgd", lr=0.5), tol=None)
    state = guarded.init(np.array([1.0]), np.random.default_rng(0))
    state = guarded.tell(state, _reply(-1.0, 0.01, [1.0]))
    for k in range(MAX_REJECTIONS):
        assert guarded.stop_reason(state) == ""
        state = guarded.tell(state, _reply(5.0, 0.01, [1.0]))
    assert guarded.stop_reason(state).startswith("diverged")
    assert np.allclose(guarded.params(state), [1.0])  # the best measured point


def test_convergence_needs_the_predicted_gain_below_tol():
    # exact: D = Σ g²/(2h) = 2·(0.01²)/2 = 1e-4 Ha
    guarded = Guarded(get_optimizer("sgd", lr=0.1), tol=2e-4)
    state = guarded.init(np.zeros(2), np.random.default_rng(0))
    state = guarded.tell(state, _reply(-1.0, 0.0, [0.01, 0.01]))
    assert predicted_improvement(state) == pytest.approx(1e-4)
    assert guarded.stop_reason(state).startswith("converged")
    strict = Guarded(get_optimizer("sgd", lr=0.1), tol=5e-5)
    state = strict.tell(strict.init(np.zeros(2), np.random.default_rng(0)),
                        _reply(-1.0, 0.0, [0.01, 0.01]))
    assert strict.stop_reason(state) == ""


def test_noise_keeps_the_test_from_stopping_on_a_noisy_zero_gradient():
    # a gradient measured as ~0 with a large error must not count as converged
    guarded = Guarded(get_optimizer("sgd", lr=0.01), tol=1e-3)
    state = guarded.init(np.zeros(3), np.random.default_rng(0))
    for _ in range(10):
        state = guarded.tell(state, _reply(-1.0, 0.01, [0.0, 0.0, 0.0], grad_stderr=0.1))
    assert guarded.stop_reason(state) == ""
    precise = Guarded(get_optimizer("sgd", lr=0.01), tol=1e-3)
    state = precise.init(np.zeros(3), np.random.default_rng(0))
    for _ in range(10):
        state = precise.tell(state, _reply(-1.0, 0.01, [0.0, 0.0, 0.0], grad_stderr=0.005))
    assert precise.stop_reason(state).startswith("converged")


def test_a_deliberately_huge_step_is_caught(h2):
    start = qvopt.vqe(h2, maxiter=0, seed=0).energy_exact
    wild = {"optimizer": "sgd", "optimizer_options": {"lr": 30.0}, "seed": 4, "maxiter": 40,
            "tol": None}
    guarded = qvopt.vqe(h2, **wild)
    unguarded = qvopt.vqe(h2, **wild, guard=False)
    errors = lambda r: np.array([h["energy_exact"] - start for h in r.history])  # noqa: E731
    # without the guard the iterates stay far up (the final point selection still reports
    # the best measured one); with it every bad step is undone and later steps halved,
    # so the last iterates are back near the start and below it
    assert np.median(errors(unguarded)[-10:]) > 0.1
    assert np.all(errors(guarded)[-10:] < 0.01)
    assert guarded.energy_exact <= start + 1e-3
    assert guarded.status in (Status.DIVERGED, Status.MAXITER)


def test_a_last_step_that_measures_worse_is_not_reported(h2):
    # one huge step and stop: the final measurement of the new point is far worse than the
    # start's, so the start is measured again and reported
    r = qvopt.vqe(h2, optimizer="sgd", optimizer_options={"lr": 30.0}, seed=1, maxiter=1,
                  tol=None)
    assert np.allclose(r.x, qvopt.vqe(h2, maxiter=0, seed=1).x)
    assert "measured again" in r.message
    assert r.stderr <= 1.6e-3


def test_default_runs_stop_within_tol_of_their_own_optimum(h2):
    """How often the stop comes before the energy is within tol of the run's own optimum:
    the bound is one-sided at 95%, so at most a few of 20 seeds (P(≥ 4 | p = 0.05) ≈ 1.6%)."""
    optimum = qvopt.vqe(h2, shots=None, tol=1e-10, maxiter=300).energy_exact
    early, stopped = 0, 0
    for seed in range(20):
        r = qvopt.vqe(h2, seed=seed)
        stopped += r.status == Status.CONVERGED
        early += r.energy_exact - optimum > 1.6e-3
    assert stopped == 20 and early <= 3


def test_exact_curvature_equals_the_hessian_diagonal(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    est = Estimator(h2.hamiltonian, circuit)
    x = np.array([0.1, -0.2, 0.05])
    reply = est.answer(x, Request(gradient=x))
    step = 1e-4
    diagonal = [(est.gradient(x + step * e).value - est.gradient(x - step * e).value)[i]
                / (2 * step) for i, e in enumerate(np.eye(3))]
    assert np.allclose(reply.curvature.value, diagonal, atol=1e-6)
    assert np.all(reply.curvature.stderr == 0)


def test_sampled_curvature_is_unbiased_with_calibrated_errors(h2):
    circuit = qvopt.ansatz.uccsd(h2)
    x = np.array([0.1, -0.2, 0.05])
    exact = Estimator(h2.hamiltonian, circuit).answer(x, Request(gradient=x)).curvature.value
    est = Estimator(h2.hamiltonian, circuit, shots=500, seed=11)
    draws = [est.answer(x, Request(gradient=x)).curvature for _ in range(300)]
    values = np.array([d.value for d in draws])
    stderr = np.mean([d.stderr for d in draws], axis=0)
    assert np.all(np.abs(values.mean(axis=0) - exact) < 4 * stderr / np.sqrt(len(draws)))
    assert np.all((values.std(axis=0) / stderr > 0.85) & (values.std(axis=0) / stderr < 1.15))


def test_measured_curvature_step_by_hand():
    # β = 0.5, exact gradient (w = 1): α_i = β / max(η̂_i, 0.02 max η̂) with η̂ = h
    opt = get_optimizer("icans", lipschitz="measured", step_fraction=0.5, mu=0.5, b=0.0)
    state = opt.init(np.zeros(2))
    reply = Reply(value=Estimate(-1.0, 0.0, 0),
                  gradient=Estimate(np.array([0.2, -0.1]), np.zeros(2), 0),
                  curvature=Estimate(np.array([4.0, 0.5]), np.zeros(2), 0))
    state = opt.tell(state, reply)
    assert np.allclose(opt.params(state), [-0.5 / 4.0 * 0.2, 0.5 / 0.5 * 0.1])


def test_measured_curvature_needs_it_in_the_reply_and_no_lr():
    opt = get_optimizer("icans", lipschitz="measured")
    state = opt.init(np.zeros(1))
    with pytest.raises(qvopt.InputError, match="curvature"):
        opt.tell(state, Reply(value=Estimate(0.0, 0.0, 0),
                              gradient=Estimate(np.ones(1), np.zeros(1), 0)))
    with pytest.raises(qvopt.InputError, match="step_fraction"):
        get_optimizer("icans", lipschitz="measured", lr=0.1)


def test_tol_reaches_the_run_from_the_api_cli_and_run_files(tmp_path, h2):
    assert qvopt.RunConfig("h2").tol == 1.6e-3
    assert qvopt.RunConfig("h2", tol="none").tol is None
    with pytest.raises(qvopt.InputError, match="tol"):
        qvopt.RunConfig("h2", tol=-1.0)
    run_file = tmp_path / "run.toml"
    run_file.write_text('molecule = "h2"\ntol = 2e-3\nguard = false\n')
    config = qvopt.RunConfig.from_toml(run_file)
    assert config.tol == 2e-3 and config.guard is False
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "h2", "--tol", "abc"])
    assert exit_info.value.code == 2
    out = tmp_path / "r.json"
    assert main(["run", "h2", "--shots", "exact", "--tol", "0.002", "--no-progress",
                 "--out", str(out)]) == 0
    import json

    data = json.loads(out.read_text())
    assert data["config"]["tol"] == 0.002 and data["status"] == 0
    assert data["message"].startswith("converged")


@pytest.mark.parametrize("optimizer", ["nelder-mead", "spsa"])
def test_a_gradient_free_run_never_reports_a_point_worse_than_its_start(h2, optimizer):
    # Nelder–Mead at the VQE defaults wandered 73 mHa uphill on H2 (seed 0, round 2) where
    # its noisy records cannot show it; the start, measured again, is reported instead
    # The choice compares two measurements of standard error σ (final_precision, 1.6 mHa):
    # it can keep a final point up to a few σ√2 worse, never tens of mHa.
    start = qvopt.vqe(h2, maxiter=0, seed=0).energy_exact
    for seed in range(3):
        r = qvopt.vqe(h2, optimizer=optimizer, seed=seed, maxiter=60)
        assert r.energy_exact <= start + 3 * np.sqrt(2) * r.stderr, (seed, r.message)


@pytest.mark.parametrize("molecule", ["h2", "lih_fc", "benchmarks/molecules/h4_long.toml"])
def test_exact_runs_stop_within_tol_of_their_own_optimum(molecule):
    # h4 at 2 Å: strongly coupled parameters, where the diagonal model alone stopped 4.3 mHa
    # short; the exact-mode tail of the energy decreases keeps the run going
    from pathlib import Path

    if molecule.endswith(".toml"):
        molecule = str(Path(__file__).resolve().parents[1] / molecule)
    r = qvopt.vqe(molecule, shots=None)
    optimum = qvopt.vqe(molecule, shots=None, tol=1e-9, maxiter=400).energy_exact
    assert r.status == Status.CONVERGED
    assert 0 <= r.energy_exact - optimum <= r.config["tol"]


def test_the_best_of_many_records_does_not_outvote_a_precise_final_by_luck():
    # hf_fc seed 1 (held out) ended at 0.76 mHa, but its 1.6 mHa final measurement was
    # judged 3σ worse than the luckiest of 37 one-evaluation records (−3.3σ) and iteration
    # 9 (3.84 mHa) was reported. With n records the comparison uses record_z(n), the 3σ
    # level shared among them; and a re-measured candidate must also measure lower.
    from qvopt.vqe import record_z

    rng = np.random.default_rng(5)
    n, sigma, sigma_final, trials = 37, 0.06, 0.001, 20000
    records = rng.normal(0.0, sigma, size=(trials, n))  # every point at the same energy
    final = rng.normal(0.0, sigma_final, size=trials)

    def misfire_rate(z: float) -> float:
        return float(np.mean(final - z * sigma_final > records.min(axis=1) + z * sigma))

    assert misfire_rate(3.0) > 0.02  # the old rule: ~4% of runs moved on luck alone
    assert misfire_rate(record_z(n)) < 0.003
    assert record_z(1) == pytest.approx(3.0) and record_z(37) > record_z(10) > 3.0


def test_a_start_close_to_the_final_point_is_measured_again_before_choosing():
    # Nelder–Mead on lih_fc wanders above its start (9 of seeds 0–11; seed 0 did until
    # the sector engine's draws changed); one 1.6 mHa measurement of each can miss it.
    # Within 2σ of the difference, both are measured again to half the precision and
    # pooled: the start is found lower and reported.
    r = qvopt.vqe("lih_fc", optimizer="nelder-mead", seed=1)
    assert r.message.endswith("the start measured lower than the final point and is "
                              "reported (measured again)")
    assert r.energy_exact == pytest.approx(r.history[0]["energy_exact"], abs=1e-12)


def test_pooled_estimates_are_inverse_variance_means():
    from qvopt.estimation.base import Estimate
    from qvopt.vqe import pooled

    both = pooled(Estimate(1.0, 0.1, 100), Estimate(2.0, 0.2, 25))
    assert both.value == pytest.approx((100 * 1.0 + 25 * 2.0) / 125)
    assert both.stderr == pytest.approx((100 + 25) ** -0.5)
    assert both.shots == 125


def test_pooling_keeps_an_exact_estimate():
    from qvopt.estimation.base import Estimate
    from qvopt.vqe import pooled

    assert pooled(Estimate(1.0, 0.0, 10), Estimate(2.0, 0.5, 5)) == Estimate(1.0, 0.0, 15)


def test_the_start_comparison_stays_inside_the_shot_budget(h2):
    # the extra start/final measurements of a gradient-free run must respect shot_budget
    for budget in (150_000, 200_000, 260_000):
        r = qvopt.vqe(h2, optimizer="nelder-mead", seed=0, maxiter=20, shot_budget=budget)
        assert r.shots_used <= budget, (budget, r.shots_used, r.message)
