"""The Fubini–Study metric (quantum geometric tensor, real part; = QFI / 4).

    g_ij(θ) = Re[⟨∂_iψ|∂_jψ⟩ − ⟨∂_iψ|ψ⟩⟨ψ|∂_jψ⟩]

Each parameter enters one gate ``exp(−iθ_k G_k)``; ``|∂_kψ⟩ = U_{>k}(−iG_k)|ψ_{≤k}⟩``.

* **exact** (``approx=None``, no shots): the derivative states are propagated through the
  circuit in numpy (one pass, all derivatives at once) and the formula evaluated.
* **block-diag / diag**: the circuit is cut into *layers* (consecutive parameterized gates
  on disjoint qubits, no other gate between them); for layer ``l`` with prefix state
  ``|ψ_l⟩``, ``g_ij = ⟨G_iG_j⟩ − ⟨G_i⟩⟨G_j⟩`` (i, j in the layer), zero across layers
  (Stokes et al., Quantum 4, 269 (2020)). With shots every expectation is sampled honestly
  from the prefix state (QWC groups, multinomial draws) in independent samples; the product
  of means uses independent samples and ``⟨G_i⟩²`` is corrected by its variance, so every
  entry is unbiased. ``diag`` keeps only ``g_ii``.
* **full with shots**: ``g_ij = −½ ∂_{θ'_i}∂_{θ'_j} F(θ, θ')|_{θ'=θ}`` with the fidelity
  ``F = |⟨ψ(θ)|ψ(θ')⟩|²``; ``F`` as a function of ``θ'`` is an expectation value, so the
  parameter-shift rules apply twice: ``g_ij = −½ Σ_{k,l} c_k c_l F(θ, θ + s_k e_i + s_l e_j)``.
  Each fidelity is measured as the all-zeros frequency of the compute–uncompute circuit
  ``U(θ')†U(θ)`` (a binomial sample of ``shots``).

Prefix states and the exact metric use a numpy simulator of the circuit's gates (exact
statevectors; the sampling on top of them is the same honest scheme as for energies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Instruction, Parameter
from qiskit.quantum_info import Operator, SparsePauliOp

from ..ansatz.gates import DOUBLE_NAME, SINGLE_NAME
from ..errors import InputError

_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)

APPROXIMATIONS = (None, "block-diag", "diag")


def gate_generator(operation) -> np.ndarray:
    """``G`` with ``gate(θ) = exp(−iθG)`` on the gate's qubits (qiskit local order)."""
    name = operation.name
    if name == "rx":
        return _X / 2
    if name == "ry":
        return _Y / 2
    if name == "rz":
        return _Z / 2
    if name in ("rxx", "ryy", "rzz"):
        pauli = {"rxx": _X, "ryy": _Y, "rzz": _Z}[name]
        return np.kron(pauli, pauli) / 2
    if name == "p":
        return np.diag([0.0, -1.0]).astype(complex)
    if name in (SINGLE_NAME, DOUBLE_NAME):
        return operation.generator().to_matrix() / 2
    raise InputError(f"no generator known for gate {name!r}: the metric supports "
                     "rx, ry, rz, rxx, ryy, rzz, p and the Givens excitations")


def apply_gate(states: np.ndarray, matrix: np.ndarray, qubits: list[int], n: int) -> np.ndarray:
    """Apply a ``2^k × 2^k`` matrix (qiskit local order) on ``qubits`` of each row of ``states``."""
    k = len(qubits)
    psi = states.reshape((states.shape[0],) + (2,) * n)
    tensor = matrix.reshape((2,) * (2 * k))
    in_axes = [k + (k - 1 - j) for j in range(k)]
    state_axes = [1 + (n - 1 - q) for q in qubits]
    out = np.tensordot(tensor, psi, axes=(in_axes, state_axes))
    destination = [1 + (n - 1 - qubits[k - 1 - j]) for j in range(k)]
    out = np.moveaxis(out, list(range(k)), destination)
    return out.reshape(states.shape)


@dataclass(frozen=True)
class _Step:
    qubits: list[int]
    operation: Instruction  # unbound instruction operation
    param_index: int | None  # position in circuit.parameters, if parameterized
    layer: int | None


class CircuitStructure:
    """The circuit as steps (gate, qubits, parameter), with layers of parameterized gates."""

    def __init__(self, circuit: QuantumCircuit):
        self.circuit = circuit
        self.n = circuit.num_qubits
        position = {p: i for i, p in enumerate(circuit.parameters)}
        steps, layers = [], []
        open_layer: list[int] | None = None
        layer_qubits: set[int] = set()
        for instruction in circuit.data:
            op = instruction.operation
            qubits = [circuit.find_bit(q).index for q in instruction.qubits]
            params = [v for v in op.params if getattr(v, "parameters", None)]
            if not params:
                if op.name == "barrier":
                    continue
                open_layer = None
                steps.append(_Step(qubits, op, None, None))
                continue
            if len(params) != 1 or not isinstance(params[0], Parameter):
                raise InputError(f"gate {op.name!r}: the metric needs one bare Parameter a gate")
            gate_generator(op)  # validates support early
            if open_layer is None or layer_qubits & set(qubits):
                open_layer, layer_qubits = [], set()
                layers.append(open_layer)
            index = position[params[0]]
            open_layer.append(index)
            layer_qubits |= set(qubits)
            steps.append(_Step(qubits, op, index, len(layers) - 1))
        self.steps = steps
        self.layers = layers
        self.n_params = circuit.num_parameters

    def _matrix(self, step: _Step, theta: np.ndarray) -> np.ndarray:
        op = step.operation
        if step.param_index is None:
            return Operator(op).data
        bound = op.copy()
        bound.params = [float(theta[step.param_index])]
        return Operator(bound).data

    def simulate(self, theta: np.ndarray, with_derivatives: bool = False):
        """State at θ; optionally the derivative states (rows in parameter order) and the
        prefix state of every layer."""
        n = self.n
        state = np.zeros((1, 2**n), dtype=complex)
        state[0, 0] = 1.0
        derivatives = np.zeros((self.n_params, 2**n), dtype=complex) if with_derivatives else None
        seen: list[int] = []
        prefixes: dict[int, np.ndarray] = {}
        for step in self.steps:
            if step.layer is not None and step.layer not in prefixes:
                prefixes[step.layer] = state[0].copy()
            matrix = self._matrix(step, theta)
            state = apply_gate(state, matrix, step.qubits, n)
            if derivatives is not None:
                if seen:
                    derivatives[seen] = apply_gate(derivatives[seen], matrix, step.qubits, n)
                if step.param_index is not None:
                    generator = gate_generator(step.operation)
                    derivatives[step.param_index] = -1j * apply_gate(state, generator,
                                                                     step.qubits, n)[0]
                    seen.append(step.param_index)
        return state[0], derivatives, prefixes

    def generator_operator(self, param_index: int) -> SparsePauliOp:
        """The generator of parameter ``param_index`` as a Pauli sum on all qubits."""
        step = next(s for s in self.steps if s.param_index == param_index)
        local = SparsePauliOp.from_operator(gate_generator(step.operation))
        labels = []
        for label in local.paulis.to_labels():
            chars = ["I"] * self.n
            for j, ch in enumerate(reversed(label)):
                chars[self.n - 1 - step.qubits[j]] = ch
            labels.append("".join(chars))
        return SparsePauliOp(labels, local.coeffs).simplify()


def exact_metric(structure: CircuitStructure, theta: np.ndarray,
                 approx: str | None = None) -> np.ndarray:
    """Exact Fubini–Study metric (full, block-diagonal or diagonal) at θ."""
    state, derivatives, prefixes = structure.simulate(theta, with_derivatives=approx is None)
    if approx is None:
        overlaps = derivatives.conj() @ derivatives.T
        projections = derivatives.conj() @ state
        return (overlaps - np.outer(projections, projections.conj())).real
    metric = np.zeros((structure.n_params, structure.n_params))
    for layer, members in enumerate(structure.layers):
        prefix = prefixes[layer]
        gens = [structure.generator_operator(i).to_matrix(sparse=True) for i in members]
        applied = [g @ prefix for g in gens]
        means = [np.vdot(prefix, a).real for a in applied]
        for a, i in enumerate(members):
            for b, j in enumerate(members):
                if approx == "diag" and i != j:
                    continue
                metric[i, j] = np.vdot(applied[a], applied[b]).real - means[a] * means[b]
    return metric


class SampledBlockMetric:
    """Block-diagonal / diagonal metric from honestly sampled generator moments."""

    def __init__(self, structure: CircuitStructure):
        from .observable import SampledObservable

        self.structure = structure
        self._observables: dict[tuple[int, ...], SampledObservable] = {}
        for members in structure.layers:
            gens = {i: structure.generator_operator(i) for i in members}
            for a, i in enumerate(members):
                self._observables[(i,)] = SampledObservable(gens[i])
                for j in members[a:]:
                    product = (gens[i].dot(gens[j]) + gens[j].dot(gens[i])) * 0.5
                    self._observables[(i, j)] = SampledObservable(product.simplify())

    def executions(self, approx: str) -> int:
        """Circuit executions one :meth:`estimate` call makes."""
        total = 0
        for key, observable in self._observables.items():
            if len(key) == 1 or approx != "diag" or key[0] == key[1]:
                total += observable.n_groups
        return total

    def estimate(self, theta: np.ndarray, approx: str, shots: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, int]:
        """(metric, variance of each entry, circuit executions) at θ."""
        _, _, prefixes = self.structure.simulate(theta)
        p = self.structure.n_params
        metric, variance = np.zeros((p, p)), np.zeros((p, p))
        executions = 0

        def sample(key, state):
            nonlocal executions
            observable = self._observables[key]
            executions += observable.n_groups
            mean, var = observable.sample(state[None, :], shots, rng)
            return float(mean[0]), float(var[0])

        for layer, members in enumerate(self.structure.layers):
            prefix = prefixes[layer]
            means = {i: sample((i,), prefix) for i in members}
            for a, i in enumerate(members):
                for j in members[a:]:
                    if approx == "diag" and i != j:
                        continue
                    second, var_second = sample((i, j), prefix)
                    (m_i, v_i), (m_j, v_j) = means[i], means[j]
                    if i == j:
                        # E[m²] = μ² + Var(m): subtract the variance for an unbiased μ².
                        # Var(m²) = 4μ²v + 2v² for a normal m (the 2v² term matters at μ ≈ 0).
                        value = second - (m_i**2 - v_i)
                        var = var_second + 4 * m_i**2 * v_i + 2 * v_i**2
                    else:
                        value = second - m_i * m_j  # independent samples: unbiased product
                        var = var_second + m_j**2 * v_i + m_i**2 * v_j + v_i * v_j
                    metric[i, j] = metric[j, i] = value
                    variance[i, j] = variance[j, i] = var
        return metric, variance, executions


def fidelity_shift_points(theta: np.ndarray, rules) -> tuple[np.ndarray, list]:
    """Points θ + s_k e_i + s_l e_j (i ≤ j) and, for each, (i, j, c_k c_l)."""
    points, terms = [], []
    for i, rule_i in enumerate(rules):
        for j in range(i, len(rules)):
            rule_j = rules[j]
            for s_k, c_k in zip(rule_i.shifts, rule_i.coeffs, strict=True):
                for s_l, c_l in zip(rule_j.shifts, rule_j.coeffs, strict=True):
                    point = np.array(theta, dtype=float)
                    point[i] += s_k
                    point[j] += s_l
                    points.append(point)
                    terms.append((i, j, c_k * c_l))
    return np.array(points), terms


def metric_from_fidelities(n_params: int, terms, fidelities: np.ndarray, variances: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
    """``g_ij = −½ Σ c_k c_l F_kl`` and its variance from independent fidelity estimates."""
    metric, variance = np.zeros((n_params, n_params)), np.zeros((n_params, n_params))
    for (i, j, weight), f, v in zip(terms, fidelities, variances, strict=True):
        metric[i, j] += -0.5 * weight * f
        variance[i, j] += 0.25 * weight**2 * v
    upper = np.triu_indices(n_params, 1)
    metric[upper[::-1]] = metric[upper]
    variance[upper[::-1]] = variance[upper]
    return metric, variance


def full_metric_executions(rules) -> int:
    """Fidelities (circuit executions) of the double-shift full metric:
    ``Σ_{i≤j} n_i n_j`` with ``n_i`` the shifts of parameter ``i``."""
    counts = [len(r.shifts) for r in rules]
    return sum(counts[i] * counts[j] for i in range(len(counts)) for j in range(i, len(counts)))


def sampled_full_metric(theta: np.ndarray, rng: np.random.Generator, rules, fidelities
                        ) -> tuple[np.ndarray, np.ndarray, int]:
    """(metric, variance of each entry, circuit executions) of the full metric by the
    double parameter-shift rule on fidelities,
    ``g_ij = −½ Σ_{k,l} c_k c_l F(θ, θ + s_k e_i + s_l e_j)``, where
    ``fidelities(points, rng) -> (F̂, Var F̂)`` draws one execution per point.
    """
    points, terms = fidelity_shift_points(theta, rules)
    values, variances = fidelities(points, rng)
    metric, variance = metric_from_fidelities(len(rules), terms, values, variances)
    return metric, variance, len(points)


class MetricEstimator:
    """The metric of one circuit: its structure and sampled observables, built on first use.

    ``cost(approx, shots, rules)`` is the shots :meth:`estimate` spends; ``estimate``
    returns ``(metric, variance, executions)`` (exact values and no executions when
    ``shots`` is None).
    """

    def __init__(self, circuit: QuantumCircuit):
        self.circuit = circuit
        self._structure: CircuitStructure | None = None
        self._block: SampledBlockMetric | None = None

    def structure(self) -> CircuitStructure:
        if self._structure is None:
            self._structure = CircuitStructure(self.circuit)
        return self._structure

    def block(self) -> SampledBlockMetric:
        if self._block is None:
            self._block = SampledBlockMetric(self.structure())
        return self._block

    def cost(self, approx: str | None, shots: int | None, rules) -> int:
        if shots is None:
            return 0
        if approx is None:
            return full_metric_executions(rules) * shots
        return self.block().executions(approx) * shots

    def estimate(self, theta: np.ndarray, approx: str | None, shots: int | None,
                 rng: np.random.Generator, rules, fidelities
                 ) -> tuple[np.ndarray, np.ndarray, int]:
        if approx not in APPROXIMATIONS:
            raise InputError(f"approx must be one of {list(APPROXIMATIONS)}, got {approx!r}")
        if shots is None:
            value = exact_metric(self.structure(), theta, approx)
            return value, np.zeros_like(value), 0
        if approx is None:
            return sampled_full_metric(theta, rng, rules, fidelities)
        return self.block().estimate(theta, approx, shots, rng)
