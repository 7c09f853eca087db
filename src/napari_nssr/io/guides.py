"""Guide files: read as float bands with their nodata as NaN, and checked (never guessed) against the
grid a result will have.

A guide must lie on the result's grid: the same CRS, the same pixel size and origin, the same
shape. A georeferenced guide that does not is refused with the mismatch named (its CRS, its pixel
size, its offset in result pixels), or, when asked (``reproject=True``, the command line's
``--reproject-guides``), resampled onto that grid by rasterio (cubic; outside its bounds it has no
data). A guide that does not overlap the result at all is always refused; so is a guide with a
georeference beside a target without one, or the reverse: then nothing says they overlay. Plain
images (no georeference) must have the result's shape.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import ImageError
from .meta import GeoInfo

#: grids whose origins differ by less than this many result pixels (and pixel sizes by less than
#: this fraction) are the same grid: a float's rounding in a GeoTIFF's tags, not a shift
GRID_TOLERANCE = 1e-3


@dataclass(frozen=True)
class GuideHeader:
    """What a guide file says of itself, read without its pixels."""

    path: Path
    shape: tuple[int, int]
    bands: int
    geo: GeoInfo | None


def read_guide_header(path: str | os.PathLike[str]) -> GuideHeader:
    """A guide file's plane shape, band count and georeference.

    Parameters
    ----------
    path : str or os.PathLike
        An image file (GeoTIFF, TIFF, PNG...) or OME-Zarr folder.

    Returns
    -------
    GuideHeader
    """
    from .images import read_header

    header = read_header(path)
    shape = header.shape
    rgb = bool(header.meta.rgb)
    plane = tuple(shape[-3:-1]) if rgb else tuple(shape[-2:])
    bands = int(np.prod(shape)) // int(np.prod(plane))
    return GuideHeader(Path(path), (int(plane[0]), int(plane[1])), bands, header.meta.geo)


def read_guide(path: str | os.PathLike[str], nodata: str = "auto") -> np.ndarray:
    """A guide file's bands as ``(bands, rows, cols)`` float32, pixels without data as NaN.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    nodata : str
        ``"auto"`` (the file's nodata value; for a GeoTIFF scene with zero fill at its edges, 0),
        ``"none"`` or a number, as for targets.

    Returns
    -------
    numpy.ndarray
    """
    from .images import read_image_file
    from .nodata import choose_nodata

    image, meta = read_image_file(path)
    image = np.asarray(image)
    rgb = bool(meta.rgb) or (image.ndim == 3 and meta.rgb is None and image.shape[-1] in (3, 4))
    value = choose_nodata(nodata, image, meta.nodata, meta.geo is not None, rgb)
    bands = np.moveaxis(image, -1, 0) if rgb else image.reshape((-1,) + image.shape[-2:])
    if rgb and bands.shape[0] == 4:
        bands = bands[:3]  # opacity is not a band of the scene
    out = bands.astype(np.float32)
    if value is not None:
        out[np.isnan(bands) if math.isnan(value) else bands == value] = np.nan
    return out


def _same(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-300)


def grid_mismatch(guide: GuideHeader, geo: GeoInfo, shape: tuple[int, int]) -> str | None:
    """What keeps a georeferenced guide off a grid (``geo`` and ``shape``), in words; ``None`` when it
    is on it."""
    from rasterio.crs import CRS

    if guide.geo is None or CRS.from_user_input(guide.geo.crs) != CRS.from_user_input(geo.crs):
        return "its CRS differs from the target's"
    ga, gb, gc, gd, ge, gf = guide.geo.transform
    a, b, c, d, e, f = geo.transform
    square = abs(gb) + abs(gd) == abs(b) + abs(d) == 0
    if not (square and _same(ga, a, GRID_TOLERANCE) and _same(ge, e, GRID_TOLERANCE)):
        return f"its pixel is {abs(ga):g} x {abs(ge):g} {geo.units or 'units'}, the result's {abs(a):g} x {abs(e):g}"
    off_cols, off_rows = (gc - c) / a, (gf - f) / e
    if abs(off_cols) > GRID_TOLERANCE or abs(off_rows) > GRID_TOLERANCE:
        rows, cols = off_rows + 0.0, off_cols + 0.0  # + 0.0: no "-0"
        return f"its origin is off the result's by {rows:+.3g} rows and {cols:+.3g} columns of result pixels"
    if tuple(guide.shape) != tuple(shape):
        return f"it is {guide.shape[0]} x {guide.shape[1]} pixels, the result {shape[0]} x {shape[1]}"
    return None


def _bounds(geo: GeoInfo, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    from rasterio.transform import Affine, array_bounds

    return tuple(array_bounds(shape[0], shape[1], Affine(*geo.transform)))


def overlaps(guide: GuideHeader, geo: GeoInfo, shape: tuple[int, int]) -> bool:
    """Whether a georeferenced guide covers any of the grid (in the grid's CRS)."""
    from rasterio.warp import transform_bounds

    assert guide.geo is not None
    west, south, east, north = transform_bounds(guide.geo.crs, geo.crs, *_bounds(guide.geo, guide.shape))
    w, s, e, n = _bounds(geo, shape)
    return west < e and east > w and south < n and north > s


def check_guide(guide: GuideHeader, geo: GeoInfo | None, shape: tuple[int, int], target: str, reproject: bool) -> bool:
    """Refuse a guide that cannot be brought onto the result's grid; say whether it must be resampled.

    Parameters
    ----------
    guide : GuideHeader
        The guide file.
    geo : GeoInfo or None
        The result's georeference (``None``: the target has none).
    shape : tuple of int
        The result's plane.
    target : str
        The target's name, for messages.
    reproject : bool
        Resample a georeferenced guide that is off the grid instead of refusing it.

    Returns
    -------
    bool
        True when the guide is to be resampled onto the grid.

    Raises
    ------
    ImageError
        Naming the mismatch.
    """
    name = guide.path.name
    if geo is None and guide.geo is not None:
        raise ImageError(f"guide {name} is georeferenced but {target} is not: nothing says that they overlay")
    if geo is not None and guide.geo is None:
        raise ImageError(f"guide {name} has no georeference but {target} has: nothing says that they overlay")
    if geo is None:
        if tuple(guide.shape) != tuple(shape):
            raise ImageError(
                f"guide {name} is {guide.shape[0]} x {guide.shape[1]} pixels but the result of {target} is "
                f"{shape[0]} x {shape[1]}: without georeference a guide must have the result's shape"
            )
        return False
    if not overlaps(guide, geo, shape):
        raise ImageError(f"guide {name} does not overlap {target}: their bounds have nothing in common")
    mismatch = grid_mismatch(guide, geo, shape)
    if mismatch is None:
        return False
    if not reproject:
        raise ImageError(
            f"guide {name} is not on the grid of {target}'s result: {mismatch}; pass --reproject-guides "
            "(reproject=True) to resample it onto that grid"
        )
    return True


def guides_on_grid(
    paths: Sequence[str | os.PathLike[str]],
    geo: GeoInfo | None,
    shape: tuple[int, int],
    target: str,
    reproject: bool = False,
    nodata: str = "auto",
) -> list[np.ndarray]:
    """The guide files' bands on the result's grid, ``(bands, rows, cols)`` float32 each, NaN without data.

    Parameters
    ----------
    paths : sequence of path
        The guide files.
    geo : GeoInfo or None
        The result's georeference.
    shape : tuple of int
        The result's plane.
    target : str
        The target's name, for messages.
    reproject : bool
        Resample guides that are off the grid (:func:`check_guide`).
    nodata : str
        As for :func:`read_guide`.

    Returns
    -------
    list of numpy.ndarray
    """
    out = []
    for path in paths:
        header = read_guide_header(path)
        resample = check_guide(header, geo, shape, target, reproject)
        bands = read_guide(path, nodata)
        if resample:
            assert geo is not None and header.geo is not None
            bands = _reprojected(bands, header.geo, geo, shape)
        out.append(bands)
    return out


def _reprojected(bands: np.ndarray, source: GeoInfo, grid: GeoInfo, shape: tuple[int, int]) -> np.ndarray:
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, reproject

    out = np.full((bands.shape[0],) + tuple(shape), np.nan, np.float32)
    for band, dst in zip(bands, out):
        reproject(
            band,
            dst,
            src_transform=Affine(*source.transform),
            src_crs=source.crs,
            src_nodata=np.nan,
            dst_transform=Affine(*grid.transform),
            dst_crs=grid.crs,
            dst_nodata=np.nan,
            resampling=Resampling.cubic,
        )
    return out


def scale_from_guide(guide: GuideHeader, geo: GeoInfo | None, plane: tuple[int, int]) -> float:
    """The scale a guide's grid sets for a target: the target's pixel size over the guide's (or, without
    georeference, the guide's shape over the target's); the same along both axes."""
    if geo is not None and guide.geo is not None:
        ratios = [t / g for t, g in zip(geo.pixel_size, guide.geo.pixel_size)]
    else:
        ratios = [g / t for g, t in zip(guide.shape, plane)]
    if not math.isclose(ratios[0], ratios[1], rel_tol=1e-6):
        raise ImageError(
            f"guide {guide.path.name}'s grid is {ratios[0]:g} x {ratios[1]:g} times finer along rows and columns: "
            "give the scale (-s)"
        )
    rounded = round(ratios[0])
    return float(rounded) if math.isclose(ratios[0], rounded, rel_tol=1e-6) else float(ratios[0])
