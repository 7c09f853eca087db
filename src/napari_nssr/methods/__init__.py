"""The methods: the interface every method implements, its registry, the one resolver of spellings,
and the built-in methods with their settings (importable from here)."""

from .base import Method, MethodSettings, Prepared, TileProcessor, get_method, method_names, register_method
from .bicubic import BicubicSettings
from .blind.estimate import BlurEstimate, estimate_blur
from .blind.solve import BlindSettings
from .deconvolution import RichardsonLucySettings, WienerSettings
from .fixed_filter import FilterSettings
from .guided.method import GuidedSettings
from .ike import IKESettings
from .psf.kernels import PSFSettings, make_psf
from .psf.method import KnownPSFSettings
from .resolve import DEFAULT_METHOD, make_request, method_menu, resolve_method, with_psf
from .zssr import ZSSRSettings

__all__ = [
    "DEFAULT_METHOD",
    "BicubicSettings",
    "BlindSettings",
    "BlurEstimate",
    "FilterSettings",
    "GuidedSettings",
    "IKESettings",
    "KnownPSFSettings",
    "Method",
    "MethodSettings",
    "PSFSettings",
    "Prepared",
    "RichardsonLucySettings",
    "TileProcessor",
    "WienerSettings",
    "ZSSRSettings",
    "estimate_blur",
    "get_method",
    "make_psf",
    "make_request",
    "method_menu",
    "method_names",
    "register_method",
    "resolve_method",
    "with_psf",
]
