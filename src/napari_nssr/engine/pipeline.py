"""The one path from a request to a result: prepare the method once, then apply it.

Every entry point goes through here: ``super_resolve`` (eager and lazy) and ``iter_super_resolve``
(``engine/api.py``), the CLI's batch, the napari widget, and a view of a window of an image:

1. ``request.plan(image)`` checks the request against the image (layout, output shape);
2. :func:`iter_prepare` lets the method look at the image (the blind estimate, the solved
   filter, the restoration's choice, a network trained on the image) and returns a
   :class:`~napari_nssr.methods.base.Prepared`. That value holds the per-image work: it can be
   kept and applied again, to the whole image or to any window of it, without preparing again;
3. one of the three ways of applying it: :func:`iter_apply` (in memory, yielding progress per
   tile), :func:`apply_lazy` (a dask array computed chunk by chunk) or :func:`apply_window` (one
   output window of one plane). All three compute each region with the same kernel
   (:func:`~.tiles.compute_region`), so they agree to float rounding.

At strength 0 nothing is prepared: the result is plain bicubic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import Any

import numpy as np

from ..core.devices import resolve_device
from ..core.errors import ImageError
from ..core.progress import InferenceProgress, PrepareProgress, drain, relay
from ..core.request import Plan, Request
from ..methods.base import Identity, Prepared, method_for_settings
from ..methods.bicubic import BicubicSettings
from . import nodata as nodata_fill
from .lazy import lazy_result, read_span, window_region
from .precision import HEADROOM, working_dtype
from .tiles import channel_processor, run_tiles


def is_lazy(image: Any) -> bool:
    """Whether ``image`` is a dask array (computed lazily, never whole)."""
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is a dependency
        return False
    return isinstance(image, da.Array)


def method_view(image: Any, plan: Plan) -> Any:
    """What the method looks at while preparing: the image, or with nodata a lazy view with the
    nodata pixels filled (fill values for the widest halo a method has)."""
    nodata = plan.request.nodata
    if nodata is None or plan.strength == 0:
        return image
    return nodata_fill.filled_view(image, plan.layout.rgb, nodata, nodata_fill.fill_radius(16, plan.scale))


def iter_prepare(image: Any, plan: Plan) -> Generator[PrepareProgress, None, Prepared]:
    """Prepare the plan's method on ``image``, yielding the method's progress (a method that trains
    on the image reports its iterations); closing the generator stops the work.

    Parameters
    ----------
    image : array-like
        The whole input (numpy or dask); read, never changed.
    plan : Plan
        The request on ``image`` (:meth:`~napari_nssr.core.request.Request.plan`).

    Returns
    -------
    Prepared
        Plain bicubic at strength 0, without preparing.
    """
    if plan.strength == 0:
        return Prepared("bicubic", BicubicSettings(), Identity())
    method = method_for_settings(plan.settings)
    exponent = value_exponent(image, plan)
    if exponent:  # values of extreme magnitude: the method sees them scaled by a power of two
        image, plan = ScaledValues(image, exponent), _scaled_plan(plan, exponent)
    prepared = yield from method.iter_prepare(method_view(image, plan), plan)
    return replace(prepared, value_exponent=exponent) if exponent else prepared


#: float images whose largest magnitude lies outside this range are computed with their values
#: multiplied by a power of two (exact) that brings it near 1e-33 (float64) or 1 (float32): the
#: methods' estimates square and
#: sum values, which over- or underflows float64 near 1e+-154 (found by the second hostile round:
#: a relative error of 1.0 at 1e-200, 0.26 at 1e200)
SAFE_MAGNITUDE = (1e-30, 1e30)


def value_exponent(image: Any, plan: Plan) -> int:
    """The power of two a float image's values are multiplied by for computing: 0 unless the largest
    finite magnitude of its representative planes lies outside :data:`SAFE_MAGNITUDE`.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import make_request
    >>> image = np.full((8, 8), 3e200)
    >>> value_exponent(image, make_request(2).plan(image))
    -776
    """
    dtype = np.dtype(image.dtype)
    if dtype.kind != "f" or 0 in tuple(image.shape):
        return 0
    sample = np.abs(np.concatenate([p.ravel() for p in plan.layout.sample_planes(image, 3, 512)]))
    finite = sample[np.isfinite(sample)]
    top = float(finite.max()) if finite.size else 0.0
    if top == 0.0 or SAFE_MAGNITUDE[0] <= top <= SAFE_MAGNITUDE[1]:
        return 0
    if top > float(np.finfo(dtype).max) / HEADROOM:  # no scaling makes the overshoot fit the type
        working_dtype(dtype, np.array([top]))  # raises its one-line refusal
    # float64 is brought near 1e-33: still computed in float64 (beyond float32's range, exact to 1e-9),
    # its squares far from float64's limits; float32 near 1
    target = -110 if dtype.itemsize == 8 else 0
    return target - math.frexp(top)[1]


class ScaledValues:
    """``image`` with its values multiplied by ``2**exponent`` when read (a view: nothing is copied)."""

    def __init__(self, image: Any, exponent: int) -> None:
        self.image, self.exponent = image, int(exponent)
        self.shape, self.dtype, self.ndim = tuple(image.shape), np.dtype(image.dtype), len(image.shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        return np.ldexp(np.asarray(self.image[key]), self.exponent).astype(self.dtype, copy=False)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = np.ldexp(np.asarray(self.image), self.exponent).astype(self.dtype, copy=False)
        return values if dtype is None else values.astype(dtype)


def _scaled_plan(plan: Plan, exponent: int) -> Plan:
    nodata = plan.request.nodata
    if nodata is None or not math.isfinite(nodata):
        return plan
    return replace(plan, request=replace(plan.request, nodata=math.ldexp(nodata, exponent)))


def prepare(image: Any, request: Request | Plan) -> Prepared:
    """The prepared method of ``request`` on ``image``: the per-image work, done once.

    Parameters
    ----------
    image : array-like
        The input (numpy or dask).
    request : Request or Plan
        What to compute (a :class:`Request` is planned on ``image`` first).

    Returns
    -------
    Prepared
        Reusable with :func:`iter_apply`, :func:`apply_lazy` and :func:`apply_window`, and by
        ``super_resolve(..., prepared=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import make_request, prepare
    >>> image = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    >>> prepared = prepare(image, make_request(2, "chain"))
    >>> prepared.method, prepared.model.name
    ('filter', 'chain-x2')
    """
    plan = request.plan(image) if isinstance(request, Request) else request
    return drain(iter_prepare(image, plan))


def iter_apply(image: Any, plan: Plan, prepared: Prepared) -> Generator[InferenceProgress, None, np.ndarray]:
    """Apply ``prepared`` to an in-memory ``image``, yielding progress per tile (or per step of a
    whole-plane processor); returns the result.

    Parameters
    ----------
    image : array-like
        Numpy (or anything ``numpy.asarray`` reads).
    plan : Plan
        The request on ``image``.
    prepared : Prepared
        From :func:`iter_prepare` on this image (or one of the same content).

    Returns
    -------
    numpy.ndarray
        The result, with the input's dtype.
    """
    plan.check_memory()
    processor = prepared.processor.blended(plan.strength)
    exponent = prepared.value_exponent
    if not exponent:
        return (yield from run_tiles(image, plan, processor, resolve_device(plan.request.device)))
    scaled = ScaledValues(image, exponent)
    device = resolve_device(plan.request.device)
    result = yield from run_tiles(scaled, _scaled_plan(plan, exponent), processor, device)
    return np.ldexp(result, -exponent).astype(result.dtype, copy=False)  # exact, nodata included


def _on_device(plan: Plan) -> Plan:
    """The plan with its device resolved (``"auto"`` to ``"cpu"`` or ``"cuda"``) and its guides left
    out: what travels with every chunk's task."""
    device = str(resolve_device(plan.request.device))
    return replace(plan, request=replace(plan.request, device=device, guides=()))


def apply_lazy(image: Any, plan: Plan, prepared: Prepared) -> Any:
    """Apply ``prepared`` to a dask array lazily: a dask array computed chunk by chunk.

    Parameters
    ----------
    image : dask.array.Array
        The input, chunked in any way.
    plan : Plan
        The request on ``image``.
    prepared : Prepared
        From :func:`iter_prepare`.

    Returns
    -------
    dask.array.Array
        Same dtype as the input, chunked ``(1, ..., tile_size, tile_size[, channels])``.
    """
    exponent = prepared.value_exponent
    processor = prepared.processor.blended(plan.strength)
    if not exponent:
        return lazy_result(image, _on_device(plan), processor)
    dtype = np.dtype(image.dtype)
    scaled = np.ldexp(image, exponent).astype(dtype)
    result = lazy_result(scaled, _on_device(_scaled_plan(plan, exponent)), processor)
    return np.ldexp(result, -exponent).astype(result.dtype)


def apply_window(
    image: Any, plan: Plan, prepared: Prepared, window: tuple[slice, slice], index: tuple[int, ...] = ()
) -> np.ndarray:
    """One window of the result: output rows and columns ``window`` of one plane, reading only the
    input it needs (numpy, dask or zarr input), equal to that window of the whole result.

    Parameters
    ----------
    image : array-like
        The input.
    plan : Plan
        The request on ``image``.
    prepared : Prepared
        From :func:`iter_prepare` (kept between windows: the per-image work is not redone).
    window : tuple of slice
        Output ``(rows, cols)``, steps of 1, within the output plane.
    index : tuple of int
        The plane's position on the leading axes (``()`` for a 2D or RGB image).

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)``, with the colour channels last for RGB; the result's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import make_request, prepare, super_resolve
    >>> from napari_nssr.engine.pipeline import apply_window
    >>> image = np.random.default_rng(0).random((64, 64), dtype=np.float32)
    >>> request = make_request(2, "chain")
    >>> plan, prepared = request.plan(image), prepare(image, request)
    >>> window = apply_window(image, plan, prepared, (slice(40, 72), slice(10, 30)))
    >>> bool(np.allclose(window, super_resolve(image, 2, "chain")[40:72, 10:30], atol=1e-6))
    True
    """
    rows, cols = plan.plane_shapes[1]
    if len(index) != plan.layout.spatial[0]:
        raise ImageError(f"a window needs the plane's index on {plan.layout.spatial[0]} leading axes, got {index}")
    bad = [w for w, n in zip(window, (rows, cols)) if w.step not in (None, 1) or not 0 <= w.start < w.stop <= n]
    if bad:
        raise ImageError(f"the window {window} is not within the output plane of {rows} x {cols} pixels")
    window = (slice(window[0].start, window[0].stop), slice(window[1].start, window[1].stop))
    if prepared.value_exponent:
        exponent = prepared.value_exponent
        unit = replace(prepared, value_exponent=0)
        values = apply_window(ScaledValues(image, exponent), _scaled_plan(plan, exponent), unit, window, index)
        return np.ldexp(values, -exponent).astype(values.dtype, copy=False)
    on_device = _on_device(plan)
    processor = prepared.processor.blended(plan.strength)
    span_rows, span_cols = read_span(on_device, processor, window)
    block = np.asarray(image[tuple(index) + (span_rows, span_cols)])
    origin = (span_rows.start, span_cols.start)
    if not plan.layout.rgb:
        return window_region(block, origin, on_device, processor, window)
    channels = [
        window_region(block[..., c], origin, on_device, channel_processor(plan, processor, c), window)
        for c in range(block.shape[-1])
    ]
    return np.stack(channels, axis=-1)


def iter_run(image: Any, request: Request, prepared: Prepared | None = None) -> Generator[InferenceProgress, None, Any]:
    """Prepare (unless ``prepared`` is given) and apply ``request`` to ``image``: in memory for numpy,
    lazily for dask. Yields one :class:`InferenceProgress` while the method prepares (``phase`` says
    which), then one per tile (in memory); returns the result.

    Parameters
    ----------
    image : array-like
        Numpy (or anything ``numpy.asarray`` reads) or dask.
    request : Request
        What to compute.
    prepared : Prepared, optional
        The method already prepared on this image.

    Returns
    -------
    numpy.ndarray or dask.array.Array
    """
    image, give_back = as_input(image)
    plan = request.plan(image)
    lazy = is_lazy(image)
    if not lazy:
        plan.check_memory()
        plan.announce_size()
    if prepared is None:
        if plan.strength > 0:
            yield InferenceProgress(0, 1, "preparing the method")
        preparing = iter_prepare(image, plan)
        prepared = yield from relay(preparing, lambda step: InferenceProgress(step.done, step.total, step.text))
    if lazy:
        return apply_lazy(image, plan, prepared)
    return give_back((yield from iter_apply(image, plan, prepared)))


def as_input(image: Any) -> tuple[Any, Callable[[np.ndarray], Any]]:
    """``image`` as an array the pipeline takes, and what turns a result back into the caller's kind.

    numpy and dask arrays pass (a dask array needs known chunk sizes); a torch tensor is read as
    numpy and its result given back as a tensor on its device; a masked array is refused (its
    mask would be ignored: pass ``image.filled(value)`` with ``nodata=value``); anything else is
    read with ``numpy.asarray``.
    """
    if isinstance(image, np.ma.MaskedArray):
        if np.ma.getmaskarray(image).any():
            raise ImageError(
                "a masked array's mask would be ignored: pass image.filled(value) with nodata=value "
                "(value outside the data, or NaN for floats)"
            )
        return np.ma.getdata(image), _unchanged
    import torch  # a dependency (the engine's CUDA path)

    if isinstance(image, torch.Tensor):
        device = image.device
        values = image.detach().cpu().numpy()
        return values, lambda result: torch.from_numpy(np.ascontiguousarray(result)).to(device)
    if is_lazy(image):
        if any(np.isnan(c) for chunks in image.chunks for c in chunks):
            raise ImageError("the dask array has unknown chunk sizes; call its compute_chunk_sizes() first")
        return image, _unchanged
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        image = np.asarray(image)
    return image, _unchanged


def _unchanged(result: Any) -> Any:
    return result
