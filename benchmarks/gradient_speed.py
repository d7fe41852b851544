"""One parameter-shift gradient, same molecule, ansatz and shots: qvopt (sector and Aer
engines) vs PennyLane vs plain Aer.

    python benchmarks/gradient_speed.py --molecules lih_fc,lih --engines qvopt,qvopt-aer
    python benchmarks/gradient_speed.py --molecules h2,lih_fc,lih --engines qvopt,aer-floor

Engines (all evaluate the UCCSD ansatz in its Givens form at the same random point, with
``shots`` shots per qubit-wise-commuting group per circuit):

* ``qvopt``             — qvopt.Estimator.gradient with the default ``engine="auto"``: the
                          particle-number sector engine for UCCSD (sector states, sampled);
* ``qvopt-aer``         — the same with ``engine="aer"`` (one Aer statevector per point,
                          sampled through the 2^n rotation trie);
* ``sector-floor``      — only the sector states of the shifted points;
* ``aer-floor``         — only the Aer statevector simulation of the same shifted points;
* ``default.qubit``     — PennyLane default.qubit, ``qml.grad``, diff_method="parameter-shift";
* ``lightning.qubit``   — the same on PennyLane Lightning;
* ``aer-sampler``       — plain Qiskit Aer SamplerV2: one measured circuit per (group, point),
                          all in one run, counts turned into the gradient.

Each qvopt time is the median of ``--repeats`` gradients after one warm-up call (the first
call builds the per-group tables). Prints the load average, then a table with seconds per
gradient and ratios to the first engine listed. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import qvopt
from qvopt.estimation.parameter_shift import shift_rules, shifted_points


def pennylane_gradient(problem, circuit, theta, shots, device_name):
    """PennyLane with the same ansatz (PennyLane's excitation gates rotate by −θ vs ours)."""
    import pennylane as qml
    from pennylane import numpy as pnp

    singles, doubles = circuit.metadata["singles"], circuit.metadata["doubles"]
    n = problem.n_qubits
    labels = problem.hamiltonian.paulis.to_labels()
    coeffs = problem.hamiltonian.coeffs.real
    ops = []
    for label in labels:
        word = {q: ch for q, ch in enumerate(reversed(label)) if ch != "I"}
        ops.append(qml.pauli.PauliWord(word).operation(wire_order=range(n))
                   if word else qml.Identity(0))
    hamiltonian = qml.Hamiltonian(coeffs, ops, grouping_type="qwc")
    dev = qml.device(device_name, wires=n)

    @qml.set_shots(shots)
    @qml.qnode(dev, diff_method="parameter-shift")
    def energy(params):
        qml.BasisState(np.array(problem.hf_occupation), wires=range(n))
        for k, wires in enumerate(doubles):
            qml.DoubleExcitation(-params[k], wires=wires)
        for k, wires in enumerate(singles):
            qml.SingleExcitation(-params[len(doubles) + k], wires=wires)
        return qml.expval(hamiltonian)

    params = pnp.array(theta, requires_grad=True)
    start = time.perf_counter()
    grad = qml.grad(energy)(params)
    return time.perf_counter() - start, np.asarray(grad)


def aer_sampler_gradient(problem, circuit, theta, shots, seed=1):
    """Plain Aer SamplerV2: every (group, shifted point) is a measured circuit."""
    from qiskit import transpile
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import SamplerV2

    from qvopt.estimation.backends import measured_in_basis
    from qvopt.estimation.grouping import group_qubitwise_commuting

    grouped = group_qubitwise_commuting(problem.hamiltonian)
    points, weights = shifted_points(theta, shift_rules(circuit))
    start = time.perf_counter()
    sim = AerSimulator()
    pubs = []
    for group in grouped.groups:
        measured = measured_in_basis(circuit, group.basis)  # ansatz + rotation + measure_all
        pubs.append((transpile(measured, sim), points))
    sampler = SamplerV2(seed=seed)
    result = sampler.run(pubs, shots=shots).result()
    energies = np.full(len(points), grouped.constant)
    n = problem.n_qubits
    for group, pub_result in zip(grouped.groups, result, strict=True):
        values = group.values(n)
        bits = pub_result.data.meas  # BitArray, shape (points,)
        for k in range(len(points)):
            counts = bits[k].get_int_counts()
            outcomes = np.fromiter(counts.keys(), dtype=np.int64)
            hits = np.fromiter(counts.values(), dtype=float)
            energies[k] += hits @ values[outcomes] / shots
    grad = weights @ energies
    return time.perf_counter() - start, grad


def _median_seconds(call, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    result = call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def qvopt_gradient(problem, circuit, theta, shots, engine="auto", repeats=3):
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=shots, seed=1, engine=engine)
    seconds, grad = _median_seconds(lambda: est.gradient(theta).value, repeats)
    return seconds, grad


def state_floor(problem, circuit, theta, engine, repeats=3):
    """Only the states of the shifted points (sector amplitudes, or Aer statevectors)."""
    est = qvopt.Estimator(problem.hamiltonian, circuit, shots=None, engine=engine)
    points, _ = shifted_points(theta, shift_rules(circuit))
    simulate = (est.engine.sector_states if engine == "sector" else est.engine.statevectors)
    seconds, _ = _median_seconds(lambda: simulate(points), repeats)
    return seconds, None


def run_engine(engine, problem, circuit, theta, shots, repeats):
    """(seconds, gradient or None) of one engine of the table."""
    if engine == "qvopt":
        return qvopt_gradient(problem, circuit, theta, shots, "auto", repeats)
    if engine == "qvopt-aer":
        return qvopt_gradient(problem, circuit, theta, shots, "aer", repeats)
    if engine in ("sector-floor", "aer-floor"):
        return state_floor(problem, circuit, theta, engine.split("-")[0], repeats)
    if engine == "aer-sampler":
        return aer_sampler_gradient(problem, circuit, theta, shots)
    return pennylane_gradient(problem, circuit, theta, shots, engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", default="lih_fc")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="qvopt,qvopt-aer,sector-floor,aer-floor,"
                                                "default.qubit,lightning.qubit,aer-sampler")
    args = parser.parse_args()
    engines = args.engines.split(",")
    with open("/proc/loadavg") as handle:
        print(f"load average before: {handle.read().strip()}")
    print(f"| molecule | qubits | params | groups | engine | s / gradient | × {engines[0]} | "
          "max |Δgrad| vs exact |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.molecules.split(","):
        problem = qvopt.load_problem(name)
        circuit = qvopt.ansatz.uccsd(problem)
        theta = np.random.default_rng(0).normal(scale=0.1, size=circuit.num_parameters)
        exact_estimator = qvopt.Estimator(problem.hamiltonian, circuit)
        exact = exact_estimator.gradient(theta).value
        n_groups = exact_estimator.grouped.n_groups
        base = None
        for engine in engines:
            seconds, grad = run_engine(engine, problem, circuit, theta, args.shots,
                                       args.repeats)
            base = seconds if base is None else base
            err = f"{np.max(np.abs(grad - exact)):.3f}" if grad is not None else "-"
            print(f"| {name} | {problem.n_qubits} | {circuit.num_parameters} | {n_groups} | "
                  f"{engine} | {seconds:.4f} | {seconds / base:.1f} | {err} |", flush=True)
    with open("/proc/loadavg") as handle:
        print(f"load average after: {handle.read().strip()}")


if __name__ == "__main__":
    main()
