"""Super-resolving what is on screen: one window of one plane at the view's zoom, the per-image work
kept between views.

A viewer shows a part of an image at some zoom (screen pixels per image pixel). :class:`Lens`
turns such a :class:`View` into a :class:`LensImage`: the output window of ``super_resolve(image,
zoom)`` that covers the view, computed from the input span it needs (:func:`~.pipeline.apply_window`)
and placed exactly where that window of the whole result sits. What the method does once per image
(the blind estimate, the noise model, the solved filter) is prepared once per factor and kept;
what a whole-plane processor does once per plane and scale-independently
(:meth:`~napari_nssr.methods.base.TileProcessor.split_plane`: the blind method's non-local means of
the stabilised plane) is kept per plane, so a view filters only its window.
A processor that needs the whole plane at each scale (the psf restoration's Richardson-Lucy,
ZSSR) has its whole output plane computed once per factor and plane and kept, up to
:data:`WHOLE_PLANE_LIMIT` output pixels.

No Qt here: the widget (``_widgets/_lens.py``) runs :meth:`Lens.render` on a worker thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..core.errors import ImageError, ResourceError, SettingsError
from ..core.memo import ContentCache
from ..core.noise import is_constant
from ..core.progress import drain
from ..core.request import Plan, Request
from ..methods.base import MethodSettings, PlaneSplit, Prepared, TileProcessor
from .pipeline import apply_window, iter_prepare
from .precision import working_values
from .tiles import channel_processor, compute_region, finish_region

#: factors are rounded to this step (the lens's own scale differs from the zoom by at most half of it:
#: 0.3% at x2), so that a zoom gesture's many factors share prepared methods
FACTOR_STEP = 0.01
#: a whole-plane processor's output plane is kept for the lens up to this many pixels (1 GiB in float32)
WHOLE_PLANE_LIMIT = 256 * 1024 * 1024
#: how many prepared factors and computed planes are kept (least recently used dropped)
KEEP = 8


@dataclass(frozen=True)
class View:
    """What a viewer shows of an image: one plane, a box of it, at a zoom.

    Attributes
    ----------
    index : tuple of int
        The plane's position on the leading axes (``()`` for a 2D or RGB image).
    rows, cols : tuple of float
        The box shown, in input pixel coordinates (pixel centres at integers; ends may lie outside).
    zoom : float
        Screen pixels per input pixel.
    """

    index: tuple[int, ...]
    rows: tuple[float, float]
    cols: tuple[float, float]
    zoom: float


@dataclass(frozen=True)
class LensImage:
    """One view super-resolved: the window and where it sits.

    Attributes
    ----------
    data : numpy.ndarray
        The window (the result's dtype; colour last for RGB).
    factor : float
        The factor it was computed at.
    origin : tuple of int
        Output ``(row, col)`` of ``data[0, 0]`` in the whole result at ``factor``.
    step : tuple of float
        Input pixels per output pixel along rows and columns (``n_in / n_out``).
    offset : tuple of float
        Input coordinate of ``data[0, 0]``'s centre: ``(origin + 0.5) * step - 0.5``.
    record : dict
        What made it (method, factor, the method's estimate).
    """

    data: np.ndarray
    factor: float
    origin: tuple[int, int]
    step: tuple[float, float]
    offset: tuple[float, float]
    record: dict[str, Any] = field(default_factory=dict)


def lens_factor(zoom: float, max_factor: float) -> float | None:
    """The factor a view at ``zoom`` is super-resolved at: the zoom, capped at ``max_factor`` and rounded
    to :data:`FACTOR_STEP`; ``None`` at or below x1, where super-resolution shows nothing new.

    Examples
    --------
    >>> lens_factor(3.7049, 8), lens_factor(12.0, 8), lens_factor(0.6, 8)
    (3.7, 8.0, None)
    """
    if not math.isfinite(zoom) or zoom <= 1.0 + FACTOR_STEP / 2:
        return None
    return round(round(min(zoom, max_factor) / FACTOR_STEP) * FACTOR_STEP, 6)


def output_window(box: tuple[float, float], n_in: int, n_out: int, margin: int = 1) -> tuple[slice, float] | None:
    """The output pixels of one axis whose centres lie in input ``box`` (and ``margin`` more each
    side), clipped to the plane, with the step ``n_in / n_out``; ``None`` if the box misses it."""
    step = n_in / n_out
    first = math.floor((box[0] + 0.5) / step - 0.5) - margin
    last = math.ceil((box[1] + 0.5) / step - 0.5) + margin
    first, last = max(first, 0), min(last + 1, n_out)
    if first >= last:
        return None
    return slice(first, last), step


class Lens:
    """Super-resolves views of one image with one method's settings (see the module docstring).

    Parameters
    ----------
    image : array-like
        The input (numpy, dask or zarr: only what a view needs is read, besides what the method's
        preparation reads).
    settings : MethodSettings
        The method and its settings.
    rgb : bool
        Whether the last axis is colour.
    max_factor : float
        The largest factor (a view zoomed further is shown at this one).
    device : str
        Where to compute.
    nodata : float, optional
        Pixels without data (kept out, as for a whole result).
    strength : float
        0 plain bicubic, 1 the method's full result (the blend of ``super_resolve``).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import BlindSettings, super_resolve
    >>> image = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    >>> lens = Lens(image, BlindSettings(), rgb=False)
    >>> shown = lens.render(View((), (10.0, 30.0), (0.0, 20.0), zoom=2.5))
    >>> whole = np.asarray(super_resolve(image, 2.5, "blind"))
    >>> r, c = shown.origin
    >>> bool(np.allclose(shown.data, whole[r : r + shown.data.shape[0], c : c + shown.data.shape[1]], atol=1e-5))
    True
    """

    def __init__(
        self,
        image: Any,
        settings: MethodSettings,
        rgb: bool,
        max_factor: float = 8.0,
        device: str = "cpu",
        nodata: float | None = None,
        strength: float = 1.0,
    ) -> None:
        self.image, self.settings, self.rgb = image, settings, bool(rgb)
        self.max_factor, self.device, self.nodata = float(max_factor), device, nodata
        self.strength = float(strength)
        self._prepared = ContentCache(KEEP)
        self._planes = ContentCache(KEEP)
        # the last window shown, to reuse where the next overlaps it (a pan computes only what it uncovers)
        self._last: tuple[tuple[Any, ...], tuple[slice, slice], np.ndarray] | None = None

    def request(self, factor: float) -> Request:
        """The request the lens computes at ``factor``."""
        return Request((factor, factor), self.settings, self.strength, self.rgb, self.device, self.nodata)

    def prepared(self, factor: float) -> tuple[Plan, Prepared]:
        """The plan and the prepared method at ``factor`` (prepared once, then kept)."""

        def make() -> tuple[Plan, Prepared]:
            plan = self.request(factor).plan(self.image)
            return plan, drain(iter_prepare(self.image, plan))

        return self._prepared.get(factor, make)

    def render(self, view: View) -> LensImage | None:
        """The view super-resolved at its factor, or ``None`` where the lens shows nothing (zoom at or
        below x1, or a box outside the image)."""
        factor = lens_factor(view.zoom, self.max_factor)
        if factor is None:
            return None
        plan, prepared = self.prepared(factor)
        (in_rows, in_cols), (out_rows, out_cols) = plan.plane_shapes
        rows = output_window(view.rows, in_rows, out_rows)
        cols = output_window(view.cols, in_cols, out_cols)
        if rows is None or cols is None:
            return None
        window = (rows[0], cols[0])
        data = self._reusing(plan, prepared, factor, tuple(view.index), window)
        steps = (rows[1], cols[1])
        origin = (window[0].start, window[1].start)
        offset = tuple((o + 0.5) * s - 0.5 for o, s in zip(origin, steps))
        record = {**prepared.describe(), "scale": factor, "lens": True}
        return LensImage(data, factor, origin, steps, (offset[0], offset[1]), record)

    def _reusing(
        self, plan: Plan, prepared: Prepared, factor: float, index: tuple[int, ...], window: tuple[slice, slice]
    ) -> np.ndarray:
        """The window, copied from the last one where they overlap and computed elsewhere (each part
        equals the whole result there, so the assembled window does too)."""
        key = (factor, index)
        last = self._last
        overlap = _overlap(window, last[1]) if last is not None and last[0] == key else None
        if last is None or overlap is None:
            data = self._window(plan, prepared, factor, index, window)
        else:
            old_window, old = last[1], last[2]
            data = np.empty(
                (window[0].stop - window[0].start, window[1].stop - window[1].start) + old.shape[2:], old.dtype
            )
            data[_local(overlap, window)] = old[_local(overlap, old_window)]
            for band in _uncovered(window, overlap):
                data[_local(band, window)] = self._window(plan, prepared, factor, index, band)
        self._last = (key, window, data)
        return data

    def _window(
        self, plan: Plan, prepared: Prepared, factor: float, index: tuple[int, ...], window: tuple[slice, slice]
    ) -> np.ndarray:
        processor = prepared.processor
        if processor.halo is not None:  # a filter: only the window's input span is read
            return apply_window(self.image, plan, prepared, window, index)
        if self.strength != 1.0:
            raise SettingsError(f"the lens blends filters only; {prepared.method} works on whole planes: strength 1")
        if prepared.value_exponent:
            raise ImageError(f"the lens cannot show {prepared.method} on values this far from 1; scale the image first")
        channels: list[int | None] = list(range(self.image.shape[-1])) if self.rgb else [None]
        parts = []
        for c in channels:
            here = channel_processor(plan, processor, c)
            if here.halo is not None:  # an RGBA image's alpha: bicubic, from its window's span
                plane = np.asarray(self.image[index + (slice(None), slice(None), c)])
                one = Request((factor, factor), self.settings, 1.0, False, self.device, self.nodata).plan(plane)
                parts.append(apply_window(plane, one, Prepared("bicubic", self.settings, here), window))
            else:
                parts.append(self._whole_plane_window(plan, here, factor, index, c, window))
        return np.stack(parts, axis=-1) if self.rgb else parts[0]

    def _whole_plane_window(
        self,
        plan: Plan,
        processor: TileProcessor,
        factor: float,
        index: tuple[int, ...],
        channel: int | None,
        window: tuple[slice, slice],
    ) -> np.ndarray:
        """A window of a processor that works on whole planes: from the plane's scale-independent part
        when it has one (kept per plane), else from the whole output plane (kept per plane and factor)."""
        where = index + ((slice(None), slice(None), channel) if channel is not None else ())
        split = processor.split_plane()
        if split is not None:
            key = ("part", index, channel, split.key)
            values, valid, work, part = self._planes.get(key, lambda: self._part(plan, split, where))
            if is_constant(values):  # as the whole-plane paths: the constant
                shape = (window[0].stop - window[0].start, window[1].stop - window[1].start)
                return finish_region(np.full(shape, values.flat[0], values.dtype), plan, work, valid, (0, 0), window)
            tile = compute_region(part, (0, 0), plan.plane_shapes, window, split.remainder, torch.device("cpu"))
            return finish_region(tile, plan, work, valid, (0, 0), window)
        rows, cols = plan.plane_shapes[1]
        if rows * cols > WHOLE_PLANE_LIMIT:
            raise ResourceError(
                f"the {prepared_name(processor)} processor works on whole planes: at x{factor:g} a plane is "
                f"{rows} x {cols} pixels, too large for the lens; lower its largest factor"
            )

        def whole() -> np.ndarray:
            plane = np.asarray(self.image[where])
            one = Request((factor, factor), self.settings, 1.0, False, self.device, self.nodata).plan(plane)
            whole_plane = (slice(0, rows), slice(0, cols))
            return apply_window(plane, one, Prepared("lens", self.settings, processor), whole_plane)

        return self._planes.get(("whole", index, channel, factor), whole)[window]

    def _part(self, plan: Plan, split: PlaneSplit, where: tuple[Any, ...]) -> tuple[Any, ...]:
        plane = np.asarray(self.image[where])
        if plane.ndim != 2:
            raise ImageError(f"the lens needs one 2D plane, got shape {plane.shape}")
        values, valid, work = working_values(plane, plan.dtype, plan.request.nodata, None)
        return values, valid, work, split.part(values)


def _overlap(a: tuple[slice, slice], b: tuple[slice, slice]) -> tuple[slice, slice] | None:
    """Where two windows overlap, if in at least a quarter of ``a`` (less is not worth assembling)."""
    rows = slice(max(a[0].start, b[0].start), min(a[0].stop, b[0].stop))
    cols = slice(max(a[1].start, b[1].start), min(a[1].stop, b[1].stop))
    if rows.start >= rows.stop or cols.start >= cols.stop:
        return None
    area = (rows.stop - rows.start) * (cols.stop - cols.start)
    return (rows, cols) if 4 * area >= (a[0].stop - a[0].start) * (a[1].stop - a[1].start) else None


def _local(part: tuple[slice, slice], within: tuple[slice, slice]) -> tuple[slice, slice]:
    """``part`` (output coordinates) as indices into the array of window ``within``."""
    return tuple(slice(p.start - w.start, p.stop - w.start) for p, w in zip(part, within))  # type: ignore[return-value]


def _uncovered(window: tuple[slice, slice], inner: tuple[slice, slice]) -> list[tuple[slice, slice]]:
    """``window`` less ``inner`` (inside it), as up to four rectangles: above, below, left, right."""
    (r0, r1), (c0, c1) = (window[0].start, window[0].stop), (window[1].start, window[1].stop)
    (i0, i1), (j0, j1) = (inner[0].start, inner[0].stop), (inner[1].start, inner[1].stop)
    bands = [
        (slice(r0, i0), slice(c0, c1)),
        (slice(i1, r1), slice(c0, c1)),
        (slice(i0, i1), slice(c0, j0)),
        (slice(i0, i1), slice(j1, c1)),
    ]
    return [b for b in bands if b[0].start < b[0].stop and b[1].start < b[1].stop]


def prepared_name(processor: TileProcessor) -> str:
    """A processor's class name in words, for messages."""
    return type(processor).__name__
