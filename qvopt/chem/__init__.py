"""Molecules → qubit Hamiltonians with Hartree–Fock and FCI references."""

from .molecule import MoleculeFileError, MoleculeSpec, known_molecules, read_molecule_file
from .operators import problem_from_operator
from .problem import Problem, load_problem

__all__ = ["MoleculeFileError", "MoleculeSpec", "Problem", "known_molecules", "load_problem",
           "problem_from_operator", "read_molecule_file"]
