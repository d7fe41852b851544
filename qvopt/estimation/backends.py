"""Circuit-based backends: noisy Aer, fake IBM devices, IBM Quantum hardware, PennyLane devices.

Backend names (``Estimator(backend=...)``, ``vqe(backend=...)``, ``qvopt run --backend``):

* ``"statevector"`` — the default, noiseless fast path (:mod:`.statevector`), not here;
* ``"aer"`` — Aer with a simple noise model from ``backend_options["noise"]``
  (``{"depolarizing": p1, "depolarizing_2q": p2, "readout": q}``);
* ``"fake_<device>"`` (any ``qiskit_ibm_runtime.fake_provider`` snapshot, e.g.
  ``"fake_manila"``) — Aer with that device's noise model, coupling map and basis;
* ``"ibm:<backend>"`` — IBM Quantum hardware through qiskit-ibm-runtime's SamplerV2 in
  Batch mode; credentials come from ``QISKIT_IBM_TOKEN`` (+ ``QISKIT_IBM_INSTANCE``,
  ``QISKIT_IBM_CHANNEL``) or Qiskit's saved account and are never written anywhere;
* an object with a SamplerV2-style ``run(pubs, shots=...)`` — used as it is (tests use
  this to put a failing device in front of qvopt).

For each measurement group the ansatz, the group's basis rotation and a measurement of every
logical qubit (clbit ``k`` = logical qubit ``k``, so counts need no layout bookkeeping) form
one circuit, transpiled once to the device (ISA); every call sends all (group, point) pairs
as PUBs of one job. Counts become integer outcome arrays from the packed bit arrays (no
per-shot Python loops). Failed submissions are retried with exponential backoff.

Readout mitigation (``backend_options["mitigation"] = "readout"``): two calibration
circuits (all 0, all 1) give per-qubit assignment matrices ``M_q`` (``P(measured|true)``);
a group's per-outcome values ``v`` are replaced by ``w = (⊗_q M_q⁻¹)ᵀ v``. The estimate is
still the mean of per-shot values, now of ``w``, so its standard error comes from the
sample variance as before; it is unbiased when readout errors are independent per qubit.
"""

from __future__ import annotations

from ..errors import BackendError

import os
import time

import numpy as np
from qiskit import QuantumCircuit, transpile

from .grouping import GroupedHamiltonian




BACKEND_OPTIONS = {"noise", "mitigation", "max_retries", "retry_delay", "optimization_level",
                   "calibration_shots"}


def fake_backend(name: str):
    """A ``qiskit_ibm_runtime.fake_provider`` device by snake-case name (``fake_manila``)."""
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError:
        raise BackendError(f"backend {name!r} needs qiskit-ibm-runtime: pip install "
                           "'qvopt[ibm]'") from None
    wanted = name.lower()
    available = {}
    for attr in dir(fake_provider):
        if attr.startswith("Fake") and attr.endswith("V2"):
            snake = "fake_" + attr[4:-2].lower()
            available[snake] = attr
    if wanted not in available:
        raise ValueError(f"unknown fake backend {name!r}: expected one of "
                         f"{sorted(available)[:10]}… ({len(available)} in qiskit-ibm-runtime)")
    return getattr(fake_provider, available[wanted])()


def simple_noise_model(noise: dict):
    """Depolarizing (1q, 2q) and symmetric readout errors from a plain dict."""
    from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

    allowed = {"depolarizing", "depolarizing_2q", "readout"}
    unknown = sorted(set(noise) - allowed)
    if unknown:
        raise ValueError(f"unknown noise option(s) {unknown}; valid: {sorted(allowed)}")
    model = NoiseModel(basis_gates=["rz", "sx", "x", "cx"])
    p1, p2, q = (float(noise.get(k, 0.0)) for k in ("depolarizing", "depolarizing_2q",
                                                     "readout"))
    for name, value in (("depolarizing", p1), ("depolarizing_2q", p2), ("readout", q)):
        if not 0 <= value < 1:
            raise ValueError(f"noise option {name!r} must be in [0, 1), got {value}")
    if p1:
        model.add_all_qubit_quantum_error(depolarizing_error(p1, 1), ["rz", "sx", "x"])
    if p2:
        model.add_all_qubit_quantum_error(depolarizing_error(p2, 2), ["cx"])
    if q:
        model.add_all_qubit_readout_error(ReadoutError([[1 - q, q], [q, 1 - q]]))
    return model


def ibm_credentials_present() -> bool:
    """Whether a token is in the environment or a saved Qiskit account file exists."""
    if os.environ.get("QISKIT_IBM_TOKEN"):
        return True
    return os.path.isfile(os.path.expanduser("~/.qiskit/qiskit-ibm.json"))


def _ibm_sampler(name: str):
    try:
        from qiskit_ibm_runtime import Batch, QiskitRuntimeService, SamplerV2
    except ImportError:
        raise BackendError("backend 'ibm:…' needs qiskit-ibm-runtime: pip install "
                           "'qvopt[ibm]'") from None
    if not ibm_credentials_present():
        raise BackendError("no IBM Quantum credentials: set QISKIT_IBM_TOKEN (and "
                           "QISKIT_IBM_INSTANCE) or save an account with "
                           "QiskitRuntimeService.save_account(...)")
    try:
        token = os.environ.get("QISKIT_IBM_TOKEN")
        kwargs = {}
        if token:
            kwargs = {"token": token,
                      "channel": os.environ.get("QISKIT_IBM_CHANNEL", "ibm_quantum_platform")}
            if os.environ.get("QISKIT_IBM_INSTANCE"):
                kwargs["instance"] = os.environ["QISKIT_IBM_INSTANCE"]
        service = QiskitRuntimeService(**kwargs)
        device = service.backend(name)
    except Exception as exc:  # the message may not contain the token; never log kwargs
        raise BackendError(f"cannot reach IBM backend {name!r}: {type(exc).__name__}") from None
    return SamplerV2(mode=Batch(backend=device)), device


def for_devices(circuit: QuantumCircuit) -> QuantumCircuit:
    """qvopt's excitation gates inlined, with controlled RYs as Gray-code CNOT/RY networks
    (H2 UCCSD on fake_manila: 40 CNOTs after routing instead of 58 with the generic
    decomposition; CNOTs are what devices pay for)."""
    from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME, gray_code_mcry

    inlined = circuit.decompose(gates_to_decompose=[SINGLE_NAME, DOUBLE_NAME])
    out = QuantumCircuit(*inlined.qregs, *inlined.cregs)
    for inst in inlined.data:
        if inst.operation.name == "mcry":
            network = gray_code_mcry(inst.operation.params[0], inst.operation.num_qubits - 1)
            out.compose(network, inst.qubits, inplace=True)
        else:
            out.append(inst)
    return out


def measured_in_basis(circuit: QuantumCircuit, basis: str) -> QuantumCircuit:
    """``circuit`` + the rotation into ``basis`` (qubit 0 first) + a measurement of all qubits."""
    measured = circuit.copy()
    for qubit, b in enumerate(basis):
        if b == "X":
            measured.h(qubit)
        elif b == "Y":
            measured.sdg(qubit)
            measured.h(qubit)
    measured.measure_all()
    return measured


def counts_from_bits(bit_array, n_points: int, n_qubits: int) -> np.ndarray:
    """(points, 2^n) outcome counts from a SamplerV2 BitArray (outcome bit k = clbit k)."""
    packed = np.asarray(bit_array.array)  # (points, shots, bytes), big-endian bytes
    packed = packed.reshape(n_points, -1, packed.shape[-1])
    weights = 256 ** np.arange(packed.shape[-1] - 1, -1, -1, dtype=np.int64)
    outcomes = (packed.astype(np.int64) * weights).sum(axis=-1) & ((1 << n_qubits) - 1)
    offsets = (np.arange(n_points, dtype=np.int64) * 2**n_qubits)[:, None]
    flat = np.bincount((outcomes + offsets).ravel(), minlength=n_points * 2**n_qubits)
    return flat.reshape(n_points, 2**n_qubits)


class CircuitSampler:
    """Measured circuits per group on a noisy simulator, a fake device or hardware."""

    def __init__(self, circuit: QuantumCircuit, grouped: GroupedHamiltonian, backend,
                 options: dict | None = None, seed_source: np.random.Generator | None = None):
        options = dict(options or {})
        unknown = sorted(set(options) - BACKEND_OPTIONS)
        if unknown:
            raise ValueError(f"unknown backend option(s) {unknown}; valid: "
                             f"{sorted(BACKEND_OPTIONS)}")
        self.n_qubits = circuit.num_qubits
        self.grouped = grouped
        self.max_retries = int(options.get("max_retries", 3))
        self.retry_delay = float(options.get("retry_delay", 1.0))
        self.mitigation = options.get("mitigation")
        if self.mitigation not in (None, "readout"):
            raise ValueError(f"mitigation must be None or 'readout', got {self.mitigation!r}")
        self.calibration_shots = int(options.get("calibration_shots", 10_000))
        self.seed_source = seed_source if seed_source is not None else np.random.default_rng()
        self.name, self._factory, target = self._make_sampler(backend, options)
        level = int(options.get("optimization_level", 1))
        compile_kwargs = ({"backend": target} if target is not None
                          else {"basis_gates": ["rz", "sx", "x", "cx"]})
        inlined = for_devices(circuit)
        self.circuits = [transpile(measured_in_basis(inlined, g.basis), optimization_level=level,
                                   seed_transpiler=11, **compile_kwargs)
                         for g in grouped.groups]
        position = {p: i for i, p in enumerate(circuit.parameters)}
        self.columns = [[position[p] for p in c.parameters] for c in self.circuits]
        self.transforms = None
        self.calibration = None
        if self.mitigation == "readout":
            self.calibration = self._calibrate(compile_kwargs, level)
        self.calibration_spent = self.calibration_shots * 2 if self.calibration is not None \
            else 0

    # ------------------------------------------------------------------ construction
    def _make_sampler(self, backend, options):
        from qiskit_aer import AerSimulator
        from qiskit_aer.primitives import SamplerV2 as AerSampler

        # a factory seed -> sampler: Aer samplers get a fresh seed from the estimator's
        # generator for every job (reproducible, independent across calls)
        if hasattr(backend, "run") and not isinstance(backend, str):
            target = getattr(backend, "target_backend", None)
            return getattr(backend, "name", "custom"), lambda seed: backend, target
        if backend == "aer":
            noise = simple_noise_model(options.get("noise") or {})
            return "aer", lambda seed: AerSampler(
                seed=seed, options={"backend_options": {"noise_model": noise}}), None
        if isinstance(backend, str) and backend.startswith("fake_"):
            simulator = AerSimulator.from_backend(fake_backend(backend))
            return backend, lambda seed: AerSampler.from_backend(simulator, seed=seed), \
                simulator
        if isinstance(backend, str) and backend.startswith("ibm:"):
            sampler, device = _ibm_sampler(backend.split(":", 1)[1])
            return backend, lambda seed: sampler, device
        raise ValueError(f"unknown backend {backend!r}: expected 'statevector', 'aer', "
                         "'fake_<device>', 'ibm:<name>' or 'pennylane:<device>'")

    def _calibrate(self, compile_kwargs, level) -> list[np.ndarray]:
        n = self.n_qubits
        zero, one = QuantumCircuit(n), QuantumCircuit(n)
        one.x(range(n))
        circuits = []
        for prep in (zero, one):
            prep.measure_all()
            circuits.append(transpile(prep, optimization_level=level, seed_transpiler=11,
                                      **compile_kwargs))
        results = self._submit([(c,) for c in circuits], self.calibration_shots)
        counts = [counts_from_bits(r.data.meas, 1, n)[0] for r in results]
        outcomes = np.arange(2**n)
        matrices = []
        for q in range(n):
            bit = (outcomes >> q) & 1
            p10 = counts[0][bit == 1].sum() / self.calibration_shots  # measured 1 | true 0
            p01 = counts[1][bit == 0].sum() / self.calibration_shots  # measured 0 | true 1
            matrices.append(np.array([[1 - p10, p01], [p10, 1 - p01]]))
        return matrices

    # ------------------------------------------------------------------ execution
    def _submit(self, pubs, shots: int):
        last = None
        for attempt in range(self.max_retries + 1):
            try:
                sampler = self._factory(int(self.seed_source.integers(2**31)))
                return sampler.run(pubs, shots=int(shots)).result()
            except Exception as exc:  # retried; the final failure becomes a BackendError
                last = exc
                if attempt < self.max_retries:
                    time.sleep(self.retry_delay * 2**attempt)
        raise BackendError(f"backend {self.name!r} failed {self.max_retries + 1} times: "
                           f"{type(last).__name__}: {last}")

    def mitigated_values(self, values: np.ndarray) -> np.ndarray:
        """``(⊗_q M_q⁻¹)ᵀ v`` (identity without mitigation)."""
        if self.calibration is None:
            return values
        n = self.n_qubits
        tensor = values.reshape((2,) * n)
        for q, matrix in enumerate(self.calibration):
            axis = n - 1 - q
            tensor = np.moveaxis(np.tensordot(np.linalg.inv(matrix).T, tensor,
                                              axes=([1], [axis])), 0, axis)
        return tensor.reshape(-1)

    def counts(self, points: np.ndarray, shots: np.ndarray) -> list[np.ndarray]:
        """Outcome counts (points, 2^n) of every group; one job per distinct shot count."""
        pubs_by_shots: dict[int, list[int]] = {}
        for k, s in enumerate(shots):
            pubs_by_shots.setdefault(int(s), []).append(k)
        out: list[np.ndarray | None] = [None] * len(self.circuits)
        for s, groups in pubs_by_shots.items():
            pubs = [(self.circuits[k], points[:, self.columns[k]]) if self.columns[k]
                    else (self.circuits[k],) for k in groups]
            results = self._submit(pubs, s)
            for k, result in zip(groups, results, strict=True):
                out[k] = counts_from_bits(result.data.meas, len(points), self.n_qubits)
        return out
