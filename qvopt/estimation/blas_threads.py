"""Run dense products on one OpenBLAS thread for a while (:func:`single_threaded_blas`).

OpenBLAS threads spin while they wait for work. On a machine whose cores are busy with
other processes (the 2-core machines these benchmarks run on, load 3–10) a multi-threaded
product then waits for a descheduled thread: the sector engine's flip-block moment
products on H8 (1307 dense products over 1440 points) took 25.7 s with the default
threads and 3.6 s on one thread, in the same minute. The sector engine therefore runs its
dense products single-threaded and restores the previous count afterwards.

The library is found as ``threadpoolctl`` finds it, without the dependency: every loaded
shared library whose file name contains ``openblas`` (Linux ``/proc/self/maps``) that
exports ``<prefix>openblas_{get,set}_num_threads<suffix>`` (numpy's wheels use the prefix
``scipy_`` and the suffix ``64_``). Where none is found (another BLAS, another OS) the
context does nothing. Not thread-safe: the thread count is process-wide.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

_NAMES = [(f"{prefix}openblas_get_num_threads{suffix}",
           f"{prefix}openblas_set_num_threads{suffix}")
          for prefix in ("scipy_", "") for suffix in ("64_", "_64_", "")]


def _loaded_openblas() -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/") and ".so" in p)


@lru_cache(maxsize=1)
def _controls() -> tuple[tuple[Callable[[], int], Callable[[int], None]], ...]:
    """(get, set) thread-count functions of every loaded OpenBLAS (found once)."""
    import numpy  # noqa: F401  (loads numpy's BLAS before the search)

    found = []
    for path in _loaded_openblas():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _NAMES:
            get, set_ = getattr(library, get_name, None), getattr(library, set_name, None)
            if get is not None and set_ is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                found.append((get, set_))
                break
    return tuple(found)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """OpenBLAS on one thread inside the ``with`` block, the previous counts after it."""
    saved = [(set_, int(get())) for get, set_ in _controls()]
    for set_, _ in saved:
        set_(1)
    try:
        yield
    finally:
        for set_, count in saved:
            set_(count)


def blas_thread_counts() -> list[int]:
    """The current thread count of every OpenBLAS found (empty when none is)."""
    return [int(get()) for get, _ in _controls()]
