"""napari-nssr: null-shot super-resolution by Deep Identity Learning of an inverse kernel.

The names here are the few a user calls: :func:`super_resolve` and its generator form, the
request and its preparation (for views of an image that reuse the per-image work), the settings of
the methods users tune most, models and their training, and the errors. Everything else stays
importable from its subpackage (``napari_nssr.methods`` has every method's settings,
``napari_nssr.training`` the training settings and recipes, ``napari_nssr.engine.pipeline`` the
ways of applying a prepared method).

The compute API is Qt-free; the napari widgets (``_widgets``) are a thin layer over it. Layers,
from the bottom: ``core`` (layout, resampling, filters, kernels, degradation, metrics, settings,
requests, errors), ``io`` (image and kernel files), ``objectives`` (DIL, chain), ``networks`` (the
L-CNN), ``models`` (inverse filters with provenance, their files, the bundled ones), ``training``,
``methods`` (the method interface, its registry and the methods), ``engine`` (the one
prepare-then-apply path, tiles, dask), ``apps`` (CLI, benchmark, demo, samples), then
``_widgets``. Imports only go downward.
"""

from ._version import __version__
from .core.errors import Cancelled, ImageError, NSSRError, SettingsError
from .core.kernels import GallerySettings
from .core.progress import InferenceProgress
from .core.request import Request
from .engine.api import iter_super_resolve, super_resolve, upsample_bicubic
from .engine.pipeline import prepare
from .methods.base import Method, MethodSettings, Prepared, register_method
from .methods.blind.solve import BlindSettings
from .methods.fixed_filter import FilterSettings
from .methods.guided.method import GuidedSettings
from .methods.psf.kernels import PSFSettings
from .methods.psf.method import KnownPSFSettings
from .methods.resolve import make_request, method_menu
from .models.bundled import load_model
from .models.files import save_model
from .models.model import NSSRModel
from .training.trainer import TrainSettings, iter_train, train_model

__all__ = [
    "__version__",
    # super-resolution
    "super_resolve",
    "iter_super_resolve",
    "upsample_bicubic",
    "InferenceProgress",
    # one request, prepared once
    "Request",
    "make_request",
    "prepare",
    # methods
    "method_menu",
    "BlindSettings",
    "GuidedSettings",
    "KnownPSFSettings",
    "PSFSettings",
    "FilterSettings",
    "Method",
    "MethodSettings",
    "Prepared",
    "register_method",
    # models and their training
    "NSSRModel",
    "load_model",
    "save_model",
    "train_model",
    "iter_train",
    "GallerySettings",
    "TrainSettings",
    # errors
    "NSSRError",
    "SettingsError",
    "ImageError",
    "Cancelled",
]
