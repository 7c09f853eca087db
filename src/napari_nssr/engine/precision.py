"""The numbers a plane is computed with: its working precision, checked values, and the result's range.

Work is on the image's own intensity range, in float32 where that holds the numbers exactly
enough, else in float64 (:func:`working_dtype`): 32- and 64-bit integers (float32 has 24 bits of
mantissa) and float64 planes with values beyond float32's safe range. Float32 (or float16) data
within 1/16 of its type's largest value is refused: sharpening overshoots, and the overshoot would
not fit the result's type. Integer results are rounded and clipped to their type's range
(:func:`to_result`), the same in memory, in tiles and in lazy chunks.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ImageError
from . import nodata as nodata_fill

# float32 handles magnitudes from about 1e-38 to 3.4e38; keep clear of both ends (sharpening
# overshoots by a few times, and products of tiny numbers lose digits near the bottom)
FLOAT32_LARGEST_SAFE = 1e37
FLOAT32_SMALLEST_SAFE = 1e-30
HEADROOM = 16  # sharpening overshoots by a few times at most; leave this much room in the result's type


def working_dtype(dtype: np.dtype, plane: np.ndarray) -> np.dtype:
    """The precision a plane of ``dtype`` is computed in.

    Parameters
    ----------
    dtype : numpy.dtype
        The input's dtype.
    plane : numpy.ndarray
        The plane's values (finite).

    Returns
    -------
    numpy.dtype
        float64 for 32- and 64-bit integers and for float64 planes whose magnitudes leave
        float32's safe range; float32 otherwise.

    Raises
    ------
    ImageError
        For floating-point data so close to its type's largest value that the result would
        overflow.

    Examples
    --------
    >>> import numpy as np
    >>> working_dtype(np.dtype(np.uint16), np.zeros((2, 2))), working_dtype(np.dtype(np.int32), np.zeros((2, 2)))
    (dtype('float32'), dtype('float64'))
    """
    if dtype.kind in "ui":
        return np.dtype(np.float64 if dtype.itemsize >= 4 else np.float32)
    largest = float(np.abs(plane).max()) if plane.size else 0.0
    if largest > float(np.finfo(dtype).max) / HEADROOM:
        advice = "convert it to float64 first" if dtype.itemsize < 8 else "scale it down first"
        raise ImageError(
            f"the image reaches {largest:.3g}, too close to the largest {dtype} ({np.finfo(dtype).max:.3g}) "
            f"for the overshoot of sharpening; {advice}"
        )
    if dtype.itemsize <= 4:
        return np.dtype(np.float32)
    nonzero = np.abs(plane[plane != 0])
    smallest = float(nonzero.min()) if nonzero.size else 1.0
    outside = largest > FLOAT32_LARGEST_SAFE or smallest < FLOAT32_SMALLEST_SAFE
    return np.dtype(np.float64 if outside else np.float32)


def working_values(
    source: np.ndarray, dtype: np.dtype, nodata: float | None, radius: int | None
) -> tuple[np.ndarray, np.ndarray | None, np.dtype]:
    """A plane (or block) ready to compute: checked, in its working precision, nodata filled.

    Parameters
    ----------
    source : numpy.ndarray
        2D input values.
    dtype : numpy.dtype
        The input's (and result's) dtype.
    nodata : float or None
        Pixels with this value are kept out (``engine/nodata.py``).
    radius : int or None
        The nodata fill's reach (:func:`~napari_nssr.engine.nodata.fill_radius`; ``None`` for
        whole-plane methods).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray or None, numpy.dtype)
        The values (C-contiguous, writable: flipped and read-only inputs work), the validity mask
        (``None`` when every pixel has data), and the working dtype.

    Raises
    ------
    ImageError
        For NaN or infinite values among the pixels with data.
    """
    valid = None if nodata is None else nodata_fill.valid_mask(source, nodata)
    if valid is not None and valid.all():
        valid = None
    known = source if valid is None else source[valid]
    if dtype.kind == "f" and not np.isfinite(known).all():
        raise ImageError("the image contains NaN or infinite values; replace them before super-resolving")
    work = working_dtype(dtype, known)
    values = np.require(source.astype(work, copy=False), requirements=["C", "W"])
    if valid is not None:
        values = nodata_fill.fill(values, valid, radius)
    return values, valid, work


def integer_bounds(dtype: np.dtype, work: np.dtype) -> tuple[float, float]:
    """The dtype's range as numbers of the working precision that convert back exactly (uint32's
    4294967295 rounds up to 4294967296 in float32, which wraps to 0)."""
    info = np.iinfo(dtype)
    low, high = work.type(info.min), work.type(info.max)
    if int(high) > info.max:
        high = np.nextafter(high, work.type(0))
    if int(low) < info.min:
        low = np.nextafter(low, work.type(0))
    return float(low), float(high)


def to_result(values: np.ndarray, dtype: np.dtype, work: np.dtype, out: np.ndarray | None = None) -> np.ndarray:
    """Computed ``values`` as the result's ``dtype``: integers rounded and clipped to its range (in
    place when ``values`` is writable, a fresh tile), floats converted; written into ``out`` (of
    ``dtype`` and ``values``' shape) when given, which spares a second result-sized array."""
    if out is not None and _saturating_cast(values, dtype, out):
        return out
    if dtype.kind in "ui":
        if not values.flags.writeable:
            values = values.copy()
        np.rint(values, out=values)
        np.clip(values, *integer_bounds(dtype, work), out=values)
    if out is None:
        return values.astype(dtype, copy=False)
    np.copyto(out, values, casting="unsafe")
    return out


#: integer results OpenCV rounds (to nearest, ties to even, as ``numpy.rint``) and clips to their
#: range in one pass, where numpy takes three: its depth for each
_OPENCV_DEPTHS = {
    np.dtype(np.uint8): "CV_8U",
    np.dtype(np.int8): "CV_8S",
    np.dtype(np.uint16): "CV_16U",
    np.dtype(np.int16): "CV_16S",
}


def _saturating_cast(values: np.ndarray, dtype: np.dtype, out: np.ndarray) -> bool:
    """``values`` rounded, clipped and cast into ``out`` by OpenCV where it can (2D float32 into a
    C-contiguous 8- or 16-bit plane; float32 holds all of their values exactly); ``False`` where it
    cannot."""
    depth = _OPENCV_DEPTHS.get(np.dtype(dtype))
    if depth is None or values.dtype != np.float32 or values.ndim != 2 or out.dtype != dtype:
        return False
    if not out.flags.c_contiguous or out.shape != values.shape:
        return False
    import cv2

    cv2.add(np.ascontiguousarray(values), 0.0, dst=out, dtype=getattr(cv2, depth))
    return True
