"""Writing files so that a crash or an error never leaves a half-written or clobbered file.

A file is written under a temporary name in its own folder, ``.nssr-part-<pid>-<random><suffix>``,
then renamed into place. The process id in the name lets a later run remove the partial files of
processes that no longer exist (killed before they could clean up), and nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..core.errors import ImageError, OutputExistsError

PART_PREFIX = ".nssr-part-"
_PART_NAME = re.compile(re.escape(PART_PREFIX) + r"(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_parts(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the partial files that napari-nssr processes which no longer run left in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder outputs are written to (a missing folder has none).

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _PART_NAME.match(entry.name)
        if match and not _alive(int(match.group(1))):
            if entry.is_dir():  # an OME-Zarr store being written
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def check_can_write_into(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`ImageError` naming ``folder`` if no file can be created in it (checked before any
    work: a read-only folder was found only after the method's preparation).

    Parameters
    ----------
    folder : str or os.PathLike
        Where results go (created if missing).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f"{PART_PREFIX}{os.getpid()}-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ImageError(f"cannot write into {folder}: {exc.strerror or exc}") from exc


def _appeared(path: Path) -> OutputExistsError:
    return OutputExistsError(f"{path} appeared while this run was computing it (another run's or yours): not replaced")


def _place_new_file(tmp: str, path: Path) -> None:
    """Give ``tmp`` the name ``path`` only if nothing has it yet: a hard link fails if the name is
    taken, so a file that appeared at ``path`` while the result was computed is never replaced."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _appeared(path) from None
    except OSError:  # a file system without hard links: the check right before the rename
        if os.path.lexists(path):
            raise _appeared(path) from None
        os.replace(tmp, path)


def _place_new_folder(tmp: str, path: Path) -> None:
    """Rename the folder ``tmp`` to ``path`` only if nothing has that name (a rename onto a non-empty
    folder fails; onto anything else it is checked right before)."""
    if os.path.lexists(path):
        raise _appeared(path)
    try:
        os.rename(tmp, path)
    except OSError as exc:
        if os.path.lexists(path):
            raise _appeared(path) from exc
        raise


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[str], None], overwrite: bool = False, directory: bool = False
) -> Path:
    """Call ``write(temporary_path)`` beside ``path``, then rename it into place.

    Parameters
    ----------
    path : str or os.PathLike
        The file (or folder, such as a Zarr store) to create.
    write : callable
        Writes the whole file to the temporary path it is given (which does not exist yet for a
        folder).
    overwrite : bool
        Replace an existing ``path``; otherwise :class:`OutputExistsError`.
    directory : bool
        ``path`` is a folder.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The temporary file keeps the target's suffix (some writers choose the format from it) and
    gets the usual permissions; it is removed if ``write`` fails. Without ``overwrite``, a file
    that appears under ``path`` while ``write`` runs (another run's, a user's) is never replaced:
    :class:`OutputExistsError` instead. A folder replaces an old one by two renames (the old one
    moved aside, then removed): never a mix of both.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists")
    if path.is_dir() and not directory:
        raise OutputExistsError(f"cannot write {path}: it is a folder")
    prefix = f"{PART_PREFIX}{os.getpid()}-"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = tempfile.mkdtemp(dir=path.parent, prefix=prefix, suffix=path.suffix)
            os.rmdir(tmp)  # the writer creates it
        else:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=path.suffix)
            os.close(fd)
    except OSError as exc:  # named by the output, not by a temporary file
        raise ImageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        try:
            write(tmp)
        except OSError as exc:  # a full disk, a folder made read-only meanwhile
            raise ImageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        if directory and not overwrite:
            _place_new_folder(tmp, path)
        elif directory:
            old = None
            if path.exists():
                old = tempfile.mkdtemp(dir=path.parent, prefix=prefix, suffix=".old")
                os.rmdir(old)
                os.replace(path, old)
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
            if overwrite:
                os.replace(tmp, path)
            else:
                _place_new_file(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
        elif os.path.exists(tmp):
            os.unlink(tmp)
    return path
