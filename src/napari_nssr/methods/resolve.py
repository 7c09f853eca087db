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
from collections.abc import Generator
from typing import Any, Union

from ..core.errors import SettingsError
from ..core.layout import Layout, check_scale
from ..core.progress import PrepareProgress, drain
from ..models.model import NSSRModel
from . import bicubic, deconvolution, fixed_filter, ike, known_psf, zssr
from .base import Method, MethodSettings, Prepared, get_method, method_for_settings, method_names
from .blind import method as blind_method
from .known_psf import KnownPSFSettings
from .psf import PSFSettings

# importing a method's module registers it; these are the package's own
BUILT_IN = (
    blind_method.Blind,
    known_psf.KnownPSF,
    fixed_filter.Filter,
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


def prepare_method(image: Any, scale: Any, spec: MethodSpec = None, rgb: bool | None = None) -> Prepared:
    """Resolve ``spec`` and let the method look at ``image`` at ``scale``.

    Parameters
    ----------
    image : array-like
        The input (numpy or dask).
    scale : float or tuple of float
        Upsampling factor (checked).
    spec : MethodSpec
        See :func:`resolve_method`.
    rgb : bool or None
        Whether the last axis is colour.

    Returns
    -------
    Prepared
        The tile processor and the record of what the method did.
    """
    return drain(iter_prepare_method(image, scale, spec, rgb))


def iter_prepare_method(
    image: Any, scale: Any, spec: MethodSpec = None, rgb: bool | None = None
) -> Generator[PrepareProgress, None, Prepared]:
    """:func:`prepare_method` as a generator of the method's :class:`PrepareProgress` (a method
    that trains on the image reports its iterations); closing it stops the work.

    Parameters
    ----------
    image, scale, spec, rgb
        As for :func:`prepare_method`.

    Returns
    -------
    Prepared
    """
    method, settings = resolve_method(spec)
    layout = Layout.of(tuple(int(n) for n in image.shape), rgb)
    return (yield from method.iter_prepare(image, check_scale(scale), layout, settings))


def method_menu() -> list[str]:
    """Registered method names for menus.

    Returns
    -------
    list of str
        The default method first, then the other built-in ones, then any registered later.
    """
    built_in = [m.name for m in BUILT_IN]
    rank = {name: i for i, name in enumerate(built_in)}
    return sorted(method_names(), key=lambda name: rank.get(name, len(rank)))
