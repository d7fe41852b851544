"""The ``backend`` fixture: every test that takes it runs on every estimator backend.

``statevector`` (particle-sector states + multinomial draws: the default engine for UCCSD),
``statevector/aer`` (the same backend with Aer statevectors, ``engine="aer"``), ``aer``
(noiseless measured circuits) and ``fake_manila`` (measured circuits with the device's
noise: biased, so tests marked by ``backend.unbiased`` skip their bias checks there). A new
backend or engine added here inherits the whole generic suite (pyhf's ``backend`` fixture,
for estimators).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import qvopt

BACKENDS = ("statevector", "statevector/aer", "aer", "fake_manila")  # "<backend>[/<engine>]"


@dataclass(frozen=True)
class BackendCase:
    """A backend under test on H2 (UCCSD, 3 parameters, 5 QWC groups)."""

    name: str
    problem: object
    circuit: object
    theta: np.ndarray
    unbiased: bool  # noiseless: estimates are unbiased for the exact energy
    engine: str = "auto"

    @property
    def has_metric(self) -> bool:
        return self.name == "statevector"

    def estimator(self, shots=1000, seed=0, **kwargs) -> qvopt.Estimator:
        return qvopt.Estimator(self.problem.hamiltonian, self.circuit, shots=shots, seed=seed,
                               backend=self.name, engine=self.engine, **kwargs)


@pytest.fixture(scope="session")
def h2_uccsd(h2):
    return qvopt.ansatz.build_ansatz("uccsd", h2)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, h2, h2_uccsd) -> BackendCase:
    name, _, engine = request.param.partition("/")
    if name.startswith("fake_"):
        pytest.importorskip("qiskit_ibm_runtime")
    return BackendCase(name, h2, h2_uccsd, np.array([0.2, -0.1, 0.05]),
                       unbiased=not name.startswith("fake_"), engine=engine or "auto")


@pytest.fixture(scope="module")
def shared_estimator(backend) -> qvopt.Estimator:
    """One estimator per backend for tests that do not depend on its history."""
    return backend.estimator(shots=100, seed=0)


def lih_fc_sector_columns(seed: int, n_points: int, reference_last: bool = False):
    """``(estimator, sector columns)`` of lih_fc's UCCSD at ``n_points`` random points
    (uniform in [−1, 1), ``default_rng(seed)``), 1000 shots per group; with
    ``reference_last`` the last point is all zeros (the reference state: one sector state,
    most outcomes impossible). Shared by the sector draw tests' module fixtures."""
    problem = qvopt.load_problem("lih_fc")
    circuit = qvopt.ansatz.uccsd(problem)
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=1000)
    points = np.random.default_rng(seed).uniform(-1, 1, (n_points, circuit.num_parameters))
    if reference_last:
        points[-1] = 0.0
    return est, est.engine.sector_columns(points)
