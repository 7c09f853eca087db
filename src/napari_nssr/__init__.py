"""napari-nssr: null-shot super-resolution by Deep Identity Learning of an inverse kernel.

The compute API is Qt-free; the napari widgets (``_widgets``) are a thin layer over it. Layers,
from the bottom: ``core`` (layout, resampling, filters, kernels, degradation, metrics, settings,
errors), ``io`` (image and kernel files), ``objectives`` (DIL, chain), ``networks`` (the L-CNN),
``models`` (inverse filters with provenance, their files, the bundled ones), ``training``,
``methods`` (the method interface, its registry and the methods), ``engine`` (tiles, dask),
``apps`` (CLI, benchmark, demo, samples), then ``_widgets``. Imports only go downward.
"""

from ._version import __version__
from .core.errors import (
    Cancelled,
    ImageError,
    ImageTypeError,
    ModelFileError,
    NSSRError,
    OutputExistsError,
    ResourceError,
    SettingsError,
    TrainingError,
)
from .core.kernels import GallerySettings, kernel_families, kernel_family, make_gallery
from .engine.api import super_resolve, upsample_bicubic
from .engine.tiles import InferenceCancelled, InferenceProgress, iter_super_resolve
from .io.kernel_files import load_kernels
from .methods.base import Method, MethodSettings, Prepared, TileProcessor, get_method, register_method
from .methods.bicubic import BicubicSettings
from .methods.blind.estimate import BlurEstimate, estimate_blur
from .methods.blind.solve import BlindSettings
from .methods.deconvolution import RichardsonLucySettings, WienerSettings
from .methods.fixed_filter import FilterSettings
from .methods.ike import IKESettings
from .methods.known_psf import KnownPSFSettings
from .methods.psf import PSFSettings, make_psf
from .methods.resolve import DEFAULT_METHOD, method_menu, prepare_method, resolve_method
from .methods.zssr import ZSSRSettings
from .models.bundled import bundled_models, load_model, model_for_scale
from .models.files import save_model
from .models.model import NSSRModel
from .networks.lcnn import LCNN, LCNNSettings
from .objectives.chain import ChainSettings
from .objectives.dil import DILLossSettings
from .training.presets import PAPER_RECIPE, PRESETS, train_preset
from .training.trainer import (
    TrainingCancelled,
    TrainProgress,
    TrainResult,
    TrainSettings,
    iter_train,
    solve_closed_form,
    train_model,
)

__all__ = [
    "__version__",
    # super-resolution
    "super_resolve",
    "iter_super_resolve",
    "upsample_bicubic",
    "InferenceProgress",
    "InferenceCancelled",
    # methods
    "DEFAULT_METHOD",
    "method_menu",
    "resolve_method",
    "prepare_method",
    "get_method",
    "register_method",
    "Method",
    "MethodSettings",
    "Prepared",
    "TileProcessor",
    "BicubicSettings",
    "BlindSettings",
    "FilterSettings",
    "KnownPSFSettings",
    "WienerSettings",
    "RichardsonLucySettings",
    "ZSSRSettings",
    "IKESettings",
    "PSFSettings",
    "make_psf",
    "BlurEstimate",
    "estimate_blur",
    # models
    "NSSRModel",
    "load_model",
    "save_model",
    "bundled_models",
    "model_for_scale",
    # training
    "GallerySettings",
    "LCNNSettings",
    "LCNN",
    "DILLossSettings",
    "ChainSettings",
    "TrainSettings",
    "TrainProgress",
    "TrainResult",
    "TrainingCancelled",
    "PAPER_RECIPE",
    "PRESETS",
    "iter_train",
    "train_model",
    "train_preset",
    "solve_closed_form",
    "make_gallery",
    "kernel_families",
    "kernel_family",
    "load_kernels",
    # errors
    "NSSRError",
    "SettingsError",
    "ImageError",
    "ImageTypeError",
    "ModelFileError",
    "ResourceError",
    "OutputExistsError",
    "Cancelled",
    "TrainingError",
]
