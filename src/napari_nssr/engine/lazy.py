"""The lazy engine: a dask array in, a dask array out, computed chunk by chunk.

The output is cut into chunks of ``tile_size`` x ``tile_size`` pixels per plane (leading axes one
at a time, colour channels together). Each chunk is one task that reads only the input rows and
columns it needs (its region, the method's halo and the bicubic taps: ``engine/cpu.py``'s
:func:`~napari_nssr.engine.cpu.input_span`, the ``map_overlap`` depth of this engine) and computes
the region as the in-memory engine does (:func:`~.tiles.compute_region`), so the result equals
the in-memory one to float rounding, whatever the chunks. A method that needs whole planes
(``halo=None``) gets one chunk per plane. Nothing is read or computed until the result is asked
for; any dask scheduler runs it (threads, processes, a ``dask.distributed`` cluster).
:func:`window_region` computes one window of the output the same way, for a view of the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.request import Plan
from ..methods.base import TileProcessor
from . import cpu
from . import nodata as nodata_fill
from .precision import working_values
from .tiles import channel_processor, compute_region, finish_region


def _axis_chunks(n: int, size: int) -> tuple[int, ...]:
    return tuple(min(size, n - start) for start in range(0, n, size))


def _starts(chunks: tuple[int, ...]) -> list[int]:
    return [0, *np.cumsum(chunks)[:-1].tolist()]


def read_span(plan: Plan, processor: TileProcessor, region: tuple[slice, slice]) -> tuple[slice, slice]:
    """The input rows and columns output ``region`` of a plane is computed from: its
    :func:`~.cpu.input_span`, wider by the nodata fill's reach when the request has nodata, and the
    whole plane for a processor without a halo."""
    in_shape, out_shape = plan.plane_shapes
    if processor.halo is None:
        return slice(0, in_shape[0]), slice(0, in_shape[1])
    rows, cols = cpu.input_span(in_shape, out_shape, *region, processor.halo)
    if plan.request.nodata is None:
        return rows, cols
    margin = nodata_fill.fill_radius(processor.halo, plan.scale)
    return (
        slice(max(0, rows.start - margin), min(in_shape[0], rows.stop + margin)),
        slice(max(0, cols.start - margin), min(in_shape[1], cols.stop + margin)),
    )


def window_region(
    block: np.ndarray, origin: tuple[int, int], plan: Plan, processor: TileProcessor, region: tuple[slice, slice]
) -> np.ndarray:
    """One output region of one plane from an input block: the task of every lazy chunk and of a window.

    Parameters
    ----------
    block : numpy.ndarray
        2D input values (the input's dtype), at least :func:`read_span` of the region.
    origin : tuple of int
        Input ``(row, col)`` of ``block[0, 0]``.
    plan : Plan
        The request on the whole image.
    processor : TileProcessor
        Blended for the strength.
    region : tuple of slice
        The output rows and columns.

    Returns
    -------
    numpy.ndarray
        The region, the result's dtype (integers rounded and clipped, nodata put back).
    """
    radius = None if processor.halo is None else nodata_fill.fill_radius(processor.halo, plan.scale)
    values, valid, work = working_values(np.asarray(block), plan.dtype, plan.request.nodata, radius)
    device = torch.device(plan.request.device)
    tile = compute_region(values, origin, plan.plane_shapes, region, processor, device, valid)
    return finish_region(tile, plan, work, valid, origin, region)


def _chunk_task(
    block: np.ndarray, origin: tuple[int, int], plan: Plan, processor: TileProcessor, region: tuple[slice, slice]
) -> np.ndarray:
    """A chunk of the output array: ``block`` has the chunk's leading axes (length 1) and channels."""
    lead = plan.layout.spatial[0]
    plane_block: np.ndarray = np.asarray(block).reshape(block.shape[lead:])
    if not plan.layout.rgb:
        out = window_region(plane_block, origin, plan, processor, region)
        return out.reshape((1,) * lead + out.shape)
    channels = [
        window_region(plane_block[..., c], origin, plan, channel_processor(plan, processor, c), region)
        for c in range(block.shape[-1])
    ]
    stacked = np.stack(channels, axis=-1)
    return stacked.reshape((1,) * lead + stacked.shape)


def lazy_result(image: Any, plan: Plan, processor: TileProcessor) -> Any:
    """The lazy result of ``processor`` on the dask array ``image`` (see the module docstring).

    Parameters
    ----------
    image : dask.array.Array
        The input, chunked in any way.
    plan : Plan
        The request on ``image``, with its device resolved (``"cpu"`` or a CUDA device).
    processor : TileProcessor
        Blended for the strength.

    Returns
    -------
    dask.array.Array
        Same dtype as the input, chunked ``(1, ..., tile_size, tile_size[, channels])``.
    """
    import dask.array as da
    from dask import delayed

    layout = plan.layout
    out_shape = plan.plane_shapes[1]
    lead = layout.spatial[0]
    row_chunks: tuple[int, ...] = (out_shape[0],)
    col_chunks: tuple[int, ...] = (out_shape[1],)
    if processor.halo is not None:
        size = plan.request.tile_size
        row_chunks, col_chunks = _axis_chunks(out_shape[0], size), _axis_chunks(out_shape[1], size)
    channel_tail = (plan.in_shape[-1],) if layout.rgb else ()
    task = delayed(_chunk_task, pure=True)

    def plane_grid(index: tuple[int, ...]) -> list[list[Any]]:
        grid = []
        for r0, n_rows in zip(_starts(row_chunks), row_chunks):
            row = []
            for c0, n_cols in zip(_starts(col_chunks), col_chunks):
                region = (slice(r0, r0 + n_rows), slice(c0, c0 + n_cols))
                span_rows, span_cols = read_span(plan, processor, region)
                source = image[tuple(slice(i, i + 1) for i in index) + (span_rows, span_cols)]
                value = task(source, (span_rows.start, span_cols.start), plan, processor, region)
                shape = (1,) * lead + (n_rows, n_cols) + channel_tail
                row.append(da.from_delayed(value, shape=shape, dtype=plan.dtype))
            grid.append(row)
        return grid

    def nested(depth: int, index: tuple[int, ...]) -> Any:
        if depth == lead:
            grid = plane_grid(index)
            return [[[cell] for cell in row] for row in grid] if layout.rgb else grid
        return [nested(depth + 1, index + (i,)) for i in range(plan.in_shape[depth])]

    return da.block(nested(0, ()))
