"""Batched statevector simulation on Qiskit Aer: transpile once, bind many points per job.

The circuit is transpiled once to CNOT, CU, Aer's native multi-controlled RY (``mcry``) and
uncontrolled one-qubit gates (with
``save_statevector``); a call binds all requested parameter points in one Aer job
(``parameter_binds``), in chunks so that at most ``max_amplitudes`` complex amplitudes are
held at once.

Why that basis, and the self-check: with qiskit-aer 0.18.2, ``parameter_binds`` gives wrong
states for controlled rotations (``cry(t)``, ``crz(−t)``: overlap 0.994 with the correctly
bound circuit at t = 0.3), while uncontrolled rotations and ``mcry`` bind correctly. At start-up the
engine simulates one random point both through ``parameter_binds`` and with parameters
assigned in Python; if they differ it warns and binds every point in Python (slower,
correct).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from importlib import metadata

import numpy as np
from qiskit import QuantumCircuit, transpile

from ..errors import GPUUnavailableError, InputError

DEVICES = ("CPU", "GPU")
# Gates whose parameters Aer binds correctly (see the module docstring); "cz" and "ccx" are
# parameter-free.
BASIS_GATES = ("cx", "cz", "ccx", "cu", "u", "mcry", "rx", "ry", "rz", "h", "x", "y", "z", "s",
               "sdg", "sx", "sxdg", "t", "tdg")




def _aer_distribution() -> str | None:
    for name in ("qiskit-aer-gpu", "qiskit-aer-gpu-cu11", "qiskit-aer"):
        try:
            metadata.version(name)
            return name
        except metadata.PackageNotFoundError:
            continue
    return None


def make_simulator(device: str = "CPU", **options):
    """An ``AerSimulator(method="statevector")`` on ``device``, with a clear error if absent."""
    from qiskit_aer import AerSimulator

    if not isinstance(device, str) or device.upper() not in DEVICES:
        raise InputError(f"device must be one of {list(DEVICES)}, got {device!r}")
    device = device.upper()
    if device == "GPU" and "GPU" not in AerSimulator().available_devices():
        dist = _aer_distribution()
        if dist is None or not dist.startswith("qiskit-aer-gpu"):
            raise GPUUnavailableError(
                "device='GPU' needs the GPU build of Aer: the installed package is "
                f"{dist or 'missing'}. Install it with `pip uninstall -y qiskit-aer && "
                "pip install 'qvopt[gpu]'` (in a checkout: `pip install -e '.[gpu]'`): "
                "qiskit-aer-gpu replaces qiskit-aer."
            )
        raise GPUUnavailableError(
            f"device='GPU': {dist} is installed but Aer finds no usable NVIDIA GPU/CUDA "
            "driver on this machine (available devices: "
            f"{list(AerSimulator().available_devices())})."
        )
    return AerSimulator(method="statevector", device=device, **options)


def _compile_for_aer(circuit: QuantumCircuit) -> QuantumCircuit:
    """qvopt's excitation gates inlined (CX, X, ``mcry``); anything else transpiled."""
    from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME

    inlined = circuit.decompose(gates_to_decompose=[SINGLE_NAME, DOUBLE_NAME])
    if all(inst.operation.name in BASIS_GATES or inst.operation.name == "barrier"
           for inst in inlined.data):
        return inlined
    standard = [g for g in BASIS_GATES if g != "mcry"]
    return transpile(inlined, basis_gates=standard, optimization_level=1)


class AerStatevectorEngine:
    """Simulates ``circuit``'s statevector at many parameter points with Aer."""

    def __init__(self, circuit: QuantumCircuit, device: str = "CPU",
                 max_amplitudes: int = 2**21, threads: int | None = None):
        self.circuit = circuit
        self.n_qubits = circuit.num_qubits
        self.parameters = list(circuit.parameters)
        # max_parallel_experiments=0: Aer spreads the bound points over all cores.
        options = {"max_parallel_experiments": 0}
        if threads is not None:
            options["max_parallel_threads"] = int(threads)
        self.simulator = make_simulator(device, **options)
        self.device = device.upper()
        compiled = _compile_for_aer(circuit)
        compiled.save_statevector()
        self._compiled = compiled
        position = {p: i for i, p in enumerate(self.parameters)}
        self._compiled_params = list(self._compiled.parameters)
        self._columns = [position[p] for p in self._compiled_params]
        self.max_points = max(1, max_amplitudes // 2**self.n_qubits)
        self.binds_in_aer = True
        if self._compiled_params and not self._aer_binding_is_correct():
            warnings.warn("Aer's parameter binding disagrees with qiskit's for this circuit; "
                          "binding parameters in Python instead (correct, slower)",
                          RuntimeWarning, stacklevel=2)
            self.binds_in_aer = False

    def _aer_binding_is_correct(self) -> bool:
        point = np.random.default_rng(2024).uniform(-np.pi, np.pi, (1, len(self.parameters)))
        via_aer = self._simulate(point)[0]
        via_python = self._simulate_bound_in_python(point)[0]
        return bool(abs(abs(np.vdot(via_aer, via_python)) - 1.0) < 1e-9)

    def iter_statevectors(self, points: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, states)`` chunks; ``states[k]`` is the state at ``points[rows][k]``."""
        points = np.atleast_2d(points)
        for start in range(0, len(points), self.max_points):
            rows = slice(start, min(start + self.max_points, len(points)))
            yield rows, self._simulate(points[rows])

    def statevectors(self, points: np.ndarray) -> np.ndarray:
        """All states at once, shape (P, 2^n) (use :meth:`iter_statevectors` for big batches)."""
        return np.concatenate([s for _, s in self.iter_statevectors(points)])

    def _simulate_bound_in_python(self, chunk: np.ndarray) -> np.ndarray:
        circuits = [self._compiled.assign_parameters(
            {p: float(row[col]) for p, col in zip(self._compiled_params, self._columns,
                                                  strict=True)}) for row in chunk]
        return self._collect(self.simulator.run(circuits).result(), len(chunk))

    def _simulate(self, chunk: np.ndarray) -> np.ndarray:
        if not self._compiled_params:
            result = self.simulator.run([self._compiled] * len(chunk)).result()
        elif not getattr(self, "binds_in_aer", True):
            return self._simulate_bound_in_python(chunk)
        else:
            binds = [{p: chunk[:, col] for p, col in zip(self._compiled_params, self._columns,
                                                         strict=True)}]
            result = self.simulator.run(self._compiled, parameter_binds=binds).result()
        return self._collect(result, len(chunk))

    @staticmethod
    def _collect(result, n_points: int) -> np.ndarray:
        if not result.success:
            raise RuntimeError(f"Aer simulation failed: {result.status}")
        return np.stack([np.asarray(result.data(k)["statevector"]) for k in range(n_points)])
