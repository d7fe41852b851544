"""iCANS (Kübler et al. 2020) and gCANS (Gu et al. 2021): hand-derived steps, convergence,
and shot requests honored exactly on the ledger."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qvopt
from qvopt.ansatz import build_ansatz
from qvopt.errors import InputError
from qvopt.optimizers import get_optimizer
from qvopt.optimizers.ask_tell import Request
from qvopt.optimizers.icans import lipschitz_bound
from qvopt.optimizers.registry import (
    CANS_MAX_SHOTS_FACTOR,
    CANS_MIN_SHOTS_PER_GROUP,
    CANS_REFERENCE_VARIANCE,
    VQE_DEFAULTS,
    problem_options,
)

from .replies import reply

# α = 0.1, L = 15 (Lα = 1.5: shot prefactor 2Lα/(2 − Lα) = 6), μ = 0.5, b = 0.
OPTIONS = {"lr": 0.1, "lipschitz": 15.0, "mu": 0.5, "b": 0.0, "min_shots": 2}
X0 = np.array([0.2, -0.1])
# step 0: g = (1, −0.25) measured with s = (2, 2), stderr (2, 1) → S = s·stderr² = (8, 2)
# step 1: g = (0.5, −0.25) with stderr (0.5, 0.25)
G0, E0 = [1.0, -0.25], [2.0, 1.0]
G1, E1 = [0.5, -0.25], [0.5, 0.25]


@pytest.mark.parametrize("variant", ["icans1", "icans2"])
def test_icans_two_steps_by_hand(variant):
    opt = get_optimizer("icans", variant=variant, **OPTIONS)
    state = opt.init(X0)
    request = opt.ask(state)
    assert np.array_equal(request.gradient_shots, [2, 2]) and np.array_equal(request.gradient, X0)
    state = opt.tell(state, reply(G0, E0))
    # χ = ½g, ξ = ½S; bias correction 1 − μ = ½: χ̂ = g = (1, −¼), ξ̂ = S = (8, 2)
    # s = 6 ξ̂/χ̂² = (48, 192); γ_i = (α − Lα²/2)χ̂²/(2 s_i) at the optimum: γ_0 > γ_1
    # → s_max = 48 → s = (48, 48)
    assert np.allclose(opt.params(state), X0 - 0.1 * np.array(G0))
    assert np.array_equal(opt.ask(state).gradient_shots, [48, 48])
    # iCANS2: component 1 (optimal 192 > 48) takes α_1 = 2·48·c/(L(2ξ̂ + 48c)), c = 1/16
    alpha_1 = 0.1 if variant == "icans1" else 2 * 48 * 0.0625 / (15 * (2 * 2 + 48 * 0.0625))
    assert np.allclose(state.rates, [0.1, alpha_1])
    x1 = opt.params(state)
    state = opt.tell(state, reply(G1, E1))
    # S = 48·(¼, 1/16) = (12, 3); χ = ½(½, −⅛) + ½(½, −¼) = (½, −3/16); ξ = ½(4, 1) + ½(12, 3)
    # = (8, 2); correction 1 − ¼ = ¾: χ̂ = (⅔, −¼), ξ̂ = (32/3, 8/3)
    # s = 6 ξ̂/χ̂² = (144, 256); γ_0 = 0.025·(4/9)/(2·144) > γ_1 = 0.025/16/(2·256) → (144, 144)
    assert np.allclose(opt.params(state), x1 - np.array([0.1, alpha_1]) * np.array(G1))
    assert np.allclose(state.chi, [0.5, -0.1875]) and np.allclose(state.xi, [8.0, 2.0])
    assert np.array_equal(opt.ask(state).gradient_shots, [144, 144])


def test_gcans_two_steps_by_hand():
    opt = get_optimizer("gcans", **OPTIONS)
    state = opt.tell(opt.init(X0), reply(G0, E0))
    # χ̂ = (1, −¼), ξ̂ = (8, 2): σ = (2√2, √2), Σσ = 3√2, ‖χ̂‖² = 17/16
    # s = 6 σ Σσ / ‖χ̂‖² = 6·(12, 6)·16/17 = (67.8, 33.9) → (68, 34)
    assert np.array_equal(opt.ask(state).gradient_shots, [68, 34])
    x1 = opt.params(state)
    assert np.allclose(x1, X0 - 0.1 * np.array(G0))
    state = opt.tell(state, reply(G1, E1))
    # S = (68/4, 34/16) = (17, 2.125); ξ = ½(4, 1) + ½(17, 2.125) = (10.5, 1.5625)
    # ξ̂ = ξ/¾ = (14, 25/12); χ̂ = (⅔, −¼); ‖χ̂‖² = 4/9 + 1/16
    sigma = np.sqrt([14.0, 25.0 / 12.0])
    expected = np.ceil(6 * sigma * sigma.sum() / (4 / 9 + 1 / 16))
    assert np.array_equal(expected, [230, 89])
    assert np.array_equal(opt.ask(state).gradient_shots, expected)
    assert np.allclose(opt.params(state), x1 - 0.1 * np.array(G1))


@pytest.mark.parametrize("name", ["icans", "gcans"])
def test_converges_on_a_quadratic(name):
    center = np.array([0.5, -1.0, 2.0])
    weights = np.array([1.0, 3.0, 0.5])

    def fun(x):
        return float(np.sum(weights * (x - center) ** 2))

    def jac(x):
        return 2 * weights * (x - center)

    # ∇E is 6-Lipschitz; α = 0.2 < 2/6
    result = qvopt.minimize(fun, np.zeros(3), jac=jac, method=name,
                            options={"lr": 0.2, "lipschitz": 6.0, "maxiter": 200})
    assert np.allclose(result.x, center, atol=1e-6)


@pytest.mark.parametrize("name", ["icans", "gcans"])
def test_shot_requests_are_charged_exactly(h2, name):
    circuit = build_ansatz("uccsd", h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=7, seed=5)
    opt = get_optimizer(name, lr=0.05, lipschitz=lipschitz_bound(h2.hamiltonian), mu=0.5)
    # start from unequal shots, then whatever the rule asks for
    state = opt.init(np.array([0.1, -0.05, 0.2]))._replace(shots=np.array([3, 11, 40]))
    groups, points = est.grouped.n_groups, 4  # Givens: four-term shift rule
    for _ in range(4):
        request = opt.ask(state)
        shots = np.asarray(request.gradient_shots)
        assert np.array_equal(shots, state.shots)
        before = est.shots_used
        answer = est.answer(opt.params(state), request)
        charged = est.shots_used - before
        assert charged == est.cost(request) == groups * (7 + points * int(shots.sum()))
        assert answer.gradient.shots == groups * points * int(shots.sum())
        state = opt.tell(state, answer)


def test_per_shot_variance_estimate_does_not_depend_on_the_shots(h2):
    # S_i = s_i · stderr_i² estimates the same per-shot variance at 20 and at 2000 shots
    circuit = build_ansatz("uccsd", h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=10, seed=11)
    x = np.array([0.1, -0.05, 0.2])
    per_shot = []
    for s in (20, 2000):
        request = Request(gradient=x, gradient_shots=np.full(3, s))
        samples = [est.answer(x, request).gradient.stderr ** 2 * s for _ in range(30)]
        per_shot.append(np.mean(samples, axis=0))
    assert np.allclose(per_shot[0], per_shot[1], rtol=0.25)


def test_lipschitz_bound_and_problem_options(h2):
    coeffs = h2.hamiltonian.coeffs.real
    labels = h2.hamiltonian.paulis.to_labels()
    expected = sum(abs(c) for c, label in zip(coeffs, labels) if set(label) != {"I"})
    assert math.isclose(lipschitz_bound(h2.hamiltonian), expected)
    circuit = build_ansatz("uccsd", h2)
    est = qvopt.Estimator(h2.hamiltonian, circuit, shots=100)
    per_group = CANS_MIN_SHOTS_PER_GROUP  # H2: 3 parameters, fewer than 2 × that
    cap = CANS_MAX_SHOTS_FACTOR
    options = problem_options("icans", est)
    assert math.isclose(options.pop("lipschitz"), expected)  # the same sum, another order
    assert options == {"min_shots": per_group, "max_shots": cap * per_group}
    assert problem_options("adam", est) == {}
    pooled = qvopt.Estimator(h2.hamiltonian, circuit, shots=1000, allocation="variance")
    # with an allocation: the total for a prior standard error σ_ref/√12 per shifted
    # energy, V₀ = (Σ_g σ₀_g)² with σ₀_g² = Σ_{t∈g} c_t² (H2's 5 QWC groups: V₀ = 0.533)
    v0 = sum(math.sqrt(float(np.sum(group.coeffs**2)))
             for group in pooled.grouped.groups) ** 2
    assert 0.5 < v0 < 0.56
    total = math.ceil(per_group * v0 / CANS_REFERENCE_VARIANCE)
    options = problem_options("gcans", pooled)
    assert math.isclose(options.pop("lipschitz"), expected)
    assert options == {"min_shots": total, "max_shots": cap * total}
    # fully commuting groups: fewer groups, a smaller prior variance, a smaller total
    fc = qvopt.Estimator(h2.hamiltonian, circuit, shots=1000, allocation="variance",
                         grouping="fc")
    assert fc.grouped.n_groups < pooled.grouped.n_groups
    assert per_group * fc.grouped.n_groups < problem_options("icans", fc)["min_shots"] < total
    # rosalin samples terms: per group as before
    assert problem_options("rosalin", pooled)["min_shots"] == \
        per_group * pooled.grouped.n_groups
    # precedence: user options > VQE_DEFAULTS > the problem's
    built = get_optimizer("icans", vqe_defaults=True, estimator=pooled, lr=0.01)
    assert built.lr == 0.01 and built.min_shots == total
    # a user's lr means a constant step: L = 1/lr instead of the measured curvature
    assert built.lipschitz == 100.0 and not built.measured
    assert get_optimizer("icans", vqe_defaults=True, estimator=pooled).lipschitz == \
        VQE_DEFAULTS["icans"]["lipschitz"] == "measured"
    assert get_optimizer("icans", estimator=est, lipschitz=3.0).lipschitz == 3.0
    # the derived cap follows a user's min_shots (no conflict with a larger floor), and a
    # user's max_shots (None: no cap) wins
    assert get_optimizer("icans", estimator=est, min_shots=500).max_shots == cap * 500
    assert get_optimizer("icans", estimator=est, min_shots=np.int64(500)).max_shots == cap * 500
    assert get_optimizer("icans", estimator=est, max_shots=None).max_shots is None


def test_rate_and_lipschitz_resolution_and_errors():
    assert get_optimizer("icans").lr == 0.1 and get_optimizer("icans").lipschitz == 10.0
    assert get_optimizer("gcans", lipschitz=4.0).lr == 0.25
    assert get_optimizer("icans", lr=0.05).lipschitz == 20.0
    with pytest.raises(InputError, match=r"^icans: option lr must be < 2/lipschitz"):
        get_optimizer("icans", lr=0.5, lipschitz=4.0)
    with pytest.raises(InputError, match=r"^icans: option min_shots"):
        get_optimizer("icans", min_shots=1)
    with pytest.raises(InputError, match=r"^icans: option variant"):
        get_optimizer("icans", variant="icans3")
    with pytest.raises(InputError, match=r"^gcans: option max_shots"):
        get_optimizer("gcans", min_shots=10, max_shots=5)
