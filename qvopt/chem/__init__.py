"""Molecules → qubit Hamiltonians with Hartree–Fock and FCI references."""

from .molecule import MoleculeFileError, MoleculeSpec, known_molecules, read_molecule_file
from .problem import Problem, load_problem

__all__ = ["MoleculeFileError", "MoleculeSpec", "Problem", "known_molecules", "load_problem",
           "read_molecule_file"]
