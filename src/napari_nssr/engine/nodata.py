"""Pixels without data (a GeoTIFF's nodata, the zero fill at a scene's edges) kept out of the result.

Before upsampling, each nodata pixel within reach of valid ones takes the mean of the valid pixels
around it (a box of :func:`fill_radius` pixels: farther than the bicubic taps and the method's
halo reach), so the fill value itself never enters a valid pixel's result. After, an output pixel
whose nearest input pixel had no data gets the nodata value back; a valid output pixel that
happens to round to the nodata value is moved one step off it (it would read as missing).

Everything is local: a block of the input with :func:`fill_radius` more pixels on each side gives
the same values as the whole plane, so the lazy engine's chunks still equal the in-memory result.
A method that needs whole planes (``halo=None``) gets every nodata pixel filled, from its nearest
valid pixel.
"""

from __future__ import annotations

import math

import numpy as np


def fill_radius(halo: int | None, scale: tuple[float, float]) -> int:
    """Input pixels around a nodata pixel averaged to fill it: the bicubic taps (2 pixels) and the
    method's halo (output pixels, ``halo / scale`` input pixels), plus one."""
    return math.ceil((halo or 0) / min(scale)) + 3


def valid_mask(plane: np.ndarray, nodata: float) -> np.ndarray:
    """Where ``plane`` has data (``nodata`` may be NaN)."""
    return ~np.isnan(plane) if math.isnan(nodata) else plane != nodata


def fill(plane: np.ndarray, valid: np.ndarray, radius: int | None) -> np.ndarray:
    """``plane`` (float) with its invalid pixels filled from valid neighbours.

    Parameters
    ----------
    plane : numpy.ndarray
        2D float32 or float64 values.
    valid : numpy.ndarray
        Boolean mask of the pixels with data.
    radius : int or None
        Box half-width for the local mean; ``None`` fills every pixel from its nearest valid one.

    Returns
    -------
    numpy.ndarray
        A new array; pixels with no valid pixel within ``radius`` get 0 (nothing valid reads them).
    """
    if valid.all():
        return plane
    if radius is None:
        from scipy import ndimage

        if not valid.any():
            return np.zeros_like(plane)
        index = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
        return plane[tuple(index)]
    import cv2

    weight = valid.astype(plane.dtype)
    values = np.where(valid, plane, 0).astype(plane.dtype)
    size = (2 * radius + 1, 2 * radius + 1)
    total = cv2.boxFilter(values, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    count = cv2.boxFilter(weight, -1, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0.5)
    return np.where(valid, plane, mean)


def output_valid(
    valid: np.ndarray,
    origin: tuple[int, int],
    in_shape: tuple[int, int],
    out_shape: tuple[int, int],
    rows: slice,
    cols: slice,
) -> np.ndarray:
    """Validity of output ``rows`` x ``cols``: that of each output pixel's nearest input pixel.

    Parameters
    ----------
    valid : numpy.ndarray
        Validity of an input block starting at ``origin`` that holds those nearest pixels.
    origin : tuple of int
        Input ``(row, col)`` of ``valid[0, 0]``.
    in_shape, out_shape : tuple of int
        The whole plane's input and output ``(rows, cols)``.
    rows, cols : slice
        The output region.

    Returns
    -------
    numpy.ndarray
        Boolean, the region's shape.
    """
    index = []
    for n_in, n_out, sl, o in zip(in_shape, out_shape, (rows, cols), origin):
        centre = (np.arange(sl.start, sl.stop) + 0.5) * (n_in / n_out)
        index.append(np.clip(np.floor(centre).astype(np.int64), 0, n_in - 1) - o)
    return valid[np.ix_(index[0], index[1])]


def restore(region: np.ndarray, valid: np.ndarray, nodata: float) -> np.ndarray:
    """``region`` (the result's dtype) with nodata where ``valid`` is False, and valid pixels that
    equal ``nodata`` moved one step off it (in place; returned)."""
    dtype = region.dtype
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if not math.isnan(nodata) and info.min <= nodata <= info.max:
            step = 1 if nodata < info.max else -1
            region[valid & (region == nodata)] = dtype.type(int(nodata) + step)
    region[~valid] = nodata
    return region


def filled_view(image: object, rgb: bool, nodata: float, radius: int) -> object:
    """A lazy float64 view of ``image`` with nodata filled (for a method to look at: the blind
    estimate must not read the fill's edge as image structure).

    Parameters
    ----------
    image : array-like
        numpy or dask.
    rgb : bool
        The last axis is colour.
    nodata : float
        The nodata value.
    radius : int
        As for :func:`fill`.

    Returns
    -------
    dask.array.Array
    """
    import dask.array as da

    array = image if isinstance(image, da.Array) else da.from_array(image)
    spatial = (array.ndim - 3, array.ndim - 2) if rgb else (array.ndim - 2, array.ndim - 1)
    chunks = tuple(1 if a < spatial[0] else (1024 if a in spatial else -1) for a in range(array.ndim))
    array = array.rechunk(chunks)

    def fill_block(block: np.ndarray) -> np.ndarray:
        out = block.astype(np.float64)
        for index in np.ndindex(*out.shape[: spatial[0]]):
            for channel in range(out.shape[-1]) if rgb else [None]:
                key = index + (slice(None), slice(None)) + (() if channel is None else (channel,))
                out[key] = fill(out[key], valid_mask(out[key], nodata), radius)
        return out

    depth = {spatial[0]: radius, spatial[1]: radius}
    return da.map_overlap(fill_block, array, depth=depth, boundary="none", dtype=np.float64)
