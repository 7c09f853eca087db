"""The one place that turns what a caller passes as ``method`` into a method and its settings.

Everything that runs a method (the engine's ``super_resolve``, the CLI, the benchmark, the demo
and the napari widgets) goes through :func:`resolve_method`, so a spelling means the same thing
everywhere:

============================  ==========================================================
``None``                       the default method, :data:`DEFAULT_METHOD` (``"blind"``)
a method name                  that method with its default settings (``"wiener"``)
a settings object              the method it belongs to, with those settings
an :class:`NSSRModel`          the ``filter`` method with that model
any other string or a path     the ``filter`` method with that model source: a bundled
                               name (``"default"``), a family (``"chain"``) or a file
============================  ==========================================================

``super_resolve(..., psf=...)`` is another way to say the same (:func:`with_psf`): ``"blind"`` is
the blind method, :class:`PSFSettings` or a PSF file the ``psf`` method with that PSF.
"""

from __future__ import annotations

import os
from typing import Any, Union

from ..core.errors import SettingsError
from ..core.layout import check_scale
from ..core.request import Request
from ..models.model import NSSRModel
from . import bicubic, deconvolution, fixed_filter, ike, zssr
from .base import Method, MethodSettings, get_method, method_for_settings, method_names
from .blind import method as blind_method
from .guided import method as guided_method
from .psf import method as psf_method
from .psf.kernels import PSFSettings
from .psf.method import KnownPSFSettings

# importing a method's module registers it; these are the package's own
BUILT_IN = (
    blind_method.Blind,
    psf_method.KnownPSF,
    fixed_filter.Filter,
    guided_method.Guided,
    bicubic.Bicubic,
    deconvolution.Wiener,
    deconvolution.RichardsonLucy,
    zssr.ZSSR,
    ike.IKE,
)

DEFAULT_METHOD = "blind"
MethodSpec = Union[str, "os.PathLike[str]", NSSRModel, MethodSettings, None]


def with_psf(spec: Any, psf: Any) -> Any:
    """The method spec ``method=spec, psf=psf`` mean together.

    Parameters
    ----------
    spec : MethodSpec or Prepared
        What was passed as ``method`` (must be None when ``psf`` is given).
    psf : str, os.PathLike, PSFSettings or None
        ``"blind"``, a PSF (optics or a file), or None.

    Returns
    -------
    MethodSpec

    Examples
    --------
    >>> from napari_nssr import PSFSettings
    >>> from napari_nssr.methods import with_psf
    >>> type(with_psf(None, PSFSettings(source="widefield"))).__name__
    'KnownPSFSettings'
    >>> with_psf(None, "blind")
    'blind'
    """
    if psf is None:
        return spec
    if spec is not None:
        raise SettingsError("give a method or a psf, not both (a psf means the 'psf' method)")
    if isinstance(psf, str) and psf == "blind":
        return "blind"
    if isinstance(psf, PSFSettings):
        return KnownPSFSettings(psf=psf)
    if isinstance(psf, (str, os.PathLike)):
        return KnownPSFSettings(psf=PSFSettings(source="file", path=str(psf)))
    raise SettingsError(f"psf must be 'blind', PSFSettings or a PSF file, got {type(psf).__name__}")


def resolve_method(spec: MethodSpec = None) -> tuple[Method, MethodSettings]:
    """The method and settings ``spec`` stands for (see the module docstring for the spellings).

    Parameters
    ----------
    spec : str, os.PathLike, NSSRModel, MethodSettings or None
        What the caller asked for.

    Returns
    -------
    tuple of (Method, MethodSettings)

    Raises
    ------
    SettingsError
        For a name that is neither a method nor a model, or an unknown kind of value.

    Examples
    --------
    >>> from napari_nssr.methods import resolve_method
    >>> method, settings = resolve_method("wiener")
    >>> method.name, settings.balance
    ('wiener', 0.02)
    >>> resolve_method("chain")[1].model
    'chain'
    """
    if spec is None:
        spec = DEFAULT_METHOD
    if isinstance(spec, MethodSettings):
        return method_for_settings(spec), spec
    if isinstance(spec, NSSRModel):
        return get_method("filter"), fixed_filter.FilterSettings(model=spec)
    if isinstance(spec, str) and spec in method_names():
        method = get_method(spec)
        return method, method.settings_type()
    if isinstance(spec, (str, os.PathLike)):
        try:
            return get_method("filter"), fixed_filter.FilterSettings(model=str(spec))
        except SettingsError as exc:
            raise SettingsError(f"{exc}; methods: {', '.join(method_menu())}") from None
    raise SettingsError(
        f"method must be a method name, a model, a model name or file, or method settings; got {type(spec).__name__}"
    )


def make_request(
    scale: Any,
    method: MethodSpec = None,
    *,
    psf: Any = None,
    strength: float = 1.0,
    rgb: bool | None = None,
    device: str = "auto",
    nodata: float | None = None,
    tile_size: int = 1024,
    guides: Any = (),
) -> Request:
    """The :class:`~napari_nssr.core.request.Request` for any spelling of a method, checked before any work.

    Parameters
    ----------
    scale : float or tuple of float
        Factor in ``[1, 16]`` (numpy scalars too), or a ``(rows, cols)`` pair.
    method : str, os.PathLike, NSSRModel, MethodSettings or None
        See :func:`resolve_method` (``None``: the default method, ``"blind"``).
    psf : str, os.PathLike or PSFSettings, optional
        Instead of ``method``: a known PSF for the ``psf`` method, or ``"blind"`` (:func:`with_psf`).
    strength : float
        0 (plain bicubic) to 4; 1 is the method's result.
    rgb : bool or None
        Whether the last axis is colour; ``None`` guesses as napari does.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    nodata : float, optional
        The value of pixels without data (NaN allowed).
    tile_size : int
        Side of the output tiles (memory, not results).
    guides : array or sequence of arrays, optional
        Auxiliary images, for a method that reads them.

    Returns
    -------
    Request

    Raises
    ------
    SettingsError
        For an unknown method or device, a bad tile size or nodata, or guides the method cannot use.
    ImageError
        For a scale or strength out of range.

    Examples
    --------
    >>> from napari_nssr import make_request
    >>> request = make_request(2, "wiener", strength=0.5)
    >>> type(request.settings).__name__, request.scale, request.strength
    ('WienerSettings', (2.0, 2.0), 0.5)
    >>> make_request(2, "chain").settings.model
    'chain'
    """
    method_, settings = resolve_method(with_psf(method, psf))
    if hasattr(guides, "shape") and hasattr(guides, "dtype"):
        guides = (guides,)
    guides = tuple(guides or ())
    if guides and not method_.takes_guides:
        raise SettingsError(f"the {method_.name} method takes no guide images")
    return Request(check_scale(scale), settings, strength, rgb, device, nodata, tile_size, guides)


def method_menu() -> list[str]:
    """Registered method names for menus.

    Returns
    -------
    list of str
        The default method first, then the other built-in ones, then any registered later.

    Examples
    --------
    >>> from napari_nssr import method_menu
    >>> method_menu()[:3]
    ['blind', 'psf', 'filter']
    """
    built_in = [m.name for m in BUILT_IN]
    rank = {name: i for i, name in enumerate(built_in)}
    return sorted(method_names(), key=lambda name: rank.get(name, len(rank)))
