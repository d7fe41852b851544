"""Schedules match their formulas; reduce-on-plateau waits `patience` steps; clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qvopt.optimizers import (
    chain,
    clip_by_global_norm,
    clip_by_value,
    cosine_warm_restarts,
    exponential_decay,
    get_optimizer,
    linear_warmup,
    one_cycle,
    scale_by_plateau,
    step_decay,
)
from qvopt.optimizers.schedules import build_schedule


def test_step_decay():
    s = step_decay(0.1, step_size=3, gamma=0.5)
    assert [s(k) for k in range(7)] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_exponential_decay():
    s = exponential_decay(0.2, gamma=0.9)
    assert s(0) == 0.2 and s(5) == pytest.approx(0.2 * 0.9**5)


def test_cosine_warm_restarts():
    s = cosine_warm_restarts(1.0, T_0=4, T_mult=2, eta_min=0.1)
    expected = {0: 1.0, 2: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)), 4: 1.0,
                6: 0.1 + 0.45 * (1 + math.cos(math.pi * 2 / 8)), 12: 1.0}
    for k, value in expected.items():
        assert s(k) == pytest.approx(value)


def test_one_cycle_matches_pytorch_formula():
    s = one_cycle(1.0, total_steps=100, pct_start=0.3, div_factor=25, final_div_factor=1e4)
    assert s(0) == pytest.approx(1.0 / 25)
    assert s(29) == pytest.approx(1.0)  # pct_start * total - 1
    assert s(99) == pytest.approx(1.0 / 25 / 1e4)
    k = 50
    pct = (k - 29) / (99 - 29)
    final = 1.0 / 25 / 1e4
    assert s(k) == pytest.approx(final + 0.5 * (1.0 - final) * (1 + math.cos(math.pi * pct)))


def test_one_cycle_against_pytorch_if_available():
    torch = pytest.importorskip("torch")
    x = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=40)
    ours = one_cycle(0.5, total_steps=40)
    for k in range(40):
        assert opt.param_groups[0]["lr"] == pytest.approx(ours(k), rel=1e-9)
        opt.step()
        sched.step()


def test_linear_warmup():
    s = linear_warmup(0.1, warmup_steps=4, start_factor=0.2)
    assert [s(k) for k in range(6)] == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1, 0.1])


def test_build_schedule_errors():
    with pytest.raises(ValueError, match="unknown schedule 'cosine'"):
        build_schedule(0.1, "cosine")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['steps'\]"):
        build_schedule(0.1, {"name": "step", "steps": 3})
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        build_schedule(0.1, {"name": "step", "step_size": 0})


def test_schedule_drives_optimizer_learning_rate():
    opt = get_optimizer("sgd", lr=1.0, schedule={"name": "step", "step_size": 1, "gamma": 0.5})
    state = opt.rule.init(np.zeros(1))
    steps = []
    for _ in range(3):
        update, state = opt.rule.update(np.ones(1), state, np.zeros(1), value=0.0)
        steps.append(float(update[0]))
    assert steps == [-1.0, -0.5, -0.25]


def test_plateau_reduces_only_after_patience_non_improving_steps():
    rule = scale_by_plateau(factor=0.5, patience=3, threshold=0.01)
    state = rule.init(np.zeros(1))
    values = [1.0, 0.9, 0.895, 0.899, 0.898, 0.897, 0.896, 0.5, 0.5]
    scales = []
    for v in values:
        update, state = rule.update(np.ones(1), state, np.zeros(1), value=v)
        scales.append(float(update[0]))
    # improvements at steps 0 and 1; then 0.895..0.896 are within threshold: 4th bad step cuts
    assert scales == [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]


def test_plateau_cooldown_and_min_scale():
    rule = scale_by_plateau(factor=0.1, patience=0, threshold=0.0, cooldown=2, min_scale=0.05)
    state = rule.init(np.zeros(1))
    scales = []
    for _ in range(6):
        update, state = rule.update(np.ones(1), state, np.zeros(1), value=1.0)
        scales.append(round(float(update[0]), 10))
    assert scales == [1.0, 0.1, 0.1, 0.1, 0.05, 0.05]


def test_plateau_needs_value():
    rule = scale_by_plateau()
    with pytest.raises(ValueError, match="needs the estimated energy"):
        rule.update(np.ones(1), rule.init(np.zeros(1)), np.zeros(1))


def test_clip_by_global_norm():
    rule = clip_by_global_norm(1.0)
    out, _ = rule.update(np.array([3.0, 4.0]), rule.init(None))
    assert np.allclose(out, [0.6, 0.8])
    out, _ = rule.update(np.array([0.3, 0.4]), rule.init(None))
    assert np.allclose(out, [0.3, 0.4])


def test_clip_by_value_and_chain():
    rule = chain(clip_by_value(0.5), clip_by_global_norm(0.5))
    out, _ = rule.update(np.array([2.0, -0.1]), rule.init(np.zeros(2)))
    assert np.allclose(out, np.array([0.5, -0.1]) * 0.5 / np.hypot(0.5, 0.1))


def test_clip_options_through_registry():
    opt = get_optimizer("sgd", lr=1.0, clip_norm=0.1)
    update, _ = opt.rule.update(np.array([10.0, 0.0]), opt.rule.init(np.zeros(2)), np.zeros(2))
    assert np.allclose(update, [-0.1, 0.0])
    with pytest.raises(ValueError, match="clip_norm must be > 0"):
        get_optimizer("sgd", clip_norm=-1)
