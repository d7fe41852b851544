"""Energy, gradient and metric estimation: exact or honestly sampled."""

from .base import Estimate, ShotLedger
from .estimator import Estimator
from .grouping import GroupedHamiltonian, MeasurementGroup, group_qubitwise_commuting
from .statevector import GPUUnavailableError

__all__ = ["Estimate", "Estimator", "GPUUnavailableError", "GroupedHamiltonian",
           "MeasurementGroup", "ShotLedger", "group_qubitwise_commuting"]
