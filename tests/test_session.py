"""IBM Runtime Session / Batch mode, offline: the runtime's service, modes and SamplerV2 are
replaced at the network boundary (the classes qvopt imports from qiskit_ibm_runtime)."""

from __future__ import annotations

import numpy as np
import pytest

import qvopt

runtime = pytest.importorskip("qiskit_ibm_runtime")


class Recorder:
    """What the fake runtime saw: opened modes, closed modes, submissions."""

    def __init__(self, failures: int = 0, always_fail: bool = False):
        self.opened: list = []
        self.closed: list = []
        self.jobs = 0
        self.failures = failures
        self.always_fail = always_fail


@pytest.fixture
def fake_runtime(monkeypatch):
    from qiskit_aer.primitives import SamplerV2 as AerSampler
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    rec = Recorder()
    device = FakeManilaV2()

    class Service:
        def __init__(self, **kwargs):
            assert kwargs.get("token") == "not-a-real-token"

        def backend(self, name):
            assert name == "ibm_fake"
            return device

    def mode_class(kind):
        class Mode:
            def __init__(self, backend):
                assert backend is device
                self.kind = kind
                rec.opened.append(self)

            def close(self):
                rec.closed.append(self)

        return Mode

    class Sampler:
        def __init__(self, mode):
            self.mode = mode
            self.inner = AerSampler(seed=len(rec.opened))

        def run(self, pubs, shots=None):
            assert self.mode not in rec.closed, "submitted to a closed mode"
            rec.jobs += 1
            if rec.always_fail or rec.jobs <= rec.failures:
                raise ConnectionError(f"job {rec.jobs}: session expired")
            return self.inner.run(pubs, shots=shots)

    monkeypatch.setenv("QISKIT_IBM_TOKEN", "not-a-real-token")
    monkeypatch.setattr(runtime, "QiskitRuntimeService", Service)
    monkeypatch.setattr(runtime, "Session", mode_class("session"))
    monkeypatch.setattr(runtime, "Batch", mode_class("batch"))
    monkeypatch.setattr(runtime, "SamplerV2", Sampler)
    return rec


@pytest.mark.parametrize("mode", ["session", "batch"])
def test_mode_is_opened_once_and_used_for_every_job(h2, fake_runtime, mode):
    circuit = qvopt.ansatz.uccsd(h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=2000, seed=1, backend="ibm:ibm_fake",
                          backend_options={"mode": mode, "mitigation": "readout"})
    e = est.energy(np.zeros(3))
    est.energy(np.zeros((2, 3)))
    assert [m.kind for m in fake_runtime.opened] == [mode]
    assert fake_runtime.jobs == 3  # calibration + two calls
    assert abs(e.value - h2.e_hf) < 0.1  # noisy fake device, readout-mitigated
    est.sampler.close()
    assert fake_runtime.closed == fake_runtime.opened


def test_a_failed_session_job_is_retried_in_a_fresh_session(h2, fake_runtime):
    fake_runtime.failures = 2
    circuit = qvopt.ansatz.uccsd(h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=1000, seed=1, backend="ibm:ibm_fake",
                          backend_options={"mode": "session", "retry_delay": 0.0,
                                           "max_retries": 3})
    est.energy(np.zeros(3))
    assert fake_runtime.jobs == 3
    assert len(fake_runtime.opened) == 3 and fake_runtime.closed == fake_runtime.opened[:2]
    assert est.shots_used == 1000 * est.grouped.n_groups  # failed jobs are not charged


def test_session_that_keeps_failing_stops_cleanly_with_checkpoint(h2, fake_runtime, tmp_path):
    from qvopt.checkpoint import load

    ck = tmp_path / "run.ckpt"
    ok = qvopt.vqe(h2, optimizer="sgd", shots=500, seed=1, maxiter=2, checkpoint=ck,
                   backend="ibm:ibm_fake",
                   backend_options={"mode": "session", "retry_delay": 0.0})
    assert ok.nit == 2
    meta, _ = load(ck)
    assert meta["nit"] == 2
    fake_runtime.always_fail = True
    r = qvopt.vqe(h2, optimizer="sgd", shots=500, seed=1, maxiter=10, backend="ibm:ibm_fake",
                  backend_options={"mode": "session", "max_retries": 1, "retry_delay": 0.0})
    assert r.status == 5 and "failed 2 times" in r.message


def test_unknown_mode_is_an_input_error(h2):
    with pytest.raises(ValueError, match="mode"):
        qvopt.Estimator(h2.hamiltonian, qvopt.ansatz.uccsd(h2), shots=10, backend="aer",
                        backend_options={"mode": "dedicated"})
