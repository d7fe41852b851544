"""Energy, gradient and metric estimation: exact or honestly sampled."""

from .base import Estimate, ShotLedger
from .commuting import CommutingGroup, group_fully_commuting
from .estimator import Estimator
from .grouping import GroupedHamiltonian, MeasurementGroup, group_qubitwise_commuting
from .partition import GROUPINGS, form_groups
from .request import Reply, Request
from .sampler import GroupMoments, Sampler, StatevectorSampler
from .statevector import GPUUnavailableError

__all__ = ["GROUPINGS", "CommutingGroup", "Estimate", "Estimator", "GPUUnavailableError",
           "GroupMoments", "GroupedHamiltonian", "MeasurementGroup", "Reply", "Request",
           "Sampler", "ShotLedger", "StatevectorSampler", "form_groups",
           "group_fully_commuting", "group_qubitwise_commuting"]
