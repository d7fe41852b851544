"""Optimizers: composable update rules (optax style) behind an ask/tell protocol."""

from .ask_tell import AskTellOptimizer, FirstOrderOptimizer, Reply, Request
from .base import GradientTransformation, apply_updates, chain
from .clipping import clip_by_global_norm, clip_by_value
from .first_order import (adagrad, adam, adamw, amsgrad, momentum, nadam, nesterov, rmsprop,
                          sgd)
from .registry import VQE_DEFAULTS, available, describe, get_optimizer
from .schedules import (cosine_warm_restarts, exponential_decay, linear_warmup, one_cycle,
                        scale_by_plateau, step_decay)

__all__ = ["AskTellOptimizer", "FirstOrderOptimizer", "GradientTransformation", "Reply",
           "Request", "VQE_DEFAULTS", "adagrad", "adam", "adamw", "amsgrad", "apply_updates",
           "available", "chain", "clip_by_global_norm", "clip_by_value", "cosine_warm_restarts",
           "describe", "exponential_decay", "get_optimizer", "linear_warmup", "momentum",
           "nadam", "nesterov", "one_cycle", "rmsprop", "scale_by_plateau", "sgd",
           "step_decay"]
