"""The recipes that made the bundled models, so anyone can reproduce them (``train --preset``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..core.errors import SettingsError
from ..core.kernels import GallerySettings
from ..networks.lcnn import LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings
from .trainer import TrainResult, TrainSettings, train_model

# The paper's stated recipe: it diverges (kept to show that, and for comparison).
PAPER_RECIPE = TrainSettings(epochs=50, learning_rate=0.1, lr_step=20, lr_gamma=0.5, init="default", batch_size=32)


@dataclass(frozen=True)
class Preset:
    """Everything needed to reproduce a bundled model with ``napari-nssr train --preset``."""

    gallery: GallerySettings
    architecture: LCNNSettings
    loss: DILLossSettings
    train: TrainSettings
    description: str
    chain: ChainSettings | None = None


PRESETS: dict[str, Preset] = {
    "default": Preset(
        GallerySettings(sigma_is="variance"),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=True),
        TrainSettings(),
        "Paper loss with the filter sum held at exactly 1; sigma range read as variances "
        "(as DIV2KRK's generator does); convergent recipe.",
    ),
    "paper": Preset(
        GallerySettings(sigma_is="std"),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=False),
        TrainSettings(),
        "Paper-faithful: paper gallery and loss as written (sum not held), convergent recipe.",
    ),
}
for _scale in (2, 3, 4):
    PRESETS[f"chain-x{_scale}"] = Preset(
        GallerySettings(family="div2krk", count=300, scale=float(_scale)),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=True),
        TrainSettings(),
        f"Degradation-aware x{_scale}: blur, subsample, bicubic and filter scored on synthetic 1/f^2 images "
        "over DIV2KRK kernels for this scale; sum held at 1.",
        ChainSettings(),
    )


def train_preset(name: str, **overrides: Any) -> TrainResult:
    """Train a bundled model's preset again.

    Parameters
    ----------
    name : str
        A key of :data:`PRESETS` (the bundled models' names).
    **overrides
        Fields of its :class:`TrainSettings` to replace (``device="cpu"``, ``epochs=10``).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> from napari_nssr.training import train_preset
    >>> result = train_preset("default", epochs=20)  # the bundled recipe, briefly
    >>> result.model.size
    11
    """
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    return train_model(
        preset.gallery,
        preset.architecture,
        preset.loss,
        replace(preset.train, **overrides),
        name=name,
        chain=preset.chain,
    )
