"""Super-resolution: bicubic upsampling followed by the model's one inverse filter.

Images are 2D, RGB(A) with channels last, or n-D stacks; only the last two spatial axes are
upsampled. Work is done plane by plane in float32 on the image's own intensity range, in
output tiles (with a halo) whose results equal the untiled computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._config import is_finite_number
from ._progress import run_steps
from .blind import BLIND, blind_model
from .devices import resolve_device
from .model import blend_with_identity, convolve
from .model_file import NSSRModel, model_for_scale
from .resample import AxisPlan, output_shape, resample_axis

MAX_STRENGTH = 4.0
MAX_SCALE = 16.0
DEFAULT_MODE = BLIND  # what model=None means: robust to noise and to blurs of unknown kind
MAX_OUTPUT_BYTES = 8 * 2**30  # refuse in-memory results above this; dask input stays lazy


class InferenceCancelled(RuntimeError):
    """Super-resolution was stopped by the caller."""


@dataclass
class InferenceProgress:
    """Tiles finished so far out of the total for the whole image."""

    done: int
    total: int


@dataclass(frozen=True)
class Layout:
    """Where the spatial and channel axes are in the caller's array."""

    rgb: bool
    spatial: tuple[int, int]  # axis indices of (rows, cols)

    @classmethod
    def of(cls, shape: tuple[int, ...], rgb: bool | None) -> Layout:
        """Guess (like napari) or take the RGB flag, and find the two upsampled axes."""
        if rgb is None:
            rgb = len(shape) >= 3 and shape[-1] in (3, 4)
        if rgb and (len(shape) < 3 or shape[-1] not in (3, 4)):
            raise ValueError(f"rgb=True needs a last axis of 3 or 4 channels, got shape {shape}")
        needed = 3 if rgb else 2
        if len(shape) < needed:
            what = "an RGB image needs (rows, cols, channels)" if rgb else "an image needs at least 2 axes"
            raise ValueError(f"{what}; got shape {shape}")
        n = len(shape)
        return cls(rgb, (n - 3, n - 2) if rgb else (n - 2, n - 1))


def _check_scale(scale: float | tuple[float, float]) -> tuple[float, float]:
    pair = (scale, scale) if not isinstance(scale, (tuple, list)) else tuple(scale)
    if len(pair) != 2 or not all(is_finite_number(s) for s in pair):
        raise ValueError(f"scale must be a finite number or a (rows, cols) pair, got {scale!r}")
    if min(pair) < 1:
        raise ValueError(f"scale must be >= 1 (this tool only upsamples), got {scale!r}")
    if max(pair) > MAX_SCALE:
        raise ValueError(f"scale must be <= {MAX_SCALE:g}, got {scale!r}")
    return float(pair[0]), float(pair[1])


def _check_image(image: Any) -> None:
    dtype = np.dtype(image.dtype)
    if dtype.kind not in "uif":
        raise TypeError(
            f"images must be integer or floating point, got dtype {dtype} (convert booleans/labels/complex data first)"
        )


def resolve_model(
    model: NSSRModel | str | None, scale: float | tuple[float, float], image: Any, rgb: bool | None = None
) -> NSSRModel:
    """The filter ``super_resolve`` uses for ``image`` at ``scale``: ``None`` and ``"blind"`` solve
    one for the image's own blur and noise; a family name such as ``"chain"`` picks its nearest scale."""
    pair = _check_scale(scale)
    mean_scale = math.sqrt(pair[0] * pair[1])
    if model is None:
        model = DEFAULT_MODE
    if isinstance(model, str) and model == BLIND:
        return blind_model(image, mean_scale, rgb)
    return model_for_scale(model, mean_scale)


def prepare(
    image: Any, scale: float | tuple[float, float], strength: float, rgb: bool | None
) -> tuple[Layout, tuple[float, float], tuple[int, ...]]:
    """Validate the call and return the layout, the scale pair and the output shape."""
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    _check_image(image)
    shape = tuple(int(s) for s in image.shape)
    if 0 in shape:
        raise ValueError(f"the image is empty (shape {shape})")
    layout = Layout.of(shape, rgb)
    pair = _check_scale(scale)
    if not is_finite_number(strength) or not 0 <= strength <= MAX_STRENGTH:
        raise ValueError(f"strength must be in [0, {MAX_STRENGTH:g}], got {strength!r}")
    rows, cols = (shape[a] for a in layout.spatial)
    if rows < 2 or cols < 2:
        raise ValueError(f"the image must be at least 2x2 pixels in its last two spatial axes, got {rows}x{cols}")
    out = list(shape)
    out[layout.spatial[0]], out[layout.spatial[1]] = output_shape((rows, cols), pair)
    return layout, pair, tuple(out)


def _planes(shape: tuple[int, ...], layout: Layout) -> list[tuple]:
    """Index tuples selecting every 2D plane (leading axes and channels) of the array."""
    lead = shape[: layout.spatial[0]]
    chans = range(shape[-1]) if layout.rgb else [None]
    planes = []
    for idx in np.ndindex(*lead) if lead else [()]:
        for c in chans:
            planes.append(idx + (slice(None), slice(None)) + ((c,) if c is not None else ()))
    return planes


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


def _filter_tile(
    plane: torch.Tensor,
    plans: tuple[AxisPlan, AxisPlan],
    region: tuple[slice, slice],
    h: torch.Tensor | None,
) -> torch.Tensor:
    """Upsample the output ``region`` of ``plane`` (+ halo) and apply filter ``h`` ('valid')."""
    radius = 0 if h is None else h.shape[-1] // 2
    parts = []
    for plan, sl in zip(plans, region):
        # output indices with a mirrored halo, so border tiles see the reflect padding
        wanted = _reflect(np.arange(sl.start - radius, sl.stop + radius), plan.n_out)
        parts.append(plan.rows(wanted))
    (rows_in, row_taps, row_w), (cols_in, col_taps, col_w) = parts
    block = plane[rows_in, cols_in]
    up = resample_axis(resample_axis(block, row_taps, row_w, 0), col_taps, col_w, 1)
    if h is None:
        return up
    return convolve(up[None, None], h, padding="valid")[0, 0]


def iter_super_resolve(
    image: Any,
    scale: float | tuple[float, float],
    model: NSSRModel | str | None = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
) -> Generator[InferenceProgress, None, np.ndarray]:
    """Like :func:`super_resolve` but a generator yielding progress per tile; returns the result."""
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    layout, pair, out_shape = prepare(image, scale, strength, rgb)
    if not isinstance(tile_size, int) or tile_size < 16:
        raise ValueError(f"tile_size must be an integer >= 16, got {tile_size!r}")
    dtype = np.dtype(image.dtype)
    out_bytes = math.prod(out_shape) * dtype.itemsize
    if out_bytes > MAX_OUTPUT_BYTES:
        raise MemoryError(f"the result would take {out_bytes / 2**30:.1f} GiB; pass a dask array to compute it lazily")
    dev = resolve_device(device)
    h = None
    if strength > 0:
        h = blend_with_identity(resolve_model(model, pair, image, layout.rgb).filter, strength).to(dev)
    rows, cols = (image.shape[a] for a in layout.spatial)
    plans = (AxisPlan.bicubic(rows, out_shape[layout.spatial[0]]), AxisPlan.bicubic(cols, out_shape[layout.spatial[1]]))
    result = np.empty(out_shape, dtype=dtype)
    planes = _planes(tuple(image.shape), layout)
    tiles = list(_tiles(plans[0].n_out, plans[1].n_out, tile_size))
    total, done = len(planes) * len(tiles), 0
    info = np.iinfo(dtype) if dtype.kind in "ui" else None
    for index in planes:
        plane_np = np.asarray(image[index], dtype=np.float32)
        if not np.isfinite(plane_np).all():
            raise ValueError("the image contains NaN or infinite values; replace them before super-resolving")
        plane = torch.from_numpy(plane_np).to(dev)
        out_plane = result[index]
        for region in tiles:
            tile = _filter_tile(plane, plans, region, h).cpu().numpy()
            if info is not None:
                tile = np.clip(np.rint(tile), info.min, info.max)
            out_plane[region] = tile
            done += 1
            yield InferenceProgress(done, total)
    return result


def super_resolve(
    image: Any,
    scale: float | tuple[float, float],
    model: NSSRModel | str | None = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
    progress: Callable[[InferenceProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Any:
    """Super-resolve ``image`` by ``scale`` (>= 1, any real; or a (rows, cols) pair).

    Output shape is ``round(H * s) x round(W * s)`` on the last two spatial axes (before the
    channel axis for RGB), pixel-centre aligned with the input; other axes are kept. ``model`` is
    an :class:`NSSRModel`, a bundled model name or a file path. ``None`` (the default) and
    ``"blind"`` solve a filter for the image's own estimated blur and noise (``blind.py``); the
    per-scale family ``"chain"`` picks the bundled degradation-aware model nearest to ``scale``;
    ``"paper"`` is the paper-faithful model and ``"default"`` the paper's loss with the sum held at 1.
    ``strength`` blends from plain bicubic (0) to the full inverse filter (1) and beyond.
    The result has the input's dtype (integers rounded and clipped). A dask array input gives a
    lazy dask array, computed plane by plane. The input is never modified.
    """
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is a dependency
        da = None
    if da is not None and isinstance(image, da.Array):
        return _super_resolve_dask(image, scale, model, strength=strength, rgb=rgb, tile_size=tile_size, device=device)
    steps = iter_super_resolve(image, scale, model, strength=strength, rgb=rgb, tile_size=tile_size, device=device)
    return run_steps(
        steps, progress, cancel, lambda p: InferenceCancelled(f"cancelled after {p.done} of {p.total} tiles")
    )


def _super_resolve_dask(image: Any, scale: Any, model: Any, **kwargs: Any) -> Any:
    """Lazy super-resolution of a dask array: one block per plane (or RGB plane)."""
    layout, pair, out_shape = prepare(image, scale, kwargs["strength"], kwargs["rgb"])
    resolved = resolve_model(model, pair, image, layout.rgb) if kwargs["strength"] > 0 else None
    whole = {a: -1 for a in layout.spatial}
    if layout.rgb:
        whole[image.ndim - 1] = -1
    image = image.rechunk(whole)
    chunks = list(image.chunks)
    for axis in layout.spatial:
        chunks[axis] = (out_shape[axis],)
    kwargs = dict(kwargs, rgb=layout.rgb)

    def block(x: np.ndarray) -> np.ndarray:
        return super_resolve(x, pair, resolved, **kwargs)

    return image.map_blocks(block, chunks=tuple(chunks), dtype=image.dtype)


def upsample_bicubic(image: Any, scale: float | tuple[float, float], rgb: bool | None = None) -> Any:
    """Plain pixel-centre bicubic upsampling on the same grid as :func:`super_resolve`."""
    return super_resolve(image, scale, None, strength=0.0, rgb=rgb)
