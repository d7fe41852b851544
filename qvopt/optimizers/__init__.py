"""Optimizers: composable update rules (optax style) behind an ask/tell protocol."""

from .ask_tell import AskTellOptimizer, FirstOrderOptimizer, Reply, Request
from .base import GradientTransformation, apply_updates, chain
from .clipping import clip_by_global_norm, clip_by_value
from .first_order import adagrad, adam, adamw, amsgrad, momentum, nadam, nesterov, rmsprop, sgd
from .gcans import GCANS
from .icans import ICANS, Rosalin, lipschitz_bound
from .qng import MomentumQNG, QuantumNaturalGradient
from .registry import VQE_DEFAULTS, available, describe, get_optimizer, problem_options
from .rotosolve import NFT, Rotosolve
from .schedules import (
                          cosine_warm_restarts,
                          exponential_decay,
                          linear_warmup,
                          one_cycle,
                          scale_by_plateau,
                          step_decay,
)

__all__ = ["GCANS", "ICANS", "NFT", "Rosalin", "AskTellOptimizer", "FirstOrderOptimizer",
           "GradientTransformation", "MomentumQNG", "QuantumNaturalGradient", "Reply",
           "Request", "Rotosolve", "VQE_DEFAULTS", "adagrad", "adam", "adamw", "amsgrad",
           "apply_updates", "available", "chain", "clip_by_global_norm", "clip_by_value",
           "cosine_warm_restarts", "describe", "exponential_decay", "get_optimizer",
           "linear_warmup", "lipschitz_bound", "momentum", "nadam", "nesterov", "one_cycle",
           "problem_options", "rmsprop", "scale_by_plateau", "sgd", "step_decay"]
