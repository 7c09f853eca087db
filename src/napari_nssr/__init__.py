"""napari-nssr: null-shot super-resolution by Deep Identity Learning of an inverse kernel.

The compute API is Qt-free; the napari widgets (separate modules) are a thin layer over it.
"""

from ._version import __version__
from .dil import DILLossSettings
from .inference import InferenceCancelled, iter_super_resolve, super_resolve, upsample_bicubic
from .kernels import GallerySettings, kernel_families, kernel_family, load_kernels, make_gallery
from .model import LCNN, LCNNSettings
from .model_file import ModelFileError, NSSRModel, bundled_models, load_model, save_model
from .training import (
    PAPER_RECIPE,
    PRESETS,
    TrainingCancelled,
    TrainResult,
    TrainSettings,
    iter_train,
    solve_closed_form,
    train_model,
    train_preset,
)

__all__ = [
    "__version__",
    "DILLossSettings",
    "GallerySettings",
    "InferenceCancelled",
    "LCNN",
    "LCNNSettings",
    "ModelFileError",
    "NSSRModel",
    "PAPER_RECIPE",
    "PRESETS",
    "TrainResult",
    "TrainSettings",
    "TrainingCancelled",
    "bundled_models",
    "iter_super_resolve",
    "iter_train",
    "kernel_families",
    "kernel_family",
    "load_kernels",
    "load_model",
    "make_gallery",
    "save_model",
    "solve_closed_form",
    "super_resolve",
    "train_model",
    "train_preset",
    "upsample_bicubic",
]
