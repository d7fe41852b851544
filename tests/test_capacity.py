"""Time and memory of a gradient, predicted before a run; runs that cannot fit refused."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt import capacity
from qvopt.config import RunConfig
from qvopt.preview import preview
from qvopt.vqe import _Run


def test_the_probe_predicts_without_touching_the_run():
    run = _Run(RunConfig("lih_fc", seed=3))
    state = run.estimator.random_state()
    cost = capacity.gradient_cost(run.estimator, run.x0, run.points_per_gradient())
    assert cost.points == run.points_per_gradient() > 1
    assert cost.seconds >= 0 and 0 < cost.peak_bytes < 1e9 and "timed here" in cost.model
    assert run.estimator.shots_used == 0 and run.estimator.random_state() == state
    # the run after the probe is the run without it
    assert qvopt.run(RunConfig("lih_fc", seed=3, maxiter=2)).shots_used == \
        qvopt.run(RunConfig("lih_fc", seed=3, maxiter=2)).shots_used


def test_the_preview_gives_the_gradient_cost():
    cost = preview(RunConfig("h2"))
    assert cost["gradient_seconds"] >= 0 and cost["gradient_memory_gb"] >= 0
    assert preview(RunConfig("h2", backend="aer"))["gradient_seconds"] is None


def test_a_run_that_cannot_fit_is_refused_before_any_shot(monkeypatch):
    monkeypatch.setattr(capacity, "CHECK_FROM_QUBITS", 1)
    monkeypatch.setattr(capacity, "available_memory", lambda: 1000.0)
    with pytest.raises(qvopt.InputError, match=r"one gradient \(\d+ parameter points\) "
                                               r"needs about .* GB available"):
        qvopt.vqe("h2", seed=0)


def test_available_memory_is_positive():
    assert capacity.available_memory() > 1e8
    assert np.isfinite(capacity.available_memory())


def test_outcome_tables_that_cannot_fit_are_refused_before_they_are_built(monkeypatch):
    """The kept outcome tables (4 bytes an outcome) and one table being built are checked
    against the available memory before any is built: a one-line error, not the system
    killing the process."""
    import qvopt.memory
    from qvopt.estimation.observable import BUILD_BYTES_PER_OUTCOME, TABLE_BYTES_PER_OUTCOME

    h2 = qvopt.load_problem("h2")
    need = 5 * 2**4 * TABLE_BYTES_PER_OUTCOME + 2**4 * BUILD_BYTES_PER_OUTCOME  # 5 groups
    monkeypatch.setattr(qvopt.memory, "available_memory", lambda: need / 0.8 * 0.99)
    with pytest.raises(qvopt.InputError, match=r"measuring 5 groups on 4 qubits needs about "
                                               r".* GB \(outcome tables: 5 kept × 2\^4 "):
        qvopt.Estimator(h2.hamiltonian, qvopt.ansatz.uccsd(h2), shots=100)
    monkeypatch.setattr(qvopt.memory, "available_memory", lambda: need / 0.8 * 1.01)
    qvopt.Estimator(h2.hamiltonian, qvopt.ansatz.uccsd(h2), shots=100)  # fits: built
