"""Training inverse-kernel models on a kernel gallery (no image data), the bundled models' recipes,
and the image-specific learners' training (ZSSR, IKE)."""

from ..core.kernels import GallerySettings, kernel_families, kernel_family, make_gallery
from ..networks.lcnn import LCNN, LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings
from .presets import PAPER_RECIPE, PRESETS, train_preset
from .trainer import TrainProgress, TrainResult, TrainSettings, iter_train, solve_closed_form, train_model

__all__ = [
    "LCNN",
    "PAPER_RECIPE",
    "PRESETS",
    "ChainSettings",
    "DILLossSettings",
    "GallerySettings",
    "LCNNSettings",
    "TrainProgress",
    "TrainResult",
    "TrainSettings",
    "iter_train",
    "kernel_families",
    "kernel_family",
    "make_gallery",
    "solve_closed_form",
    "train_model",
    "train_preset",
]
