"""Every numeric option of every registered optimizer is checked when the optimizer is built.

A bad value raises :class:`InputError` naming the optimizer and the option, before any
evaluation (``lr=nan`` used to fail only after a step, ``lr=-1`` ran silently).
"""

from __future__ import annotations

import inspect
import math

import pytest

from qvopt.errors import InputError
from qvopt.optimizers.registry import available, get_optimizer, option_parameters
from qvopt.optimizers.schedules import SCHEDULES, scale_by_plateau

BAD_VALUES = ["abc", math.nan, math.inf]


def _is_numeric(parameter: inspect.Parameter) -> bool:
    """Numeric options: a number (or tuple of numbers) by default, or annotated as one."""
    default = parameter.default
    if isinstance(default, bool):
        return False
    if isinstance(default, (int, float)):
        return True
    if isinstance(default, tuple) and default and all(isinstance(v, float) for v in default):
        return True
    annotation = str(parameter.annotation)
    return any(word in annotation for word in ("float", "int", "ScalarOrSchedule"))


NUMERIC_OPTIONS = [(name, option) for name in available()
                   for option, parameter in option_parameters(name).items()
                   if _is_numeric(parameter)]


def test_every_optimizer_has_numeric_options_under_test():
    covered = {name for name, _ in NUMERIC_OPTIONS}
    assert covered == set(available())
    assert ("adam", "betas") in NUMERIC_OPTIONS and ("spsa", "a") in NUMERIC_OPTIONS
    assert ("adam", "clip_norm") in NUMERIC_OPTIONS and ("qng", "lam") in NUMERIC_OPTIONS


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["str", "nan", "inf"])
@pytest.mark.parametrize("name, option", NUMERIC_OPTIONS,
                         ids=[f"{n}-{o}" for n, o in NUMERIC_OPTIONS])
def test_bad_numeric_option_raises_input_error_naming_it(name, option, bad):
    with pytest.raises(InputError) as info:
        get_optimizer(name, **{option: bad})
    message = str(info.value)
    assert message.startswith(f"{name}: ") and option in message, message
    assert repr(bad) in message or "pair" in message, message


def test_bad_option_fails_with_vqe_defaults_too():
    with pytest.raises(InputError, match=r"^adam: option lr must be > 0"):
        get_optimizer("adam", vqe_defaults=True, lr="abc")


@pytest.mark.parametrize("bad", [-1, 0, -0.5])
def test_adam_rejects_non_positive_lr(bad):
    with pytest.raises(InputError, match=r"adam: option lr must be > 0 \(a finite number\), "
                                         rf"got {bad}"):
        get_optimizer("adam", lr=bad)


@pytest.mark.parametrize("name, option, bad", [
    ("adam", "lr", True),  # booleans are not numbers
    ("spsa", "resamplings", 2.5),  # counts are integers
    ("spsa", "calibration_steps", 0),
    ("qng", "metric_every", True),
    ("sgd", "momentum", -0.1),
    ("adam", "eps", -1e-8),
    ("rmsprop", "alpha", 1.5),
    ("adamw", "weight_decay", -0.01),
    ("nadam", "betas", (0.9, 1.0)),
    ("adam", "betas", "ab"),
    ("adam", "amsgrad", "yes"),
    ("lbfgs", "maxcor", 0),
    ("nelder-mead", "initial_step", 0.0),
    ("2spsa", "alpha", -0.602),
])
def test_out_of_range_or_wrong_type(name, option, bad):
    with pytest.raises(InputError, match=rf"^{name}: option {option}"):
        get_optimizer(name, **{option: bad})


def test_ints_are_accepted_where_floats_are():
    get_optimizer("adam", lr=1, eps=0, weight_decay=0)
    get_optimizer("spsa", a=1, c=1, A=10, alpha=1, gamma=1)
    get_optimizer("qng", lr=1, lam=1)
    get_optimizer("adam", clip_norm=1, clip_value=2)


def test_unknown_options_are_still_rejected():
    with pytest.raises(InputError, match=r"unknown option\(s\) \['learning_rate'\]"):
        get_optimizer("adam", learning_rate=0.1)
    with pytest.raises(InputError, match=r"unknown option\(s\) \['lr'\].*'spsa'"):
        get_optimizer("spsa", lr=0.1)


def _schedule_cases():
    cases = []
    for sched, factory in SCHEDULES.items():
        parameters = list(inspect.signature(factory).parameters.values())[1:]
        required = {p.name: 10 for p in parameters if p.default is p.empty}
        cases += [(sched, required, p.name) for p in parameters]
        cases.append((sched, required, "warmup"))
    return cases


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["str", "nan", "inf"])
@pytest.mark.parametrize("sched, required, option", _schedule_cases(),
                         ids=[f"{s}-{o}" for s, _, o in _schedule_cases()])
def test_bad_schedule_option_names_optimizer_schedule_and_option(sched, required, option, bad):
    spec = {"name": sched, **required, option: bad}
    with pytest.raises(InputError, match=rf"^adam: schedule '{sched}': option {option} ") as info:
        get_optimizer("adam", lr=0.1, schedule=spec)
    assert repr(bad) in str(info.value)


def test_bad_lr_with_a_schedule_is_caught_before_the_schedule():
    with pytest.raises(InputError, match=r"^sgd: option lr must be > 0"):
        get_optimizer("sgd", lr=math.nan, schedule={"name": "exponential", "gamma": 0.9})


def test_schedule_missing_a_required_option():
    with pytest.raises(InputError, match=r"schedule 'step' needs option\(s\) \['step_size'\]"):
        get_optimizer("adam", schedule={"name": "step"})


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["str", "nan", "inf"])
@pytest.mark.parametrize("option", list(inspect.signature(scale_by_plateau).parameters))
def test_bad_plateau_option(option, bad):
    with pytest.raises(InputError, match=rf"^adam: plateau: option {option} "):
        get_optimizer("adam", plateau={option: bad})


def test_good_options_still_build():
    get_optimizer("adam", lr=0.05, betas=[0.8, 0.99], clip_norm=1.0,
                  schedule={"name": "cosine_restarts", "T_0": 5, "warmup": 2},
                  plateau={"patience": 3, "factor": 0.5})
    get_optimizer("spsa", a=None, allowed_increase=-0.01)
    for name in available():
        get_optimizer(name)
        get_optimizer(name, vqe_defaults=True)


@pytest.mark.parametrize("name", available())
def test_gradient_free_table_matches_what_each_optimizer_asks_for(name):
    """``GRADIENT_FREE`` (which decides whether ``gtol`` can apply) agrees with the
    optimizer's own requests: an ask/tell optimizer's first ask, a SciPy method's flag."""
    import numpy as np

    from qvopt.optimizers.registry import uses_gradient
    from qvopt.optimizers.scipy_methods import ScipyMethod

    optimizer = get_optimizer(name, vqe_defaults=True)
    if isinstance(optimizer, ScipyMethod):
        asks_gradient = optimizer.uses_gradient
    else:
        state = optimizer.init(np.array([0.1, -0.2]), np.random.default_rng(0))
        asks_gradient = optimizer.ask(state).gradient is not None
    assert asks_gradient == uses_gradient(name)


def test_gtol_with_a_gradient_free_optimizer_is_an_error():
    import qvopt

    with pytest.raises(qvopt.InputError, match="gtol must be None with optimizer 'spsa'"):
        qvopt.RunConfig("h2", optimizer="spsa", gtol=1e-3)
    assert qvopt.RunConfig("h2", optimizer="adam", gtol=1e-3).gtol == 1e-3
