"""Computing output regions of a plane, for any method: the one kernel every way of running shares.

For each 2D plane (leading axes and colour channels are kept), the output is cut into regions. A
region plus the method's halo is upsampled by pixel-centre bicubic interpolation (mirrored at the
image's borders, as reflect padding would) and handed to the method's :class:`TileProcessor`,
which returns the region; the result therefore equals the untiled computation.
:func:`compute_region` does that for one region, from any block of the input that holds its
input span: on the CPU with OpenCV (``engine/cpu.py``), on CUDA with torch (:func:`upsampled_block`),
or, for a processor that makes its own upsampling, from the whole plane. :func:`run_tiles` runs it
over every region of every plane of an in-memory image; the lazy engine runs it as one task per
chunk (``engine/lazy.py``), and a window of the output is one call.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Any

import numpy as np
import torch

from ..core.errors import SettingsError
from ..core.progress import InferenceProgress, relay
from ..core.request import Plan
from ..core.resample import AxisPlan, resample_axis
from ..methods.base import Identity, TileProcessor
from . import cpu
from . import nodata as nodata_fill
from .precision import to_result, working_values


def _tiles(n_rows: int, n_cols: int, tile: int) -> Iterator[tuple[slice, slice]]:
    for r0 in range(0, n_rows, tile):
        for c0 in range(0, n_cols, tile):
            yield slice(r0, min(r0 + tile, n_rows)), slice(c0, min(c0 + tile, n_cols))


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """Mirror indices into ``0..n-1`` without repeating the edge (torch/numpy ``reflect``)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * (n - 1)
    index = np.abs(index) % period
    return np.where(index >= n, period - index, index)


def upsampled_block(
    plane: torch.Tensor,
    plans: tuple[AxisPlan, AxisPlan],
    region: tuple[slice, slice],
    halo: int,
    origin: tuple[int, int] = (0, 0),
) -> torch.Tensor:
    """The bicubic upsampling of output ``region`` of ``plane`` with ``halo`` pixels around it,
    mirrored at the output's borders. ``plane`` may be a block of the whole plane starting at input
    ``origin``, holding at least the rows and columns the region's taps read."""
    parts = []
    for axis_plan, sl in zip(plans, region):
        wanted = _reflect(np.arange(sl.start - halo, sl.stop + halo), axis_plan.n_out)
        parts.append(axis_plan.rows(wanted))
    (rows_in, row_taps, row_w), (cols_in, col_taps, col_w) = parts
    block = plane[
        rows_in.start - origin[0] : rows_in.stop - origin[0], cols_in.start - origin[1] : cols_in.stop - origin[1]
    ]
    return resample_axis(resample_axis(block, row_taps, row_w, 0), col_taps, col_w, 1)


def compute_region(
    values: np.ndarray | torch.Tensor,
    origin: tuple[int, int],
    shapes: tuple[tuple[int, int], tuple[int, int]],
    region: tuple[slice, slice],
    processor: TileProcessor,
    device: torch.device,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Output ``region`` of a plane, in the working precision, from the input block ``values``.

    Parameters
    ----------
    values : numpy.ndarray or torch.Tensor
        2D input values in the working precision (:func:`~.precision.working_values`) starting at
        input ``origin``, holding at least the region's :func:`~.cpu.input_span` (the whole plane
        for a processor without a halo); a tensor already on ``device`` saves the upload.
    origin : tuple of int
        Input ``(row, col)`` of ``values[0, 0]``.
    shapes : tuple of tuple of int
        The whole plane's input and output ``(rows, cols)``.
    region : tuple of slice
        The output rows and columns.
    processor : TileProcessor
        Blended for the strength.
    device : torch.device
        The CPU (OpenCV) or a CUDA device (torch).
    valid : numpy.ndarray, optional
        Where ``values`` has data (whole-plane processors may keep the rest out of their fits).

    Returns
    -------
    numpy.ndarray
        The region.
    """
    in_shape, out_shape = shapes
    if processor.from_source:  # a whole plane: the processor upsamples itself (in torch off the CPU)
        plane = values.cpu().numpy() if isinstance(values, torch.Tensor) else values
        source = processor if device.type == "cpu" else processor.to(device)
        return source.with_validity(valid).process_source(plane, out_shape)[region]
    if processor.halo is None and region != (slice(0, out_shape[0]), slice(0, out_shape[1])):
        # a whole-plane processor (a Fourier-domain deconvolution): any region is cut from the plane
        whole = (slice(0, out_shape[0]), slice(0, out_shape[1]))
        return compute_region(values, origin, shapes, whole, processor, device)[region]
    if device.type == "cpu":
        block = values.numpy() if isinstance(values, torch.Tensor) else values
        return cpu.region(block, origin, in_shape, out_shape, *region, processor)
    plans = (AxisPlan.bicubic(in_shape[0], out_shape[0]), AxisPlan.bicubic(in_shape[1], out_shape[1]))
    tensor = values if isinstance(values, torch.Tensor) else torch.from_numpy(values)
    tensor = tensor.to(device)
    up = upsampled_block(tensor, plans, region, processor.halo or 0, origin)
    return processor.to(device, tensor.dtype)(up).cpu().numpy()


def finish_region(
    tile: np.ndarray,
    plan: Plan,
    work: np.dtype,
    valid: np.ndarray | None,
    origin: tuple[int, int],
    region: tuple[slice, slice],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A computed region as the result's dtype (integers rounded and clipped), nodata put back;
    written into ``out`` (the region of the result) when given."""
    result = to_result(tile, plan.dtype, work, out)
    nodata = plan.request.nodata
    if valid is not None and nodata is not None:
        region_valid = nodata_fill.output_valid(valid, origin, *plan.plane_shapes, *region)
        result = nodata_fill.restore(result if out is not None else np.array(result), region_valid, nodata)
    return result


def _plane_rows(out_cols: int, tile_size: int) -> int:
    """Output rows per strip on the CPU: about ``tile_size**2`` pixels, as a torch tile (1 Mpx by
    default: small enough for the caches, measured fastest on 2 cores against 2, 4 and 8 Mpx)."""
    return max(16, (tile_size * tile_size) // max(1, out_cols))


def channel_processor(plan: Plan, processor: TileProcessor, channel: int | None) -> TileProcessor:
    """The processor for one colour channel: an RGBA image's alpha (opacity, not signal: no blur
    and no photon noise, so a method's estimates do not fit it) is upsampled by plain bicubic,
    which keeps a constant alpha exactly (the second hostile round saw 200 become 213)."""
    if plan.layout.rgb and channel == 3 and plan.in_shape[-1] == 4:
        return Identity()
    return processor


def plane_regions(plan: Plan, processor: TileProcessor, backend: str) -> list[tuple[slice, slice]]:
    """The regions a plane is computed in: strips on the CPU, tiles with torch, the whole plane for a
    processor without a halo."""
    out_rows, out_cols = plan.plane_shapes[1]
    if backend == "opencv":
        strips = cpu.strips(out_rows, processor.halo, _plane_rows(out_cols, plan.request.tile_size))
        return [(strip, slice(0, out_cols)) for strip in strips]
    if processor.halo is None:
        return [(slice(0, out_rows), slice(0, out_cols))]
    return list(_tiles(out_rows, out_cols, plan.request.tile_size))


def run_tiles(
    image: Any,
    plan: Plan,
    processor: TileProcessor,
    device: torch.device,
    backend: str | None = None,
) -> Generator[InferenceProgress, None, np.ndarray]:
    """Apply ``processor`` to every region of every plane of ``image``; yields progress, returns the result.

    Parameters
    ----------
    image : array-like
        The input (numpy, or one block of a dask array).
    plan : Plan
        The request on ``image`` (its tile size and nodata are used).
    processor : TileProcessor
        Already blended for the strength (not yet moved to ``device``).
    device : torch.device
        Where to compute.
    backend : {"opencv", "torch"} or None
        ``None``: OpenCV on the CPU (``engine/cpu.py``), torch elsewhere. Both give the same
        values to float rounding.
    """
    if backend is None:
        backend = "opencv" if device.type == "cpu" else "torch"
    if backend not in ("opencv", "torch"):
        raise SettingsError(f"backend must be 'opencv' or 'torch', got {backend!r}")
    compute_on = torch.device("cpu") if backend == "opencv" else device
    # a whole-plane processor runs its own steps: in torch on the device for the torch backend
    source = processor.to(device) if backend == "torch" and processor.from_source else processor
    regions = plane_regions(plan, processor, backend)
    planes = list(plan.layout.planes(plan.in_shape))
    result = np.empty(plan.shape, dtype=plan.dtype)
    total, done = len(planes) * len(regions), 0
    radius = None if processor.halo is None else nodata_fill.fill_radius(processor.halo, plan.scale)
    for index in planes:
        channel = index[-1] if plan.layout.rgb else None
        here = channel_processor(plan, processor, channel)
        here_source = channel_processor(plan, source, channel)
        plane, valid, work = working_values(np.asarray(image[index]), plan.dtype, plan.request.nodata, radius)
        values: np.ndarray | torch.Tensor = plane
        if backend == "torch" and not here.from_source:
            values = torch.from_numpy(plane).to(device)  # once per plane, not per tile
        out_plane = result[index]
        for region in regions:
            if here.from_source and here_source.streams_rows and len(regions) == 1:
                # finished rows go straight into the result: no whole float plane is held
                store = _row_store(plan, work, valid, out_plane)
                streamed = here_source.with_validity(valid).iter_source_rows(plane, plan.plane_shapes[1], store)
                yield from relay(streamed, _plane_step(done, total))
                done += 1
                yield InferenceProgress(done, total)
                continue
            if here.from_source:  # a long plane reports its steps (and can be stopped between them)
                steps = here_source.with_validity(valid).iter_process_source(plane, plan.plane_shapes[1])
                tile = (yield from relay(steps, _plane_step(done, total)))[region]
            elif here is not processor and processor.from_source:  # a whole-plane method's alpha
                whole = (slice(0, plan.plane_shapes[1][0]), slice(0, plan.plane_shapes[1][1]))
                tile = compute_region(values, (0, 0), plan.plane_shapes, whole, here, compute_on)[region]
            else:
                tile = compute_region(values, (0, 0), plan.plane_shapes, region, here, compute_on)
            finish_region(tile, plan, work, valid, (0, 0), region, out=out_plane[region])
            done += 1
            yield InferenceProgress(done, total)
    return result


def _row_store(
    plan: Plan, work: np.dtype, valid: np.ndarray | None, out_plane: np.ndarray
) -> Callable[[slice, np.ndarray], None]:
    """Where a streaming processor hands a plane's finished rows: finished (rounded, clipped,
    nodata put back) into those rows of the result."""
    cols = slice(0, plan.plane_shapes[1][1])

    def store(rows: slice, values: np.ndarray) -> None:
        finish_region(values, plan, work, valid, (0, 0), (rows, cols), out=out_plane[rows])

    return store


def _plane_step(done: int, total: int) -> Callable[[str], InferenceProgress]:
    """What a whole-plane processor says it is doing, as progress within step ``done`` of ``total``."""

    def step(text: str) -> InferenceProgress:
        return InferenceProgress(done, total, text)

    return step
