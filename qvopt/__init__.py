"""qvopt: variational quantum optimization with honest shot noise.

Public API: ``load_problem``, ``ansatz``, ``Estimator``, ``vqe``, ``optimizers``.
"""

from . import ansatz, optimizers
from .bench import compare, report
from .chem import MoleculeFileError, Problem, known_molecules, load_problem
from .estimation import Estimate, Estimator, GPUUnavailableError, ShotLedger
from .optimizers.minimize import minimize
from .vqe import CHEMICAL_ACCURACY_MHA, VQEResult, resume, vqe

__version__ = "0.1.0"

__all__ = ["CHEMICAL_ACCURACY_MHA", "compare", "report", "Estimate", "Estimator", "GPUUnavailableError",
           "MoleculeFileError", "Problem", "ShotLedger", "VQEResult", "ansatz",
           "known_molecules", "load_problem", "minimize", "optimizers", "resume", "vqe"]
