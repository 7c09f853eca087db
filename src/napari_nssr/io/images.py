"""Reading and writing image files: one entry for every format napari-nssr takes.

- TIFF, OME-TIFF, ImageJ hyperstacks (tifffile + imagecodecs: any common compression), with their
  calibration, axes and optics (``io/tiff.py``); GeoTIFFs with their georeference, nodata and
  bands (rasterio: ``io/geotiff.py``);
- OME-Zarr images (``io/omezarr.py``), always read lazily;
- PNG and JPEG (imageio).

A TIFF whose pixels would take more than :data:`LAZY_BYTES` is read lazily (a dask array, read
tile by tile when computed), and a lazy result is written a strip at a time, so whole scenes and
slides never need to fit in memory. Every file is written under a temporary name and renamed
into place (``io/files.py``).

Writing a result passes :meth:`ImageMeta.scaled`: pixel sizes (resolution tags, ImageJ and OME
calibration, a GeoTIFF's geotransform) are divided by the upsampling factor and the origin is
kept, so the result covers the same ground or field of view as its source.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError
from ..core.layout import looks_rgb
from .files import write_atomically
from .meta import GeoInfo, ImageMeta
from .omezarr import is_ome_zarr, read_ome_zarr, write_ome_zarr
from .tiff import read_tiff_lazy, read_tiff_pixels, tiff_meta, tiff_series, write_tiff

__all__ = ["GeoInfo", "ImageHeader", "ImageMeta", "read_header", "read_image", "read_image_file", "write_image"]

TIFF_SUFFIXES = {".tif", ".tiff"}
PNG_SUFFIXES = {".png"}
READ_ONLY_SUFFIXES = {".jpg", ".jpeg", ".bmp"}
ZARR_SUFFIX = ".zarr"
IMAGE_SUFFIXES = TIFF_SUFFIXES | PNG_SUFFIXES | READ_ONLY_SUFFIXES | {ZARR_SUFFIX}
OME_SUFFIXES = (".ome.tif", ".ome.tiff")
GEO_KEY_TAGS = (33550, 33922, 34264, 34735)  # pixel scale, tie points, transformation, geokeys
LAZY_BYTES = 512 * 2**20  # TIFFs larger than this (decoded) are read lazily
STREAM_BYTES = 64 * 2**20  # lazy results larger than this are written tile by tile (smaller: computed whole)


@dataclass(frozen=True)
class ImageHeader:
    """An image file's shape, dtype and metadata, read without decoding its pixels."""

    shape: tuple[int, ...]
    dtype: np.dtype
    meta: ImageMeta


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_file(path: Path) -> None:
    if is_ome_zarr(path):
        if not path.is_dir():
            raise FileNotFoundError(f"Zarr store not found: {path}")
        return
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageError(
            f"unsupported image format {path.suffix.lower()!r} for {path}; use TIFF, OME-Zarr, PNG or JPEG"
        )
    if path.stat().st_size == 0:
        raise ImageError(f"could not read {path}: the file is empty")


def _georeferenced(path: Path, meta: ImageMeta, shape: tuple[int, ...]) -> tuple[ImageMeta, bool]:
    """``meta`` with a GeoTIFF's georeference and nodata (rasterio), and whether its bands must move
    first (``YXS`` samples that are not red, green, blue: ``CYX`` bands)."""
    from .geotiff import raster_info

    info = raster_info(path)
    if info.geo is None:
        return meta, False
    meta = replace(
        meta,
        geo=info.geo,
        nodata=info.nodata if info.nodata is not None else meta.nodata,
        pixel_size=info.geo.pixel_size if info.geo.north_up else meta.pixel_size,
        unit=info.geo.units if info.geo.north_up else meta.unit,
    )
    axes = meta.axes or ""
    if axes.endswith("S") and not info.colour:
        return replace(meta, axes="C" + axes[:-1]), True
    if axes.startswith("S"):
        return replace(meta, axes="C" + axes[1:]), False
    return meta, False


def _has_geokeys(tif: Any) -> bool:
    page = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
    return any(code in page.tags for code in GEO_KEY_TAGS)


def _moved(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[-1], *shape[:-1])


def read_header(path: str | os.PathLike[str]) -> ImageHeader:
    """Shape, dtype and metadata of an image file, without decoding its pixels.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF, PNG or JPEG file, or an OME-Zarr folder.

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
    _check_file(path)
    try:
        if is_ome_zarr(path):
            data, meta = read_ome_zarr(path)
            return ImageHeader(tuple(data.shape), np.dtype(data.dtype), meta)
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                shape, dtype, axes, _ = tiff_series(tif, path)
                meta = tiff_meta(tif, axes)
                geo = _has_geokeys(tif)
            if geo:
                meta, move = _georeferenced(path, meta, shape)
                shape = _moved(shape) if move else shape
            return ImageHeader(shape, dtype, meta)
        import imageio.v3 as iio

        props = iio.improps(path)
        return ImageHeader(tuple(int(n) for n in props.shape), np.dtype(props.dtype), ImageMeta())
    except (ImageError, FileNotFoundError):
        raise
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {_first_line(exc)}") from exc


def read_image_file(path: str | os.PathLike[str], lazy: bool | None = False) -> tuple[Any, ImageMeta]:
    """Read an image file with its metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF (any compression imagecodecs decodes: LZW, deflate, zstd, JPEG), PNG or JPEG
        file, or an OME-Zarr folder.
    lazy : bool or None
        ``True``: a dask array read on demand (TIFF and OME-Zarr); ``None``: lazily when the
        decoded pixels exceed :data:`LAZY_BYTES` (OME-Zarr always); ``False``: in memory.

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
    header = read_header(path)
    try:
        if is_ome_zarr(path):
            data, meta = read_ome_zarr(path)
            return (data if lazy is not False else np.asarray(data)), meta
        if path.suffix.lower() in TIFF_SUFFIXES:
            size = int(np.prod(header.shape)) * header.dtype.itemsize
            if lazy or (lazy is None and size > LAZY_BYTES):
                import dask.array as da

                data = read_tiff_lazy(path)
                if tuple(data.shape) != header.shape:  # bands moved first
                    data = da.moveaxis(data, -1, 0)
            else:
                data = read_tiff_pixels(path)
                if data.shape != header.shape:
                    data = np.moveaxis(data, -1, 0)
            return data, header.meta
        import imageio.v3 as iio

        return np.asarray(iio.imread(path)), ImageMeta()
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
    suffix = Path(path).suffix.lower()
    if is_ome_zarr(path):
        return
    if suffix not in TIFF_SUFFIXES | PNG_SUFFIXES:
        raise ImageError(f"cannot write {suffix!r}; write .tif/.tiff, .ome.tif, .zarr or .png")
    if suffix in PNG_SUFFIXES:
        if np.dtype(dtype) not in (np.uint8, np.uint16):
            raise ImageError(
                f"PNG stores only uint8/uint16 images, this one is {np.dtype(dtype)}; write a .tif instead"
            )
        if len(shape) > 3 or (len(shape) == 3 and not looks_rgb(shape)):
            raise ImageError(f"PNG stores one grey or RGB(A) image, this one has shape {shape}; write a .tif instead")
        if np.dtype(dtype) == np.uint16 and len(shape) == 3:
            raise ImageError("16-bit PNG is written for grey images only; write a .tif for 16-bit colour")
    if meta is not None and meta.geo is not None and suffix in PNG_SUFFIXES:
        raise ImageError("a PNG cannot hold the image's georeference; write a .tif (GeoTIFF) or a .zarr")
    geo = meta is not None and meta.geo is not None and not str(path).lower().endswith(OME_SUFFIXES)
    if geo and suffix in TIFF_SUFFIXES and len(shape) > 3:
        raise ImageError(f"a GeoTIFF holds bands of 2D planes, this image has shape {shape}; write a .zarr instead")


def _is_lazy(image: Any) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is a dependency
        return False
    return isinstance(image, da.Array)


def write_image(
    path: str | os.PathLike[str],
    image: Any,
    overwrite: bool = False,
    meta: ImageMeta | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``image`` atomically: TIFF (any numeric dtype; a GeoTIFF when ``meta`` is
    georeferenced), OME-TIFF, OME-Zarr or PNG (uint8/uint16).

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
    check_writable(path, image.dtype, tuple(image.shape), meta)
    suffix = path.suffix.lower()
    nbytes = int(np.prod(image.shape)) * np.dtype(image.dtype).itemsize
    lazy = _is_lazy(image) and nbytes > STREAM_BYTES
    ome = path.name.lower().endswith(OME_SUFFIXES)

    def write(tmp: str) -> None:
        if is_ome_zarr(path):
            write_ome_zarr(tmp, image, meta, progress)
        elif suffix in TIFF_SUFFIXES and meta.geo is not None and not ome:
            from .geotiff import write_geotiff

            write_geotiff(tmp, image, meta.geo, meta.nodata, bool(meta.rgb), meta.compression, progress=progress)
        elif suffix in TIFF_SUFFIXES:
            write_tiff(tmp, image, meta, ome, lazy, progress)
        else:
            import imageio.v3 as iio

            iio.imwrite(tmp, np.asarray(image), extension=".png")

    if path.is_dir() and not is_ome_zarr(path):
        raise ImageError(f"cannot write {path}: it is a folder")
    return write_atomically(path, write, overwrite, directory=is_ome_zarr(path))
