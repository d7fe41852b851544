"""Energy, gradient and metric estimation: exact or honestly sampled."""

from .base import Estimate, ShotLedger
from .estimator import Estimator
from .grouping import GroupedHamiltonian, MeasurementGroup, group_qubitwise_commuting
from .request import Reply, Request
from .sampler import GroupMoments, Sampler, StatevectorSampler
from .statevector import GPUUnavailableError

__all__ = ["Estimate", "Estimator", "GPUUnavailableError", "GroupMoments", "GroupedHamiltonian",
           "MeasurementGroup", "Reply", "Request", "Sampler", "ShotLedger",
           "StatevectorSampler", "group_qubitwise_commuting"]
