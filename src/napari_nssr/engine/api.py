"""The engine's entry points: :func:`super_resolve` for numpy or dask input, its generator form, and
bicubic upsampling. Each builds one :class:`~napari_nssr.core.request.Request` and runs the one
path of ``engine/pipeline.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np

from ..core.errors import Cancelled, ImageError, SettingsError
from ..core.layout import check_image
from ..core.progress import InferenceProgress, run_steps
from ..core.request import Request
from ..io.guides import read_guide
from ..methods.base import Prepared
from ..methods.resolve import MethodSpec, make_request
from .pipeline import iter_run


def super_resolve(
    image: Any,
    scale: float | tuple[float, float] | Request | None = None,
    method: MethodSpec | Prepared = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
    nodata: float | None = None,
    psf: Any = None,
    guide: Any = None,
    prepared: Prepared | None = None,
    progress: Callable[[InferenceProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Any:
    """Super-resolve ``image`` by ``scale``.

    Parameters
    ----------
    image : array-like
        2D, RGB(A) with channels last, or an n-D stack (numpy or dask); only the last two spatial
        axes are upsampled. Never modified.
    scale : float, tuple of float, Request or None
        Factor in ``[1, 16]`` (any real, numpy scalars too), or a ``(rows, cols)`` pair; or a whole
        :class:`~napari_nssr.core.request.Request` (then give no other option but ``prepared``,
        ``progress`` and ``cancel``). ``None`` with a ``guide``: the guide's grid sets it (its
        shape over the image's).
    method : str, os.PathLike, NSSRModel, MethodSettings, Prepared or None
        ``None`` is the default method, ``"blind"`` (a filter solved for the image's own blur and
        noise). A method name (``"bicubic"``, ``"filter"``, ``"wiener"``, ``"richardson-lucy"``),
        a settings object (``WienerSettings(balance=0.1)``), a model (:class:`NSSRModel`), a
        bundled model name (``"default"``, ``"paper"``), the per-scale family ``"chain"`` or a
        model file. See :func:`~napari_nssr.methods.resolve.resolve_method`. A :class:`Prepared`
        is that method already prepared on this image (as ``prepared=``).
    strength : float
        Blends plain bicubic (0) to the method's result (1) and beyond (up to 4).
    rgb : bool or None
        Whether the last axis is colour; ``None`` guesses as napari does (3 or 4 entries).
    tile_size : int
        Side of the output tiles (memory, not results: tiled equals untiled).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    nodata : float, optional
        The value of pixels without data (a GeoTIFF's nodata, a scene's zero fill; NaN allowed):
        they neither bleed into valid pixels nor get values; the result has ``nodata`` there.
    psf : str, os.PathLike or PSFSettings, optional
        Instead of ``method``: a known PSF (:class:`PSFSettings` from optics, or a PSF file) for the
        ``psf`` method, or ``"blind"``.
    guide : array-like, path or sequence of them, optional
        Sharper images of the same scene on the result's grid (a 2D plane or a ``(bands, rows,
        cols)`` stack each; a file is read, each band a guide; NaN or ``nodata`` pixels have no
        data): they guide the ``guided`` method, the default when a guide is given.
    prepared : Prepared, optional
        The method already prepared on this image (:func:`~napari_nssr.engine.pipeline.prepare`):
        its estimate and filter are used as they are.
    progress : callable, optional
        Called with each :class:`InferenceProgress`.
    cancel : callable, optional
        Polled after each step; returning True raises :class:`~napari_nssr.core.errors.Cancelled`.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Output shape ``round(H * s) x round(W * s)`` on the spatial axes, pixel-centre aligned with
        the input (output pixel ``i`` sits at input coordinate ``(i + 0.5) / s - 0.5``); the
        input's dtype (integers rounded and clipped). Dask input gives a lazy dask array.

    References
    ----------
    .. [1] S. Vamsidhar and R. K. Gorthi, "NSSR-DIL: Null-Shot Image Super-Resolution Using Deep
       Identity Learning", arXiv:2409.12165, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import super_resolve
    >>> image = np.random.default_rng(0).integers(0, 4000, (64, 48), dtype=np.uint16)
    >>> result = super_resolve(image, 2)
    >>> result.shape, result.dtype
    ((128, 96), dtype('uint16'))
    >>> super_resolve(image, 2.5, "chain", strength=0.5).shape
    (160, 120)
    """
    options = dict(strength=strength, rgb=rgb, tile_size=tile_size, device=device, nodata=nodata, psf=psf, guide=guide)
    if isinstance(method, Prepared):
        prepared, method = method, method.settings
    steps = iter_run(image, _request(image, scale, method, options), prepared)
    return run_steps(steps, progress, cancel, lambda p: Cancelled(f"cancelled after {p.done} of {p.total} steps"))


_DEFAULTS = dict(strength=1.0, rgb=None, tile_size=1024, device="auto", nodata=None, psf=None, guide=None)


def _request(image: Any, scale: Any, method: MethodSpec, options: dict[str, Any]) -> Request:
    """The request ``scale`` is, or the one ``scale``, ``method`` and ``options`` spell."""
    if not isinstance(scale, Request):
        options = dict(options)
        guides = guide_arrays(options.pop("guide", None))
        if scale is None:
            scale = scale_from_guides(image, guides, options.get("rgb"))
        if guides and method is None and options.get("psf") is None:
            method = "guided"
        return make_request(scale, method, guides=guides, **options)
    given = sorted(k for k, v in options.items() if v is not _DEFAULTS.get(k) and v != _DEFAULTS.get(k))
    if method is not None or given:
        extra = ", ".join((["method"] if method is not None else []) + given)
        raise SettingsError(f"a Request carries its own method and options; {extra} given beside it")
    return scale


def iter_super_resolve(
    image: Any,
    scale: float | tuple[float, float] | Request | None = None,
    method: MethodSpec | Prepared = None,
    **options: Any,
) -> Generator[InferenceProgress, None, Any]:
    """:func:`super_resolve` as a generator (for GUIs): yields :class:`InferenceProgress` while the
    method prepares (``phase`` says which), then one per tile; returns the result. Closing the
    generator stops the work.

    Parameters
    ----------
    image : array-like
        As for :func:`super_resolve`.
    scale : float, tuple of float or Request
        The factor(s), or a whole request.
    method : MethodSpec
        As for :func:`super_resolve`.
    **options
        ``strength``, ``rgb``, ``tile_size``, ``device``, ``nodata``, ``psf``, ``guide``
        (:func:`super_resolve`), and ``prepared``.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        The result, with the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import iter_super_resolve
    >>> steps = iter_super_resolve(np.ones((32, 32), np.float32), 2, "chain")
    >>> progress = next(steps)
    >>> progress.phase
    'preparing the method'
    >>> steps.close()
    """
    prepared = options.pop("prepared", None)
    if isinstance(method, Prepared):
        prepared, method = method, method.settings
    return (yield from iter_run(image, _request(image, scale, method, {**_DEFAULTS, **options}), prepared))


def guide_arrays(guide: Any) -> tuple[Any, ...]:
    """``guide`` as a tuple of arrays: one array or path, or a sequence of them (a path is read
    with its file's nodata as NaN, each band a guide)."""
    if guide is None:
        return ()
    items = [guide] if hasattr(guide, "shape") or isinstance(guide, (str, os.PathLike)) else list(guide)
    out: list[Any] = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            out.append(read_guide(item))
        else:
            out.append(item)
    return tuple(out)


def scale_from_guides(image: Any, guides: Sequence[Any], rgb: bool | None) -> tuple[float, float]:
    """The scale a guide's grid sets: its plane's shape over the image's (the same for every guide)."""
    if not guides:
        raise SettingsError("give a scale, or a guide whose grid sets it")
    if not hasattr(image, "shape"):
        image = np.asarray(image)
    layout = check_image(image, rgb)
    rows, cols = layout.plane_shape(tuple(image.shape))
    shapes = {tuple(int(n) for n in g.shape[-2:]) for g in guides}
    if len(shapes) > 1:
        raise ImageError(f"the guides lie on different grids: {sorted(shapes)}; each must be on the result's grid")
    g_rows, g_cols = shapes.pop()
    return (g_rows / rows, g_cols / cols)


def upsample_bicubic(image: Any, scale: float | tuple[float, float], rgb: bool | None = None) -> Any:
    """Plain pixel-centre bicubic upsampling on the same grid as :func:`super_resolve`.

    Parameters
    ----------
    image : array-like
        As for :func:`super_resolve`.
    scale : float or tuple of float
        Upsampling factor.
    rgb : bool or None
        Whether the last axis is colour.

    Returns
    -------
    numpy.ndarray or dask.array.Array

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import upsample_bicubic
    >>> upsample_bicubic(np.full((4, 4), 7, np.uint8), 2)[0, :3]
    array([7, 7, 7], dtype=uint8)
    """
    return super_resolve(image, scale, "bicubic", rgb=rgb)
