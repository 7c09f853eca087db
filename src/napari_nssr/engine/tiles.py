"""The in-memory engine: planes, tiles with a halo, dtype and device, for any method.

For each 2D plane (leading axes and colour channels are kept), the output is cut into tiles. A
tile plus the method's halo is upsampled by pixel-centre bicubic interpolation (mirrored at the
image's borders, as reflect padding would) and handed to the method's :class:`TileProcessor`,
which returns the tile. The result therefore equals the untiled computation. The result has the
input's dtype (integers rounded and clipped to their range). That is the torch path, used on
CUDA; on the CPU the same values come from OpenCV, a strip of rows at a time (``engine/cpu.py``).

Work is on the image's own intensity range, in float32 where that holds the numbers exactly
enough, else in float64 (:func:`working_dtype`): 32- and 64-bit integers (float32 has 24 bits of
mantissa) and float64 planes with values beyond float32's safe range. Float32 (or float16) data
within 1/16 of its type's largest value is refused: sharpening overshoots, and the overshoot would
not fit the result's type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core.devices import resolve_device
from ..core.errors import Cancelled, ImageError, ResourceError, SettingsError
from ..core.layout import Layout, check_image, check_scale, check_strength, output_shape
from ..core.progress import PrepareProgress, drain, relay
from ..core.resample import AxisPlan, resample_axis
from ..methods.base import Identity, Prepared, TileProcessor
from ..methods.bicubic import BicubicSettings
from ..methods.resolve import MethodSpec, iter_prepare_method
from . import cpu
from . import nodata as nodata_fill

MAX_OUTPUT_BYTES = 8 * 2**30  # refuse in-memory results above this; dask input stays lazy
# float32 handles magnitudes from about 1e-38 to 3.4e38; keep clear of both ends (sharpening
# overshoots by a few times, and products of tiny numbers lose digits near the bottom)
FLOAT32_LARGEST_SAFE = 1e37
FLOAT32_SMALLEST_SAFE = 1e-30
HEADROOM = 16  # sharpening overshoots by a few times at most; leave this much room in the result's type


class InferenceCancelled(Cancelled):
    """Super-resolution was stopped by the caller."""


@dataclass
class InferenceProgress:
    """Progress of one super-resolution: ``done`` of ``total`` steps, and what is being done."""

    done: int
    total: int
    phase: str = "super-resolving"


@dataclass(frozen=True)
class Plan:
    """A checked call: the input's layout, the scale pair, the output shape and the strength."""

    layout: Layout
    scale: tuple[float, float]
    shape: tuple[int, ...]
    strength: float


def plan(image: Any, scale: Any, strength: float = 1.0, rgb: bool | None = None) -> Plan:
    """Check a call before any work and say what it will produce.

    Parameters
    ----------
    image : array-like
        Anything with ``shape`` and ``dtype``.
    scale : float or tuple of float
        Upsampling factor.
    strength : float
        0 (plain bicubic) to :data:`~napari_nssr.core.layout.MAX_STRENGTH`.
    rgb : bool or None
        Whether the last axis is colour (``None`` guesses as napari does).

    Returns
    -------
    Plan
    """
    layout = check_image(image, rgb)
    pair = check_scale(scale)
    return Plan(layout, pair, output_shape(tuple(int(n) for n in image.shape), layout, pair), check_strength(strength))


def prepare(image: Any, checked: Plan, method: MethodSpec | Prepared) -> Prepared:
    """The prepared method for a checked call (plain bicubic at strength 0, without preparing)."""
    return drain(iter_prepare(image, checked, method))


def iter_prepare(
    image: Any, checked: Plan, method: MethodSpec | Prepared
) -> Generator[PrepareProgress, None, Prepared]:
    """:func:`prepare` as a generator of the method's progress (a method training on the image)."""
    if isinstance(method, Prepared):
        return method
    if checked.strength == 0:
        return Prepared("bicubic", BicubicSettings(), Identity())
    return (yield from iter_prepare_method(image, checked.scale, method, checked.layout.rgb))


def method_view(image: Any, checked: Plan, method: MethodSpec | Prepared, nodata: float | None) -> Any:
    """What the method looks at while preparing: the image, or with ``nodata`` a lazy view with
    the nodata pixels filled (fill values for the widest halo a method has)."""
    if nodata is None or isinstance(method, Prepared) or checked.strength == 0:
        return image
    return nodata_fill.filled_view(image, checked.layout.rgb, nodata, nodata_fill.fill_radius(16, checked.scale))


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


def _integer_bounds(dtype: np.dtype, work: np.dtype) -> tuple[float, float]:
    """The dtype's range as numbers of the working precision that convert back exactly (uint32's
    4294967295 rounds up to 4294967296 in float32, which wraps to 0)."""
    info = np.iinfo(dtype)
    low, high = work.type(info.min), work.type(info.max)
    if int(high) > info.max:
        high = np.nextafter(high, work.type(0))
    if int(low) < info.min:
        low = np.nextafter(low, work.type(0))
    return float(low), float(high)


def _round_into_range(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Round to integers and clip to ``bounds``, in place when ``values`` is writable (a fresh tile)."""
    if not values.flags.writeable:
        values = values.copy()
    np.rint(values, out=values)
    return np.clip(values, *bounds, out=values)


def check_memory(checked: Plan, dtype: Any) -> None:
    """Refuse, before any work, an in-memory result larger than :data:`MAX_OUTPUT_BYTES`."""
    out_bytes = math.prod(checked.shape) * np.dtype(dtype).itemsize
    if out_bytes > MAX_OUTPUT_BYTES:
        raise ResourceError(
            f"the result would take {out_bytes / 2**30:.1f} GiB, more than the {MAX_OUTPUT_BYTES / 2**30:.0f} GiB "
            "computed in memory; super-resolve a dask array (computed lazily) or a crop"
        )


def _check_tile_size(tile_size: Any) -> int:
    if isinstance(tile_size, bool) or not isinstance(tile_size, (int, np.integer)) or tile_size < 16:
        raise SettingsError(f"tile_size must be an integer >= 16, got {tile_size!r}")
    return int(tile_size)


def _plane_rows(out_cols: int, tile_size: int) -> int:
    """Output rows per strip on the CPU: about ``tile_size**2`` pixels, as a torch tile (1 Mpx by
    default: small enough for the caches, measured fastest on 2 cores against 2, 4 and 8 Mpx)."""
    return max(16, (tile_size * tile_size) // max(1, out_cols))


def run_tiles(
    image: Any,
    checked: Plan,
    processor: TileProcessor,
    tile_size: int,
    device: torch.device,
    backend: str | None = None,
    nodata: float | None = None,
) -> Generator[InferenceProgress, None, np.ndarray]:
    """Apply ``processor`` to every tile of every plane of ``image``; yields progress, returns the result.

    Parameters
    ----------
    image : array-like
        The input (numpy, or one block of a dask array).
    checked : Plan
        From :func:`plan`.
    processor : TileProcessor
        Already blended for the strength (not yet moved to ``device``).
    tile_size : int
        Output tile side (torch), or the strips' size (OpenCV: ``tile_size**2`` pixels); a
        processor without a halo limit (``halo=None``) gets whole planes.
    device : torch.device
        Where to compute.
    backend : {"opencv", "torch"} or None
        ``None``: OpenCV on the CPU (``engine/cpu.py``), torch elsewhere. Both give the same
        values to float rounding.
    nodata : float, optional
        Pixels with this value (NaN allowed) are kept out of the result (``engine/nodata.py``).
    """
    if backend is None:
        backend = "opencv" if device.type == "cpu" else "torch"
    if backend not in ("opencv", "torch"):
        raise SettingsError(f"backend must be 'opencv' or 'torch', got {backend!r}")
    layout = checked.layout
    dtype = np.dtype(image.dtype)
    rows, cols = layout.plane_shape(tuple(image.shape))
    out_rows, out_cols = layout.plane_shape(checked.shape)
    plans = (AxisPlan.bicubic(rows, out_rows), AxisPlan.bicubic(cols, out_cols))
    whole = processor.halo is None
    halo = 0 if processor.halo is None else processor.halo
    if backend == "opencv":
        strips = cpu.strips(out_rows, processor.halo, _plane_rows(out_cols, tile_size))
        regions = [(strip, slice(0, out_cols)) for strip in strips]
    elif whole:
        regions = [(slice(0, out_rows), slice(0, out_cols))]
    else:
        regions = list(_tiles(out_rows, out_cols, tile_size))
    planes = list(layout.planes(tuple(image.shape)))
    result = np.empty(checked.shape, dtype=dtype)
    total, done = len(planes) * len(regions), 0
    radius = None if processor.halo is None else nodata_fill.fill_radius(processor.halo, checked.scale)
    for index in planes:
        plane_np, valid, work = working_values(np.asarray(image[index]), dtype, nodata, radius)
        bounds = _integer_bounds(dtype, work) if dtype.kind in "ui" else None
        out_plane = result[index]
        if backend == "torch" and not processor.from_source:
            plane = torch.from_numpy(plane_np).to(device)
            tile_processor = processor.to(device, plane.dtype)
        for region in regions:
            if processor.from_source:  # whole planes (halo None): the processor upsamples itself
                steps = processor.iter_process_source(plane_np, (out_rows, out_cols))
                # a long plane reports its steps (and can be stopped between them)
                tile = yield from relay(steps, _plane_step(done, total))
            elif backend == "torch":
                tile = tile_processor(upsampled_block(plane, plans, region, halo)).cpu().numpy()
            else:
                tile = cpu.region(plane_np, (0, 0), (rows, cols), (out_rows, out_cols), *region, processor)
            if bounds is not None:
                tile = _round_into_range(tile, bounds)
            if valid is not None and nodata is not None:
                region_valid = nodata_fill.output_valid(valid, (0, 0), (rows, cols), (out_rows, out_cols), *region)
                tile = nodata_fill.restore(tile.astype(dtype), region_valid, nodata)
            out_plane[region] = tile
            done += 1
            yield InferenceProgress(done, total)
    return result


def _plane_step(done: int, total: int) -> Callable[[str], InferenceProgress]:
    """What a whole-plane processor says it is doing, as progress within step ``done`` of ``total``."""

    def step(text: str) -> InferenceProgress:
        return InferenceProgress(done, total, text)

    return step


def iter_super_resolve(
    image: Any,
    scale: float | tuple[float, float],
    method: MethodSpec | Prepared = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
    nodata: float | None = None,
) -> Generator[InferenceProgress, None, np.ndarray]:
    """Like :func:`~napari_nssr.engine.api.super_resolve` for in-memory arrays, as a generator.

    Yields one :class:`InferenceProgress` while the method prepares (``phase`` says which), then
    one per tile; returns the result. Closing the generator stops the work.

    Parameters
    ----------
    image : array-like
        Numpy (or anything ``numpy.asarray`` reads); dask arrays go through ``super_resolve``.
    scale : float or tuple of float
        Upsampling factor(s), each in ``[1, 16]``.
    method : MethodSpec or Prepared
        See :func:`~napari_nssr.methods.resolve.resolve_method`; a :class:`Prepared` is used as is.
    strength, rgb, tile_size, device, nodata
        As for ``super_resolve``.

    Returns
    -------
    numpy.ndarray
        The result, with the input's dtype.
    """
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    checked = plan(image, scale, strength, rgb)
    tile_size = _check_tile_size(tile_size)
    check_memory(checked, image.dtype)
    dev = resolve_device(device)
    if not isinstance(method, Prepared) and checked.strength > 0:
        yield InferenceProgress(0, 1, "preparing the method")
    preparing = iter_prepare(method_view(image, checked, method, nodata), checked, method)
    prepared = yield from relay(preparing, lambda step: InferenceProgress(step.done, step.total, step.text))
    processor = prepared.processor.blended(checked.strength)
    return (yield from run_tiles(image, checked, processor, tile_size, dev, nodata=nodata))
