"""The engine's entry points: :func:`super_resolve` for numpy or dask input, and bicubic upsampling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.progress import run_steps
from ..methods.base import Prepared
from ..methods.resolve import MethodSpec, with_psf
from .lazy import super_resolve_lazy
from .tiles import InferenceCancelled, InferenceProgress, iter_super_resolve


def _is_dask(image: Any) -> bool:
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is a dependency
        return False
    return isinstance(image, da.Array)


def super_resolve(
    image: Any,
    scale: float | tuple[float, float],
    method: MethodSpec | Prepared = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
    progress: Callable[[InferenceProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    psf: Any = None,
    nodata: float | None = None,
) -> Any:
    """Super-resolve ``image`` by ``scale``.

    Parameters
    ----------
    image : array-like
        2D, RGB(A) with channels last, or an n-D stack (numpy or dask); only the last two spatial
        axes are upsampled. Never modified.
    scale : float or tuple of float
        Factor in ``[1, 16]`` (any real, numpy scalars too), or a ``(rows, cols)`` pair.
    method : str, os.PathLike, NSSRModel, MethodSettings, Prepared or None
        ``None`` is the default method, ``"blind"`` (a filter solved for the image's own blur and
        noise). A method name (``"bicubic"``, ``"filter"``, ``"wiener"``, ``"richardson-lucy"``),
        a settings object (``WienerSettings(balance=0.1)``), a model (:class:`NSSRModel`), a
        bundled model name (``"default"``, ``"paper"``), the per-scale family ``"chain"`` or a
        model file. See :func:`~napari_nssr.methods.resolve.resolve_method`.
    strength : float
        Blends plain bicubic (0) to the method's result (1) and beyond (up to 4).
    rgb : bool or None
        Whether the last axis is colour; ``None`` guesses as napari does (3 or 4 entries).
    tile_size : int
        Side of the output tiles (memory, not results: tiled equals untiled).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    progress : callable, optional
        Called with each :class:`InferenceProgress`.
    cancel : callable, optional
        Polled after each step; returning True raises :class:`InferenceCancelled`.
    psf : str, os.PathLike or PSFSettings, optional
        Instead of ``method``: a known PSF (:class:`PSFSettings` from optics, or a PSF file) for the
        ``psf`` method, or ``"blind"``.
    nodata : float, optional
        The value of pixels without data (a GeoTIFF's nodata, a scene's zero fill; NaN allowed):
        they neither bleed into valid pixels nor get values; the result has ``nodata`` there.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Output shape ``round(H * s) x round(W * s)`` on the spatial axes, pixel-centre aligned with
        the input (output pixel ``i`` sits at input coordinate ``(i + 0.5) / s - 0.5``); the
        input's dtype (integers rounded and clipped). Dask input gives a lazy dask array.
    """
    if psf is not None:
        method = with_psf(method, psf)
    if _is_dask(image):
        return super_resolve_lazy(
            image, scale, method, strength=strength, rgb=rgb, tile_size=tile_size, device=device, nodata=nodata
        )
    steps = iter_super_resolve(
        image, scale, method, strength=strength, rgb=rgb, tile_size=tile_size, device=device, nodata=nodata
    )
    return run_steps(
        steps, progress, cancel, lambda p: InferenceCancelled(f"cancelled after {p.done} of {p.total} steps")
    )


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
    """
    return super_resolve(image, scale, "bicubic", rgb=rgb)
