"""Image file formats as a registry: one class per format, as methods are one class per method.

An :class:`ImageFormat` knows its names and suffixes, whether a path is one of its files
(:meth:`~ImageFormat.sniff`), how to read a file's header (shape, dtype, metadata) without its
pixels, how to read the pixels in memory or lazily, and whether and how to write an image. The
formats register with :func:`register_format`; the built-in ones (``io/tiff.py``, ``io/omezarr.py``,
``io/pictures.py``) are registered by ``io/images.py``, the one entry every reader and writer of
the package goes through. The command line's ``--format`` choices, the napari reader's file
patterns and the batch's folder scan are derived from the registry, so a new format is one class.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..core.errors import ImageError
from .meta import ImageMeta


@dataclass(frozen=True)
class ImageHeader:
    """An image file's shape, dtype and metadata, read without decoding its pixels."""

    shape: tuple[int, ...]
    dtype: np.dtype
    meta: ImageMeta
    #: the file stores channels last and the image has them first (``shape`` is the image's)
    channels_moved: bool = False


class ImageFormat(ABC):
    """One file format (see the module docstring)."""

    #: The format's name (``--format`` on the command line).
    name: ClassVar[str]
    #: One line for help texts.
    summary: ClassVar[str]
    #: Lower-case name endings of its files, the one results get first.
    suffixes: ClassVar[tuple[str, ...]]
    #: Its images are folders (a Zarr store), not files.
    folder: ClassVar[bool] = False
    #: It can hold results; a read-only format's results are written as :attr:`results_in`.
    writes: ClassVar[bool] = True
    #: Its results record what made them (``ImageMeta.provenance``), read back by its reader.
    records_provenance: ClassVar[bool] = False
    results_in: ClassVar[str | None] = None
    #: The plugin's napari reader opens it (napari's own readers open the others).
    napari_reader: ClassVar[bool] = False

    def matches_name(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path``'s name ends in one of :attr:`suffixes` (the file need not exist)."""
        return str(path).rstrip("/").lower().endswith(self.suffixes)

    def matched_length(self, path: str | os.PathLike[str]) -> int:
        """The length of the suffix of ``path`` this format matched (0: none)."""
        name = str(path).rstrip("/").lower()
        return max((len(s) for s in self.suffixes if name.endswith(s)), default=0)

    def sniff(self, path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` names a file (or folder) of this format; by its name, as users name files."""
        return self.matches_name(path)

    def stem(self, path: str | os.PathLike[str]) -> str:
        """``path``'s name without the format's suffix (``scope.ome.tif`` -> ``scope``)."""
        name = Path(str(path).rstrip("/")).name
        suffix = next((s for s in self.suffixes if name.lower().endswith(s)), "")
        return name[: len(name) - len(suffix)] if suffix else Path(name).stem

    def result_suffix(self, path: str | os.PathLike[str]) -> str:
        """The suffix a result of ``path`` gets when written in the input's format: its own, lower-cased
        (``.TIFF`` stays a ``.tiff``); a read-only format's results get :attr:`results_in`'s."""
        if self.results_in is not None:
            return format_named(self.results_in).suffixes[0]
        name = str(path).rstrip("/").lower()
        return next((s for s in sorted(self.suffixes, key=len, reverse=True) if name.endswith(s)), self.suffixes[0])

    @abstractmethod
    def read_header(self, path: Path) -> ImageHeader:
        """Shape, dtype and metadata of the file, without decoding its pixels."""

    @abstractmethod
    def read(self, path: Path, header: ImageHeader, lazy: bool | None) -> tuple[Any, ImageMeta]:
        """The pixels (in the header's shape) and metadata; ``lazy``: ``True`` a dask array,
        ``None`` lazily when large, ``False`` in memory (where the format can say)."""

    def check_writable(self, dtype: np.dtype, shape: tuple[int, ...], meta: ImageMeta) -> None:
        """Raise :class:`ImageError` when an image of ``dtype`` and ``shape`` with ``meta`` cannot be
        written in this format (checked before any work)."""
        if not self.writes:
            raise ImageError(f"{self.summary} is read only; write .tif, .ome.tif, .zarr or .png")

    def write(
        self,
        path: str,
        image: Any,
        meta: ImageMeta,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Write ``image`` (numpy or dask) with ``meta`` to ``path`` (a temporary name; the caller
        renames it into place)."""
        raise ImageError(f"{self.summary} is read only")


F = TypeVar("F", bound=type[ImageFormat])
_FORMATS: dict[str, ImageFormat] = {}


def register_format(cls: F) -> F:
    """Class decorator: add an :class:`ImageFormat` to the registry (where two claim a file, the
    one with the longer suffix wins: OME-TIFF's ``.ome.tif`` before TIFF's ``.tif``).

    Parameters
    ----------
    cls : type
        An :class:`ImageFormat` subclass with ``name``, ``summary`` and ``suffixes``.

    Returns
    -------
    type
        ``cls`` itself.

    Raises
    ------
    ImageError
        When the name is already taken.
    """
    if cls.name in _FORMATS:
        raise ImageError(f"a format named {cls.name!r} is already registered")
    _FORMATS[cls.name] = cls()
    return cls


def image_formats() -> list[ImageFormat]:
    """The registered formats, in the order they were registered.

    Returns
    -------
    list of ImageFormat
    """
    return list(_FORMATS.values())


def format_named(name: str) -> ImageFormat:
    """The registered format called ``name``.

    Parameters
    ----------
    name : str
        A format's name (``"tif"``, ``"zarr"``...).

    Returns
    -------
    ImageFormat

    Raises
    ------
    ImageError
        For an unknown name (the message lists the known ones).
    """
    try:
        return _FORMATS[name]
    except KeyError:
        raise ImageError(f"unknown image format {name!r}; known: {', '.join(_FORMATS)}") from None


def format_for(path: str | os.PathLike[str]) -> ImageFormat | None:
    """The format of the file ``path`` names, or ``None`` when no registered format claims it.

    Parameters
    ----------
    path : str or os.PathLike
        A file or folder (it need not exist: the name decides, and a Zarr group inside a store).

    Returns
    -------
    ImageFormat or None
    """
    claims = [fmt for fmt in _FORMATS.values() if fmt.sniff(path)]
    # the most specific claim wins: scope.ome.tif is an OME-TIFF before it is a TIFF
    return max(claims, key=lambda fmt: fmt.matched_length(path), default=None)


def readable_suffixes() -> set[str]:
    """Every suffix a registered format reads (the batch's folder scan and glob patterns)."""
    return {suffix for fmt in _FORMATS.values() for suffix in fmt.suffixes}


def napari_patterns() -> list[str]:
    """The file patterns of the formats the plugin's napari reader opens (``napari.yaml`` lists these)."""
    import fnmatch

    patterns = set()
    for fmt in _FORMATS.values():
        if fmt.napari_reader:
            patterns |= {f"*{suffix}" for suffix in fmt.suffixes} | {f"*{suffix.upper()}" for suffix in fmt.suffixes}
    # a pattern another one already covers (*.ome.tif by *.tif) is left out
    kept = [p for p in patterns if not any(q != p and fnmatch.fnmatchcase(p[1:], q) for q in patterns)]
    return sorted(kept)
