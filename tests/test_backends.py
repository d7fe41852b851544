"""Circuit backends: fake devices with noise, mitigation, retries, PennyLane, credentials."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt
from qvopt.estimation.backends import BackendError

pytest.importorskip("qiskit_ibm_runtime")


@pytest.fixture(scope="module")
def h2_circuit(h2):
    return qvopt.ansatz.uccsd(h2)


def test_fake_backend_energy_is_biased_and_mitigation_reduces_the_bias(h2, h2_circuit):
    theta = np.zeros(3)
    exact = h2.e_hf
    raw = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=20_000, seed=3,
                          backend="fake_manila").energy(theta)
    mitigated_est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=20_000, seed=3,
                                    backend="fake_manila",
                                    backend_options={"mitigation": "readout"})
    mitigated = mitigated_est.energy(theta)
    assert raw.value - exact > 5 * raw.stderr  # noise biases the energy upwards
    assert abs(mitigated.value - exact) < abs(raw.value - exact) - 3 * np.hypot(
        raw.stderr, mitigated.stderr)
    assert mitigated_est.shots_used == 20_000 * 5 + 2 * 10_000  # calibration is charged


def test_readout_only_noise_is_removed_by_mitigation(h2, h2_circuit):
    theta = np.array([0.2, -0.1, 0.05])
    exact = qvopt.Estimator(h2.hamiltonian, h2_circuit).exact_energy(theta)
    est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=20_000, seed=4, backend="aer",
                          backend_options={"noise": {"readout": 0.05},
                                           "mitigation": "readout"})
    e = est.energy(np.tile(theta, (4, 1)))
    combined, err = e.value.mean(), np.sqrt(np.sum(e.stderr**2)) / 4
    assert abs(combined - exact) < 4 * err
    raw = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=20_000, seed=4, backend="aer",
                          backend_options={"noise": {"readout": 0.05}}).energy(theta)
    assert raw.value - exact > 5 * raw.stderr


def test_noisy_vqe_on_fake_backend_completes_biased_above_noiseless(h2):
    r = qvopt.vqe(h2, optimizer="spsa", shots=2000, seed=1, maxiter=3, backend="fake_manila")
    assert r.nit == 3 and r.backend == "fake_manila"
    assert r.fun - r.energy_exact > 3 * r.stderr


class FlakySampler:
    """A device double: its first ``failures`` submissions raise, then it samples with Aer."""

    name = "flaky"

    def __init__(self, failures: int):
        from qiskit_aer.primitives import SamplerV2

        self.failures = failures
        self.calls = 0
        self.inner = SamplerV2(seed=5)

    def run(self, pubs, shots=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"submission {self.calls} rejected")
        return self.inner.run(pubs, shots=shots)


def test_failed_submissions_are_retried(h2):
    device = FlakySampler(failures=2)
    r = qvopt.vqe(h2, optimizer="sgd", shots=500, allocation=None, final_precision=None,
                  seed=1, maxiter=2,
                  backend=device, backend_options={"max_retries": 3, "retry_delay": 0.0})
    assert r.status == 1 and r.nit == 2
    assert device.calls == 2 + 3  # two failures, then one job per iteration and the final


def test_backend_that_always_fails_stops_cleanly_with_checkpoint(h2, tmp_path):
    from qvopt.checkpoint import load

    class DiesAfter(FlakySampler):
        def run(self, pubs, shots=None):
            self.calls += 1
            if self.calls > 2:
                raise TimeoutError("queue timeout")
            return self.inner.run(pubs, shots=shots)

    r = qvopt.vqe(h2, optimizer="sgd", shots=500, allocation=None, seed=1, maxiter=10,
                  backend=DiesAfter(0), backend_options={"max_retries": 2, "retry_delay": 0})
    assert r.status == 5 and "failed 3 times" in r.message and r.nit == 2
    # same with a named backend and a checkpoint: the checkpoint survives and is loadable
    ck = tmp_path / "run.ckpt"
    ok = qvopt.vqe(h2, optimizer="sgd", shots=500, allocation=None, seed=1, maxiter=2,
                   checkpoint=ck)
    meta, _ = load(ck)  # the checkpoint is (JSON meta, arrays) since the data-only format
    assert meta["nit"] == 2 and len(meta["records"]) == 2 and ok.nit == 2


@pytest.mark.parametrize("ansatz", ["uccsd", "hardware_efficient"])
def test_pennylane_adapter_gives_the_statevector_energies(h2, ansatz):
    circuit = qvopt.ansatz.build_ansatz(ansatz, h2)
    theta = np.random.default_rng(1).uniform(-1, 1, (3, circuit.num_parameters))
    reference = qvopt.Estimator(h2.hamiltonian, circuit).energy(theta).value
    adapter = qvopt.Estimator(h2.hamiltonian, circuit, backend="pennylane:default.qubit")
    assert np.allclose(adapter.energy(theta).value, reference, atol=1e-10)


def test_pennylane_adapter_sampled_is_unbiased(h2, h2_circuit):
    theta = np.array([0.2, -0.1, 0.05])
    exact = qvopt.Estimator(h2.hamiltonian, h2_circuit).exact_energy(theta)
    est = qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=5000, seed=2,
                          backend="pennylane:default.qubit")
    e = est.energy(np.tile(theta, (4, 1)))
    assert abs(e.value.mean() - exact) < 4 * np.sqrt(np.sum(e.stderr**2)) / 4
    assert e.shots == 4 * 5 * 5000


def test_missing_ibm_credentials_are_a_clear_error(h2, h2_circuit, tmp_path, monkeypatch):
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(BackendError, match="no IBM Quantum credentials"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="ibm:ibm_brisbane")


def test_unknown_backends_and_options(h2, h2_circuit):
    with pytest.raises(ValueError, match="unknown fake backend 'fake_nowhere'"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="fake_nowhere")
    with pytest.raises(ValueError, match="unknown backend 'quantinuum'"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="quantinuum")
    with pytest.raises(ValueError, match=r"unknown backend option\(s\) \['noize'\]"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="aer",
                        backend_options={"noize": {}})
    with pytest.raises(ValueError, match="give shots"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=None, backend="aer")
    with pytest.raises(ValueError, match="only available on the statevector backend"):
        qvopt.Estimator(h2.hamiltonian, h2_circuit, shots=100, backend="aer").metric(
            np.zeros(3))


def test_no_credential_in_any_file_qvopt_writes(h2, tmp_path, monkeypatch):
    token = "FAKE-TOKEN-1234567890-do-not-leak"
    monkeypatch.setenv("QISKIT_IBM_TOKEN", token)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "crn:fake-instance-0987")
    from qvopt.cli import main

    run_file = tmp_path / "run.toml"
    run_file.write_text('molecule = "h2"\nshots = 500\nmaxiter = 2\nseed = 1\n'
                        '[optimizer]\nname = "adam"\n[output]\nresult = "r.json"\n'
                        'checkpoint = "r.ckpt"\n')
    assert main(["run", "--config", str(run_file), "--no-progress"]) == 0
    qvopt.compare(["h2"], ["adam"], [500], seeds=1, maxiter=2, store=tmp_path / "s.sqlite",
                  workers=1)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"r.json", "r.ckpt", "s.sqlite"} <= {p.name for p in written}
    for path in written:
        data = path.read_bytes()
        assert token.encode() not in data and b"fake-instance-0987" not in data, path


def test_run_file_validation(tmp_path):
    from qvopt.config import RunConfig
    from qvopt.runfile import RunFileError

    load_run_file = RunConfig.from_toml

    good = tmp_path / "ok.toml"
    good.write_text('molecule = "h2"\nshots = 100\n[optimizer]\nname = "spsa"\nblocking = true\n'
                    '[backend]\nname = "fake_manila"\nmitigation = "readout"\n')
    loaded = load_run_file(good)  # a RunConfig since the configuration became a value
    assert loaded.backend == "fake_manila"
    assert loaded.optimizer_options == {"blocking": True}
    for text, message in [
        ('molecule = "h2"\ncolour = 1\n', r"unknown key\(s\) \['colour'\]"),
        # the [backend] table is checked by validate_backend (RunConfig) since the registry
        ('molecule = "h2"\n[backend]\nname = "aer"\nnoize = 1\n',
         r"\[backend\] unknown backend option\(s\) \['noize'\]"),
        ('molecule = "h2"\n[optimizer]\nname = "adam"\nlrr = 1\n', r"\[optimizer\] unknown"),
        ('molecule = "h2"\n[output]\nplot = "x"\n', r"\['output.plot'\]"),
        ('shots = 10\n', "missing key 'molecule'"),
        ('molecule = "h9"\n', "unknown molecule 'h9'"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises((RunFileError, ValueError), match=message):
            load_run_file(bad)


@pytest.mark.parametrize("optimizer", ["adam", "spsa", "qng"])
def test_resumed_run_equals_uninterrupted_run(h2, tmp_path, optimizer):
    full = qvopt.vqe(h2.spec.source, optimizer=optimizer, seed=9, maxiter=10)
    ck = tmp_path / "ck"
    qvopt.vqe(h2.spec.source, optimizer=optimizer, seed=9, maxiter=4, checkpoint=ck)
    resumed = qvopt.resume(ck, maxiter=10)
    fields = ("iteration", "energy", "stderr", "energy_exact", "shots")
    assert [tuple(h[f] for f in fields) for h in resumed.history] == \
        [tuple(h[f] for f in fields) for h in full.history]
    assert np.array_equal(resumed.x, full.x) and resumed.shots_used == full.shots_used


def test_checkpoint_errors(h2, tmp_path):
    with pytest.raises(ValueError, match="runs inside SciPy"):
        qvopt.vqe(h2.spec.source, optimizer="lbfgs", checkpoint=tmp_path / "x")
    with pytest.raises(ValueError, match="does not exist"):
        qvopt.resume(tmp_path / "missing")
    (tmp_path / "junk").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable qvopt checkpoint"):
        qvopt.resume(tmp_path / "junk")


@pytest.mark.parametrize("controls", [1, 2, 3])
def test_gray_code_controlled_ry_is_exact_and_cheap(controls):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Operator

    from qvopt.ansatz.gates import MultiControlledRY, gray_code_mcry

    reference = QuantumCircuit(controls + 1)
    reference.append(MultiControlledRY(0.91, controls), range(controls + 1))
    network = gray_code_mcry(0.91, controls)
    assert np.allclose(Operator(network).data, Operator(reference).data, atol=1e-12)
    assert network.count_ops()["cx"] == 2**controls


def test_device_circuits_prepare_the_same_states(lih_fc):
    from qiskit.quantum_info import Statevector

    from qvopt.estimation.backends import for_devices

    circuit = qvopt.ansatz.uccsd(lih_fc)
    theta = np.random.default_rng(3).normal(size=circuit.num_parameters)
    device = for_devices(circuit)
    assert "mcry" not in device.count_ops()
    overlap = np.vdot(Statevector(device.assign_parameters(theta)).data,
                      Statevector(circuit.assign_parameters(theta)).data)
    assert abs(abs(overlap) - 1) < 1e-10
