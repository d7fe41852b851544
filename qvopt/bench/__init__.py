"""Optimizer comparisons: study grids, the SQLite store, statistics, tables and plots."""

from .report import report, summarize
from .runner import CompareSummary, compare
from .store import Store, StoreError
from .study import Study, load_study_file, make_study

__all__ = ["CompareSummary", "Store", "StoreError", "Study", "compare", "load_study_file",
           "make_study", "report", "summarize"]
