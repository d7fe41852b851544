"""Shots per energy evaluation needed for a 1.6 mHa standard error at the ground state.

    python benchmarks/allocation_shots.py --molecules lih_fc,lih,h4,beh2,h2o

Uses the exact ground state (lowest eigenvector in the HF particle sector) and exact
per-group variances, so the numbers are the allocations' true costs, not a noisy estimate.
Each grouping (``--groupings``; QWC: sorted_insertion, dsatur; fully commuting: fc,
fc_split) gets one row with ``G`` groups. ``fc_split`` fits its coefficient split on the
classical proxy state (:mod:`qvopt.estimation.proxy_state`), as a run does; the
benchmark-only ``fc_split_exact`` fits it on the exact ground state instead (the best a
split could do at that state; not available to a run):

* per term, uniform  — every Pauli term measured on its own with equal shots:
                       N = T Σ_t c_t² Var(P_t) / ε²
* uniform            — N = G Σ_g σ_g² / ε²
* weighted           — N_g ∝ Σ_{t∈g}|c_t|:  N = Σ_g σ_g² / f_g / ε²
* variance           — N_g ∝ σ_g (optimal): N = (Σ_g σ_g)² / ε²  (ε²M = (Σ_g σ_g)²)

σ_g² is the exact variance of the group's per-shot value in its measured frame (the QWC
basis rotation or the FC group's Clifford), from :meth:`SampledObservable.group_variances`.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.sparse.linalg import eigsh

import qvopt
from qvopt.estimation.allocation import shots_for_stderr
from qvopt.estimation.observable import SampledObservable
from qvopt.estimation.splitting import group_split

TARGET = 1.6e-3


def ground_state(problem) -> np.ndarray:
    n = problem.n_qubits
    idx = np.arange(2**n)
    bits = (idx[:, None] >> np.arange(n)) & 1
    half = problem.n_electrons // 2
    keep = np.flatnonzero((bits[:, 0::2].sum(1) == half) & (bits[:, 1::2].sum(1) == half))
    matrix = problem.hamiltonian.to_matrix(sparse=True).tocsr()[keep][:, keep]
    _, vecs = eigsh(matrix, k=1, which="SA")
    state = np.zeros(2**n, dtype=complex)
    state[keep] = vecs[:, 0]
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", default="lih_fc,lih")
    parser.add_argument("--groupings", default="sorted_insertion,dsatur,fc,fc_split")
    args = parser.parse_args()
    print("| molecule | terms | grouping | groups | per term, uniform | uniform | "
          "weighted | variance | uniform / variance |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.molecules.split(","):
        problem = qvopt.load_problem(name)
        state = ground_state(problem)[None, :]
        for grouping in args.groupings.split(","):
            report(name, problem, state, observable(problem, state[0], grouping), grouping)


def observable(problem, state: np.ndarray, grouping: str) -> SampledObservable:
    """The groups of ``grouping``; ``fc_split_exact``: split fitted on ``state``."""
    if grouping == "fc_split_exact":
        return SampledObservable(problem.hamiltonian,
                                 grouped=group_split(problem.hamiltonian, state=state))
    return SampledObservable(problem.hamiltonian, grouping=grouping)


def report(name, problem, state, observable, grouping) -> None:
    """Print one row: shots for a 1.6 mHa standard error under each allocation."""
    sigma2 = observable.group_variances(state)[0]
    per_term = []
    for pauli, c in zip(problem.hamiltonian.paulis, problem.hamiltonian.coeffs.real,
                        strict=True):
        if not (pauli.x.any() or pauli.z.any()):
            continue
        mean = np.vdot(state[0], pauli.to_matrix(sparse=True) @ state[0]).real
        per_term.append(c**2 * (1 - mean**2))
    separate = len(per_term) * np.sum(per_term) / TARGET**2
    uniform = shots_for_stderr(sigma2, np.ones_like(sigma2), TARGET)
    l1 = np.array([np.abs(g.coeffs).sum() for g in observable.grouped.groups])
    weighted = shots_for_stderr(sigma2, l1, TARGET)
    optimal = np.sum(np.sqrt(sigma2)) ** 2 / TARGET**2
    print(f"| {name} | {len(per_term)} | {grouping} | {observable.n_groups} | {separate:.3g} | "
          f"{uniform:.3g} | {weighted:.3g} | {optimal:.3g} | {uniform / optimal:.1f} |",
          flush=True)


if __name__ == "__main__":
    main()
