"""Writing files so that a crash or an error never leaves a half-written or clobbered file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..core.errors import OutputExistsError


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None], overwrite: bool = False) -> Path:
    """Call ``write(temporary_path)`` beside ``path``, then rename it into place.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create.
    write : callable
        Writes the whole file to the temporary path it is given.
    overwrite : bool
        Replace an existing ``path``; otherwise :class:`OutputExistsError`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The temporary file keeps the target's suffix (some writers choose the format from it) and
    gets the usual permissions; it is removed if ``write`` fails.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
