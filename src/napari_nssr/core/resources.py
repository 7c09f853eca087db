"""How much memory this machine can give, so that work too big for it is refused before it starts."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ResourceError

# leave this share of the available memory to the rest of the machine
USABLE_SHARE = 0.8


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``; else physical memory).

    Returns
    -------
    int
    """
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2**62


def check_fits(needed: int, what: str) -> None:
    """Raise :class:`ResourceError` if ``needed`` bytes exceed the usable share of available memory.

    Parameters
    ----------
    needed : int
        Estimated peak bytes.
    what : str
        What needs them, for the message ("a gallery of 1000000 kernels").
    """
    usable = int(available_memory() * USABLE_SHARE)
    if needed > usable:
        raise ResourceError(
            f"{what} needs about {needed / 2**30:.1f} GiB of memory; {usable / 2**30:.1f} GiB is available. "
            "Use fewer or smaller kernels"
        )
