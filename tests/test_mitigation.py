"""Zero-noise extrapolation: folding, extrapolation formulas, shot accounting, honest stderr."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import Operator

import qvopt
from qvopt.errors import InputError
from qvopt.estimation.mitigation import (
    ZNESettings,
    extrapolate,
    fold_gates,
    fold_global,
    linear_weights,
    parse_mitigation,
    richardson_weights,
    split_shots,
)
from qvopt.estimation.request import Request
from qvopt.estimation.sampler import moments_from_counts

SCALES = (1, 3, 5)


@pytest.fixture(scope="module")
def h2_circuit(h2):
    return qvopt.ansatz.uccsd(h2)


THETA = np.array([0.0, 0.0, -0.11])


# ---------------------------------------------------------------- extrapolation formulas
def test_richardson_weights_recover_a_polynomial_intercept():
    gamma = richardson_weights(SCALES)
    np.testing.assert_allclose(gamma, [15 / 8, -10 / 8, 3 / 8])
    lam = np.array(SCALES, float)
    y = 0.7 - 0.2 * lam + 0.03 * lam**2
    value, _ = extrapolate(y, np.zeros(3), SCALES, "richardson")
    assert value == pytest.approx(0.7, abs=1e-12)


def test_linear_and_exponential_recover_their_models():
    lam = np.array(SCALES, float)
    value, _ = extrapolate(0.7 - 0.2 * lam, np.zeros(3), SCALES, "linear")
    assert value == pytest.approx(0.7, abs=1e-12)
    np.testing.assert_allclose(linear_weights([1, 3]), [1.5, -0.5])
    for amplitude in (-0.9, 0.4):
        y = amplitude * np.exp(-0.13 * lam)
        value, _ = extrapolate(y, np.zeros(3), SCALES, "exponential")
        assert value == pytest.approx(amplitude, rel=1e-12)
    # sign change: falls back to the linear rule
    y = np.array([0.01, -0.02, -0.05])
    assert extrapolate(y, np.zeros(3), SCALES, "exponential")[0] == pytest.approx(
        extrapolate(y, np.zeros(3), SCALES, "linear")[0])


@pytest.mark.parametrize("method", ["richardson", "linear", "exponential"])
def test_propagated_variance_matches_monte_carlo(method):
    rng = np.random.default_rng(7)
    lam = np.array(SCALES, float)
    truth = -0.8 * np.exp(-0.1 * lam)
    sigma = np.array([0.004, 0.006, 0.009])
    draws = truth[:, None] + sigma[:, None] * rng.standard_normal((3, 40_000))
    values, variances = extrapolate(draws, np.broadcast_to((sigma**2)[:, None], draws.shape),
                                    SCALES, method)
    assert np.std(values) == pytest.approx(np.sqrt(np.mean(variances)), rel=0.03)


def test_shot_split_is_exact_and_proportional():
    shots = np.array([[1000, 7], [3, 12345]])
    parts = split_shots(shots, richardson_weights(SCALES))
    assert parts.shape == (3, 2, 2)
    np.testing.assert_array_equal(parts.sum(axis=0), shots)
    assert parts.min() >= 1
    np.testing.assert_allclose(parts[:, 1, 1] / 12345, np.array([15, 10, 3]) / 28, atol=1e-3)
    with pytest.raises(InputError, match="at least 3 shots"):
        split_shots(np.array([[2]]), [1, 1, 1])


def test_options_are_validated(h2, h2_circuit):
    assert parse_mitigation("readout,zne") == {"readout", "zne"}
    assert parse_mitigation(["zne"]) == {"zne"}
    for bad in ({"scale_factors": [1, 2]}, {"scale_factors": [3]}, {"folding": "random"},
                {"extrapolation": "cubic"}, {"scales": [1, 3]}):
        with pytest.raises(InputError):
            ZNESettings.from_options(bad)
    with pytest.raises(InputError, match="unknown mitigation"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="aer",
                        backend_options={"mitigation": ["readout", "pec"]})


# ---------------------------------------------------------------- folding
def _unitary_part(circuit: QuantumCircuit) -> QuantumCircuit:
    out = circuit.copy()
    out.remove_final_measurements()
    return out


@pytest.mark.parametrize("fold", [fold_global, fold_gates])
def test_folding_is_the_identity_on_isa_circuits(fold):
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.rx(0.3, 1)
    qc.cx(0, 1)
    qc.ry(0.7, 2)
    qc.cz(1, 2)
    qc.sdg(2)
    qc.measure_all()
    isa = transpile(qc, FakeManilaV2(), optimization_level=1, seed_transpiler=1)
    basis = set(FakeManilaV2().operation_names)
    for scale in (3, 5):
        folded = fold(isa, scale)
        assert {i.operation.name for i in folded.data} <= basis | {"barrier"}
        assert Operator(_unitary_part(folded)).equiv(Operator(_unitary_part(isa)))
        assert folded.count_ops()["measure"] == 3
        two_q = sum(1 for i in isa.data if i.operation.num_qubits == 2
                    and i.operation.name != "barrier")
        folded_2q = sum(1 for i in folded.data if i.operation.num_qubits == 2
                        and i.operation.name != "barrier")
        assert folded_2q == scale * two_q


def test_every_scale_gives_the_ideal_energy_on_a_noiseless_simulator(h2, h2_circuit):
    """Noiseless Aer: each folded circuit alone gives the exact energy within shot noise."""
    exact = qvopt.Estimator(h2.hamiltonian, h2_circuit).energy(THETA).value
    for folding in ("global", "gates"):
        est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=20_000, seed=2, backend="aer",
                              backend_options={"mitigation": "zne",
                                               "zne": {"scale_factors": list(SCALES),
                                                       "folding": folding}})
        sampler = est.sampler
        n_groups = len(sampler.circuits)
        flat = np.full((1, len(SCALES) * n_groups), 20_000)
        counts = sampler.counts(THETA[None, :], flat, np.random.default_rng(3))
        for k, scale in enumerate(SCALES):
            rows = slice(k * n_groups, (k + 1) * n_groups)
            m = moments_from_counts(counts[rows], sampler.values, flat[:, rows],
                                    sampler.grouped.constant)
            value, variance = m.energies()
            assert abs(value[0] - exact) < 4.5 * np.sqrt(variance[0]), (folding, scale)
        zne = est.energy(THETA)
        assert abs(zne.value - exact) < 4.5 * zne.stderr


# ---------------------------------------------------------------- shots and stderr
class CountingSampler:
    """A SamplerV2-like device that counts every shot it runs (Aer underneath)."""

    name = "counting"

    def __init__(self):
        from qiskit_aer.primitives import SamplerV2

        self.inner = SamplerV2(seed=11)
        self.shots = 0
        self.jobs = 0

    def run(self, pubs, shots=None):
        self.jobs += 1
        for pub in pubs:
            points = 1 if len(pub) == 1 else len(np.atleast_2d(pub[1]))
            self.shots += points * shots
        return self.inner.run(pubs, shots=shots)


def test_folded_circuit_shots_are_charged_exactly(h2, h2_circuit):
    device = CountingSampler()
    est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=300, seed=1, backend=device,
                          backend_options={"mitigation": ["readout", "zne"],
                                           "calibration_shots": 1000})
    assert device.shots == est.shots_used == 2000  # calibration
    request = Request(gradient=THETA)
    expected = est.cost(request)
    est.answer(THETA, request)
    assert device.shots == est.shots_used == 2000 + expected
    # one job per distinct shot count: 300 splits into 3 counts over [1, 3, 5]
    assert device.jobs == 1 + 3  # calibration (both circuits in one job), then the call
    before = device.shots
    est.energy(np.vstack([THETA, 2 * THETA]))
    assert device.shots - before == est.cost(Request(energies=THETA[None, :])) \
        == 2 * 300 * est.grouped.n_groups


def test_zne_stderr_matches_the_spread_on_a_noisy_simulator(h2, h2_circuit):
    est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=4000, seed=5, backend="aer",
                          backend_options={"noise": {"depolarizing_2q": 0.01},
                                           "mitigation": "zne",
                                           "zne": {"scale_factors": [1, 3]}})
    estimates = est.energy(np.tile(THETA, (24, 1)))
    spread = np.std(estimates.value, ddof=1)
    stderr = np.sqrt(np.mean(estimates.stderr**2))
    assert 0.65 < spread / stderr < 1.4
