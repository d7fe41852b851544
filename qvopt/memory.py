"""How much memory this machine has free now, and the one rule for refusing work that would
not fit in it (used before a run by :mod:`qvopt.capacity` and before building measurement
tables by :mod:`qvopt.estimation.observable`)."""

from __future__ import annotations

import os

from .errors import InputError

#: Work is refused when it needs more than this fraction of the memory available now.
MEMORY_FRACTION = 0.8


def available_memory() -> float:
    """Bytes available now (``MemAvailable``), or the physical memory where unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def refuse_unless_fits(need_bytes: float, what: str, advice: str,
                       available: float | None = None, how: str = "") -> None:
    """:class:`InputError` (one line: ``what``, the need and ``how`` it was estimated, the
    memory available, ``advice``) when ``need_bytes`` exceeds :data:`MEMORY_FRACTION` of
    ``available`` (default :func:`available_memory`)."""
    available = available_memory() if available is None else available
    if need_bytes > MEMORY_FRACTION * available:
        raise InputError(f"{what} needs about {need_bytes / 1e9:.1f} GB{how}, more than "
                         f"{MEMORY_FRACTION:.0%} of the {available / 1e9:.1f} GB available: "
                         f"{advice}")
