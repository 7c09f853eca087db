"""Reading and writing image files: the one entry every format goes through, by the format registry.

The formats (``io/formats.py``) are one class each:

- TIFF, OME-TIFF, ImageJ hyperstacks (tifffile + imagecodecs: any common compression), with their
  calibration, axes and optics; GeoTIFFs with their georeference, nodata and bands (rasterio)
  (``io/tiff.py``, ``io/geotiff.py``);
- OME-Zarr images (``io/omezarr.py``), always read lazily;
- PNG, and JPEG and BMP read only (``io/pictures.py``).

A TIFF whose pixels would take more than :data:`~.tiff.LAZY_BYTES` is read lazily (a dask array,
read tile by tile when computed), and a lazy result is written a strip at a time, so whole scenes
and slides never need to fit in memory. Every file is written under a temporary name and renamed
into place (``io/files.py``).

Writing a result passes :meth:`ImageMeta.scaled`: pixel sizes (resolution tags, ImageJ and OME
calibration, a GeoTIFF's geotransform) are divided by the upsampling factor and the origin is
kept, so the result covers the same ground or field of view as its source.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError, NSSRError
from . import omezarr, pictures, tiff
from .files import write_atomically
from .formats import ImageFormat, ImageHeader, format_for, image_formats
from .meta import GeoInfo, ImageMeta

__all__ = ["GeoInfo", "ImageHeader", "ImageMeta", "read_header", "read_image", "read_image_file", "write_image"]

#: the formats of the package (importing a format's module registers it)
BUILT_IN = (
    tiff.TiffFormat,
    tiff.OmeTiffFormat,
    omezarr.OmeZarrFormat,
    pictures.PngFormat,
    pictures.JpegFormat,
    pictures.BmpFormat,
)


def output_formats() -> list[str]:
    """The names of the formats results can be written in: the built-in ones first, in their order
    (``--format`` choices).

    Returns
    -------
    list of str
    """
    rank = {cls.name: i for i, cls in enumerate(BUILT_IN)}
    names = [fmt.name for fmt in image_formats() if fmt.writes]
    return sorted(names, key=lambda name: rank.get(name, len(rank)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _written_formats() -> str:
    return ", ".join(f"{fmt.suffixes[0]} ({fmt.summary})" for fmt in image_formats() if fmt.writes)


def _readable_format(path: Path) -> ImageFormat:
    """The format of an existing file, or the one-line reason it cannot be read."""
    fmt = format_for(path)
    if fmt is not None and fmt.folder:
        if not path.is_dir():
            raise FileNotFoundError(f"{fmt.summary} store not found: {path}")
        return fmt
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    if fmt is None:
        known = ", ".join(f.summary for f in image_formats())
        raise ImageError(f"unsupported image format {path.suffix.lower()!r} for {path}; use {known}")
    if path.stat().st_size == 0:
        raise ImageError(f"could not read {path}: the file is empty")
    return fmt


def read_header(path: str | os.PathLike[str]) -> ImageHeader:
    """Shape, dtype and metadata of an image file, without decoding its pixels.

    Parameters
    ----------
    path : str or os.PathLike
        A file of a registered format, or an OME-Zarr folder.

    Returns
    -------
    ImageHeader
        The shape and axes the pixels will have when read (a GeoTIFF's non-colour bands first).

    Raises
    ------
    ImageError
        For an unsupported, empty, damaged or mixed-shape file (one line).
    """
    path = Path(path)
    fmt = _readable_format(path)
    try:
        return fmt.read_header(path)
    except (ImageError, FileNotFoundError):
        raise
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {_first_line(exc)}") from exc


def read_image_file(path: str | os.PathLike[str], lazy: bool | None = False) -> tuple[Any, ImageMeta]:
    """Read an image file with its metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF (any compression imagecodecs decodes: LZW, deflate, zstd, JPEG), PNG, JPEG or BMP
        file, or an OME-Zarr folder.
    lazy : bool or None
        ``True``: a dask array read on demand (TIFF and OME-Zarr); ``None``: lazily when the
        decoded pixels exceed :data:`~.tiff.LAZY_BYTES` (OME-Zarr always); ``False``: in memory.

    Returns
    -------
    tuple of (array, ImageMeta)
        The pixels in their stored dtype (every page of a TIFF; a GeoTIFF's non-colour bands on
        a leading axis), and the metadata.

    Raises
    ------
    ImageError
        For an unsupported, empty, damaged or mixed-shape file (one line).
    """
    path = Path(path)
    fmt = _readable_format(path)
    try:
        return fmt.read(path, fmt.read_header(path), lazy)
    except ImageError:
        raise
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {_first_line(exc)}") from exc


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file into memory, in its stored dtype (see :func:`read_image_file`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    numpy.ndarray
    """
    return np.asarray(read_image_file(path)[0])


def holds_result(
    path: str | os.PathLike[str], shape: tuple[int, ...], dtype: np.dtype, provenance: str | None = None
) -> bool:
    """Whether ``path`` already holds this result: an image of ``shape`` and ``dtype`` that reads whole
    and, in a format that records what made it, says ``provenance`` made it.

    Parameters
    ----------
    path : str or os.PathLike
        An output that exists.
    shape : tuple of int
        The planned result's shape.
    dtype : numpy.dtype
        Its dtype.
    provenance : str, optional
        What would make it (``ImageMeta.provenance``); ``None``: not compared.

    Returns
    -------
    bool
        False for another shape or type, another method, settings, scale or source, or a file
        that does not decode to the end (every pixel is read, a chunk at a time).
    """
    try:
        header = read_header(path)
        if header.shape != tuple(shape) or header.dtype != np.dtype(dtype):
            return False
        fmt = _readable_format(Path(path))
        if provenance is not None and fmt.records_provenance and header.meta.provenance != provenance:
            return False
        data, _ = read_image_file(path, lazy=True)
        if hasattr(data, "compute"):
            data.sum().compute()  # every chunk decoded, one at a time
        else:
            np.asarray(data).sum()
    except (NSSRError, OSError):
        return False
    return True


def writer_for(path: str | os.PathLike[str]) -> ImageFormat:
    """The format ``path``'s name asks to be written in, or the one-line reason there is none."""
    fmt = format_for(path)
    if fmt is None or not fmt.writes:
        raise ImageError(f"cannot write {Path(path).suffix.lower()!r}; write {_written_formats()}")
    return fmt


def check_writable(
    path: str | os.PathLike[str], dtype: np.dtype, shape: tuple[int, ...], meta: ImageMeta | None = None
) -> None:
    """Raise :class:`ImageError` if an image of ``dtype`` and ``shape`` cannot be written to ``path``
    (checked before any work: a format that cannot hold the data).

    Parameters
    ----------
    path : str or os.PathLike
        The destination.
    dtype : numpy.dtype
        The image's dtype.
    shape : tuple of int
        Its shape.
    meta : ImageMeta, optional
        What will be written with it (a georeference needs bands of 2D planes).
    """
    writer_for(path).check_writable(np.dtype(dtype), tuple(shape), meta or ImageMeta())


def write_image(
    path: str | os.PathLike[str],
    image: Any,
    overwrite: bool = False,
    meta: ImageMeta | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``image`` atomically in the format ``path``'s name asks for: TIFF (any numeric dtype; a
    GeoTIFF when ``meta`` is georeferenced), OME-TIFF, OME-Zarr or PNG (uint8/uint16).

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the suffix picks the format (``.ome.tif`` for OME-TIFF, ``.zarr`` for OME-Zarr).
    image : numpy.ndarray or dask.array.Array
        The pixels. A dask array is computed and written a strip at a time (TIFF, GeoTIFF) or a
        chunk at a time (OME-Zarr), never whole.
    overwrite : bool
        Replace an existing file (otherwise :class:`OutputExistsError`).
    meta : ImageMeta, optional
        Axes, calibration, georeference and nodata to write (for a result, pass the source's
        ``meta.scaled(scale)``).
    progress : callable, optional
        Called with ``(parts done, parts)`` while a lazy image is computed and written.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    meta = meta or ImageMeta()
    fmt = writer_for(path)
    fmt.check_writable(np.dtype(image.dtype), tuple(image.shape), meta)
    if path.is_dir() and not fmt.folder:
        raise ImageError(f"cannot write {path}: it is a folder")
    return write_atomically(path, lambda tmp: fmt.write(tmp, image, meta, progress), overwrite, directory=fmt.folder)
