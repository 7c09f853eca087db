"""The CPU engine: OpenCV's bicubic and filtering, on any region of a plane, exactly as the whole.

``cv2.resize`` (cubic convolution, a = -0.75, edge pixels repeated) computes the same values as
the engine's pixel-centre plan (``core/resample.py``) to 4e-7, and ``cv2.filter2D`` with mirrored
borders applies a filter as the tiles do; together they run at about 200 output Mpx/s on 2 cores,
where the torch path ran at 19 (docs/benchmarks.md).

A region of the output is computed from a block of the input. The block's resize equals the
global one when the block starts at an input row that maps to a whole output row (``a * n_out /
n_in`` an integer: every row at integer scales, every second at x2.5); :func:`input_span` picks
such a block, wide enough for the bicubic taps and the filter's halo, and the region is cut out
of its result. Where such rows are far apart (a scale like x2.37 on a size sharing no factor
with the output), the block would be most of the plane; there the region's rows are interpolated
directly from the 4-tap table of ``core/resample.py`` instead (numpy; about 3x slower).

The filter's border is mirrored only where the region meets the image's edge, as everywhere else
it sees real neighbours. So a plane computed in strips, or a dask array computed chunk by chunk,
equals the plane computed whole.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.resample import AxisPlan
from ..methods.base import TileProcessor

# output rows per strip: about 10 Mpx of a 8192-px-wide plane, a tenth of a second each, so that
# progress moves and Cancel is quick
STRIP_ROWS = 1024
# beyond this input period between aligned rows, interpolate with the tap table instead of resizing
MAX_PERIOD = 64


def _period(n_in: int, n_out: int) -> int:
    """The input step between rows that map to whole output rows."""
    return n_in // math.gcd(n_in, n_out)


def _resizable(in_shape: tuple[int, int], out_shape: tuple[int, int]) -> bool:
    """Whether regions are computed by ``cv2.resize`` of aligned blocks (else by the tap table)."""
    return max(_period(in_shape[0], out_shape[0]), _period(in_shape[1], out_shape[1])) <= MAX_PERIOD


def _axis_span(n_in: int, n_out: int, start: int, stop: int, halo: int, aligned: bool) -> tuple[int, int, int, int]:
    """For output indices ``[start, stop)`` plus ``halo`` (clipped to the image): the input span
    ``[a, e)`` to read, and the output span ``[b, f)`` it is upsampled to: aligned (``b = a *
    n_out / n_in``) for ``cv2.resize``, or else just the taps' span and the wanted output rows."""
    ratio = n_in / n_out
    lo_out, hi_out = max(0, start - halo), min(n_out, stop + halo)
    first = max(0, math.floor((lo_out + 0.5) * ratio - 0.5) - 1)  # the cubic taps reach 1 back and 2 ahead
    last = min(n_in - 1, math.floor((hi_out - 1 + 0.5) * ratio - 0.5) + 2)
    if not aligned:
        return first, last + 1, lo_out, hi_out
    p = _period(n_in, n_out)
    a = (first // p) * p
    e = min(n_in, -(-(last + 1) // p) * p)
    return a, e, a * n_out // n_in, n_out if e == n_in else e * n_out // n_in


def _interpolate(source: np.ndarray, offset: int, n_in: int, n_out: int, b: int, f: int, axis: int) -> np.ndarray:
    """Output indices ``[b, f)`` along ``axis`` from ``source`` (input indices from ``offset``), with
    the engine's 4-tap table."""
    plan = AxisPlan.bicubic(n_in, n_out)
    index = plan.index[b:f] - offset
    weight = plan.weight[b:f].astype(source.dtype)
    shape = [1, 1]
    shape[axis] = f - b
    out = np.take(source, index[:, 0], axis=axis) * weight[:, 0].reshape(shape)
    for t in range(1, 4):
        out += np.take(source, index[:, t], axis=axis) * weight[:, t].reshape(shape)
    return out


def input_span(
    in_shape: tuple[int, int], out_shape: tuple[int, int], rows: slice, cols: slice, halo: int
) -> tuple[slice, slice]:
    """The input rows and columns whose block :func:`region` needs for output ``rows`` x ``cols``.

    Parameters
    ----------
    in_shape, out_shape : tuple of int
        The plane's input and output ``(rows, cols)``.
    rows, cols : slice
        The output region (steps of 1).
    halo : int
        The processor's halo in output pixels.

    Returns
    -------
    tuple of slice
    """
    aligned = _resizable(in_shape, out_shape)
    a0, e0, _, _ = _axis_span(in_shape[0], out_shape[0], rows.start, rows.stop, halo, aligned)
    a1, e1, _, _ = _axis_span(in_shape[1], out_shape[1], cols.start, cols.stop, halo, aligned)
    return slice(a0, e0), slice(a1, e1)


def region(
    block: np.ndarray,
    origin: tuple[int, int],
    in_shape: tuple[int, int],
    out_shape: tuple[int, int],
    rows: slice,
    cols: slice,
    processor: TileProcessor,
) -> np.ndarray:
    """Output ``rows`` x ``cols`` of a plane, from the input ``block`` that starts at ``origin``.

    Parameters
    ----------
    block : numpy.ndarray
        2D input block (float32 or float64: the working precision), at least the span
        :func:`input_span` gives.
    origin : tuple of int
        Input ``(row, col)`` of ``block[0, 0]``.
    in_shape, out_shape : tuple of int
        The whole plane's input and output ``(rows, cols)``.
    rows, cols : slice
        The output region.
    processor : TileProcessor
        With a finite halo, or ``None`` (whole planes: then the region must be the whole plane).

    Returns
    -------
    numpy.ndarray
        The region, in the block's dtype.
    """
    import cv2

    halo = 0 if processor.halo is None else processor.halo
    aligned = _resizable(in_shape, out_shape)
    a0, e0, b0, f0 = _axis_span(in_shape[0], out_shape[0], rows.start, rows.stop, halo, aligned)
    a1, e1, b1, f1 = _axis_span(in_shape[1], out_shape[1], cols.start, cols.stop, halo, aligned)
    source = block[a0 - origin[0] : e0 - origin[0], a1 - origin[1] : e1 - origin[1]]
    if aligned:
        up = cv2.resize(np.ascontiguousarray(source), (f1 - b1, f0 - b0), interpolation=cv2.INTER_CUBIC)
    else:
        up = _interpolate(source, a0, in_shape[0], out_shape[0], b0, f0, 0)
        up = np.ascontiguousarray(_interpolate(up, a1, in_shape[1], out_shape[1], b1, f1, 1))
    # the filter's halo, clipped where the image ends (there the processor mirrors, as on the whole)
    r0, r1 = max(0, rows.start - halo), min(out_shape[0], rows.stop + halo)
    c0, c1 = max(0, cols.start - halo), min(out_shape[1], cols.stop + halo)
    processed = processor.process_same(up[r0 - b0 : r1 - b0, c0 - b1 : c1 - b1])
    return processed[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0]


def strips(out_rows: int, halo: int | None, rows_per_strip: int = STRIP_ROWS) -> list[slice]:
    """The output row ranges a plane is computed in: strips, or the whole plane for a processor that
    needs whole planes (``halo=None``)."""
    if halo is None:
        return [slice(0, out_rows)]
    return [slice(r, min(r + rows_per_strip, out_rows)) for r in range(0, out_rows, rows_per_strip)]
