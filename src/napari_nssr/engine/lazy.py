"""The lazy engine: super-resolving a dask array gives a dask array, computed chunk by chunk.

The output is cut into chunks of ``tile_size`` x ``tile_size`` pixels per plane (leading axes one
at a time, colour channels together). Each chunk is one task that reads only the input rows and
columns it needs (its region, the method's halo and the bicubic taps: ``engine/cpu.py``'s
:func:`~napari_nssr.engine.cpu.input_span`, the ``map_overlap`` depth of this engine) and computes
the region as the in-memory engine computes it, so the result equals the in-memory one to float
rounding, whatever the chunks. A method that needs whole planes (``halo=None``) gets one chunk per
plane. Nothing is read or computed until the result is asked for; any dask scheduler runs it
(threads, processes, a ``dask.distributed`` cluster).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.devices import resolve_device
from ..core.resample import AxisPlan
from ..methods.base import Prepared, TileProcessor
from ..methods.resolve import MethodSpec
from . import cpu
from . import nodata as nodata_fill
from .tiles import (
    _check_tile_size,
    _integer_bounds,
    _round_into_range,
    method_view,
    plan,
    prepare,
    upsampled_block,
    working_values,
)


def _axis_chunks(n: int, size: int) -> tuple[int, ...]:
    return tuple(min(size, n - start) for start in range(0, n, size))


def _starts(chunks: tuple[int, ...]) -> list[int]:
    return [0, *np.cumsum(chunks)[:-1].tolist()]


def compute_region(
    block: np.ndarray,
    origin: tuple[int, int],
    in_shape: tuple[int, int],
    out_shape: tuple[int, int],
    rows: slice,
    cols: slice,
    processor: TileProcessor,
    out_dtype: np.dtype,
    device: str = "cpu",
    nodata: float | None = None,
) -> np.ndarray:
    """One output region of one plane from an input block: the task of every lazy chunk.

    Parameters
    ----------
    block : numpy.ndarray
        2D input values (the input's dtype), at least :func:`~napari_nssr.engine.cpu.input_span`.
    origin : tuple of int
        Input ``(row, col)`` of ``block[0, 0]``.
    in_shape, out_shape : tuple of int
        The whole plane's input and output ``(rows, cols)``.
    rows, cols : slice
        The output region.
    processor : TileProcessor
        Blended for the strength.
    out_dtype : numpy.dtype
        The result's dtype (integers rounded and clipped to its range).
    device : str
        A resolved device: ``"cpu"`` (OpenCV) or a CUDA device (torch).
    nodata : float, optional
        Kept out of the result (``engine/nodata.py``); ``block`` then holds
        :func:`~napari_nssr.engine.nodata.fill_radius` more pixels on each side.

    Returns
    -------
    numpy.ndarray
        The region, ``out_dtype``.
    """
    scale = (out_shape[0] / in_shape[0], out_shape[1] / in_shape[1])
    radius = None if processor.halo is None else nodata_fill.fill_radius(processor.halo, scale)
    values, valid, work = working_values(np.asarray(block), out_dtype, nodata, radius)
    dev = torch.device(device)
    if processor.from_source:  # a whole plane (halo None): the processor upsamples itself
        tile = processor.process_source(values, out_shape)
    elif dev.type == "cpu":
        tile = cpu.region(values, origin, in_shape, out_shape, rows, cols, processor)
    else:
        plans = (AxisPlan.bicubic(in_shape[0], out_shape[0]), AxisPlan.bicubic(in_shape[1], out_shape[1]))
        tensor = torch.from_numpy(values).to(dev)
        up = upsampled_block(tensor, plans, (rows, cols), processor.halo or 0, origin)
        tile = processor.to(dev, tensor.dtype)(up).cpu().numpy()
    if out_dtype.kind in "ui":
        result = _round_into_range(tile, _integer_bounds(out_dtype, work)).astype(out_dtype)
    else:
        result = tile.astype(out_dtype, copy=False)
    if valid is not None and nodata is not None:
        region_valid = nodata_fill.output_valid(valid, origin, in_shape, out_shape, rows, cols)
        result = nodata_fill.restore(np.array(result), region_valid, nodata)
    return result


def _chunk_task(
    block: np.ndarray,
    origin: tuple[int, int],
    in_shape: tuple[int, int],
    out_shape: tuple[int, int],
    rows: slice,
    cols: slice,
    processor: TileProcessor,
    out_dtype: np.dtype,
    device: str,
    lead: int,
    rgb: bool,
    nodata: float | None,
) -> np.ndarray:
    """A chunk of the output array: ``block`` has the chunk's leading axes (length 1) and channels."""
    plane_block: np.ndarray = np.asarray(block).reshape(block.shape[lead:])
    if not rgb:
        region = compute_region(
            plane_block, origin, in_shape, out_shape, rows, cols, processor, out_dtype, device, nodata
        )
        return region.reshape((1,) * lead + region.shape)
    channels = [
        compute_region(
            plane_block[..., c], origin, in_shape, out_shape, rows, cols, processor, out_dtype, device, nodata
        )
        for c in range(plane_block.shape[-1])
    ]
    stacked = np.stack(channels, axis=-1)
    return stacked.reshape((1,) * lead + stacked.shape)


def super_resolve_lazy(
    image: Any,
    scale: Any,
    method: MethodSpec | Prepared = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
    nodata: float | None = None,
) -> Any:
    """Lazy super-resolution of a dask array (see the module docstring).

    The method is prepared once, from the whole array (the blind method reads one representative
    plane, now); each chunk then applies that one processor.

    Parameters
    ----------
    image : dask.array.Array
        The input, chunked in any way.
    scale, method, strength, rgb, device, nodata
        As for :func:`~napari_nssr.engine.api.super_resolve`.
    tile_size : int
        The output chunks' side in pixels.

    Returns
    -------
    dask.array.Array
        Same dtype as the input, chunked ``(1, ..., tile_size, tile_size[, channels])``.
    """
    import dask.array as da
    from dask import delayed

    checked = plan(image, scale, strength, rgb)
    tile_size = _check_tile_size(tile_size)
    dev = str(resolve_device(device))
    prepared = prepare(method_view(image, checked, method, nodata), checked, method)
    processor = prepared.processor.blended(checked.strength)
    margin = 0 if nodata is None or processor.halo is None else nodata_fill.fill_radius(processor.halo, checked.scale)
    layout = checked.layout
    dtype = np.dtype(image.dtype)
    in_shape = layout.plane_shape(tuple(image.shape))
    out_shape = layout.plane_shape(checked.shape)
    lead = layout.spatial[0]
    row_chunks: tuple[int, ...] = (out_shape[0],)
    col_chunks: tuple[int, ...] = (out_shape[1],)
    if processor.halo is not None:
        row_chunks, col_chunks = _axis_chunks(out_shape[0], tile_size), _axis_chunks(out_shape[1], tile_size)
    channel_tail = (image.shape[-1],) if layout.rgb else ()
    task = delayed(_chunk_task, pure=True)

    def plane_grid(index: tuple[int, ...]) -> list[list[Any]]:
        grid = []
        for r0, n_rows in zip(_starts(row_chunks), row_chunks):
            row = []
            for c0, n_cols in zip(_starts(col_chunks), col_chunks):
                rows, cols = slice(r0, r0 + n_rows), slice(c0, c0 + n_cols)
                span_rows, span_cols = cpu.input_span(in_shape, out_shape, rows, cols, processor.halo or 0)
                if margin:  # the nodata fill reads this much farther
                    span_rows = slice(max(0, span_rows.start - margin), min(in_shape[0], span_rows.stop + margin))
                    span_cols = slice(max(0, span_cols.start - margin), min(in_shape[1], span_cols.stop + margin))
                source = image[tuple(slice(i, i + 1) for i in index) + (span_rows, span_cols)]
                origin = (span_rows.start, span_cols.start)
                value = task(
                    source, origin, in_shape, out_shape, rows, cols, processor, dtype, dev, lead, layout.rgb, nodata
                )
                shape = (1,) * lead + (n_rows, n_cols) + channel_tail
                row.append(da.from_delayed(value, shape=shape, dtype=dtype))
            grid.append(row)
        return grid

    def nested(depth: int, index: tuple[int, ...]) -> Any:
        if depth == lead:
            grid = plane_grid(index)
            return [[[cell] for cell in row] for row in grid] if layout.rgb else grid
        return [nested(depth + 1, index + (i,)) for i in range(image.shape[depth])]

    return da.block(nested(0, ()))
