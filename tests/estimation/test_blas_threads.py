"""The sector engine's dense products run on one OpenBLAS thread, and the count comes back."""

from __future__ import annotations

import numpy as np

import qvopt
from qvopt.estimation import blas_threads
from qvopt.estimation.blas_threads import blas_thread_counts, single_threaded_blas


def test_single_threaded_inside_and_restored_after():
    before = blas_thread_counts()
    assert before, "numpy's OpenBLAS not found: the dense products would run multi-threaded"
    with single_threaded_blas():
        assert blas_thread_counts() == [1] * len(before)
    assert blas_thread_counts() == before


def test_restored_when_the_block_raises():
    before = blas_thread_counts()
    try:
        with single_threaded_blas():
            raise KeyError("inside")
    except KeyError:
        pass
    assert blas_thread_counts() == before


def test_class_probabilities_run_single_threaded(monkeypatch):
    """The sector sampler's class probabilities (flip-block products) run inside the
    context, and give the same numbers as without it."""
    problem = qvopt.load_problem("lih_fc")
    circuit = qvopt.ansatz.uccsd(problem)
    est = qvopt.Estimator(problem.hamiltonian, circuit)
    classes = est.sampler.classes
    columns = est.engine.sector_columns(
        np.random.default_rng(3).uniform(-1, 1, (5, circuit.num_parameters)))
    seen = []
    original = classes._moment_classes

    def spy(part):
        seen.append(blas_thread_counts())
        return original(part)

    monkeypatch.setattr(classes, "_moment_classes", spy)
    inside = classes.probabilities_columns(columns)
    assert seen and all(set(counts) == {1} for counts in seen)
    monkeypatch.setattr(blas_threads, "_controls", lambda: ())  # no thread control at all
    outside = classes.probabilities_columns(columns)
    for a, b in zip(inside, outside, strict=True):
        assert np.allclose(a, b, atol=1e-14)
