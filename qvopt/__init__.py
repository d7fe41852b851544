"""qvopt: variational quantum optimization with honest shot noise.

Public API: ``load_problem``, ``problem_from_operator``, ``ansatz``, ``Estimator``,
``RunConfig``, ``vqe``, ``run``,
``resume``, ``minimize``, ``scan``, ``compare``, ``report``, ``preview`` (what a run will cost,
before it runs), ``optimizers`` and the error family
(``QvoptError`` and its subclasses).
"""

from . import ansatz, optimizers
from .accuracy import CHEMICAL_ACCURACY_MHA
from .adapt import AdaptResult, adapt_vqe, resume_adapt
from .api import run, vqe
from .bench import compare, report
from .chem import Problem, known_molecules, load_problem, problem_from_operator
from .config import RunConfig
from .driver import Status
from .errors import (
                     BackendError,
                     CheckpointError,
                     GPUUnavailableError,
                     InputError,
                     MissingExtraError,
                     MoleculeFileError,
                     QvoptError,
                     RunFileError,
                     StoreError,
)
from .estimation import Estimate, Estimator, ShotLedger
from .minimize import minimize
from .preview import preview
from .result import VQEResult
from .scan import ScanResult, scan
from .vqe import resume

__version__ = "0.3.0"

__all__ = ["AdaptResult", "BackendError", "CHEMICAL_ACCURACY_MHA", "CheckpointError", "Estimate",
           "Estimator", "GPUUnavailableError", "InputError", "MissingExtraError",
           "MoleculeFileError", "Problem", "QvoptError", "RunConfig", "RunFileError", "ScanResult",
           "ShotLedger", "Status", "StoreError", "VQEResult", "adapt_vqe", "ansatz", "compare",
           "known_molecules", "load_problem", "minimize", "optimizers", "preview",
           "problem_from_operator", "report", "resume", "resume_adapt", "run", "scan", "vqe"]
