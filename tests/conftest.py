"""Shared fixtures: tiny galleries and a tiny trained model keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

from napari_nssr import GallerySettings, LCNNSettings, TrainSettings, train_model
from napari_nssr.objectives.dil import DILLossSettings


@pytest.fixture(scope="session")
def tiny_gallery() -> GallerySettings:
    return GallerySettings(count=48, size=15, sigma_max=3.0, sigma_is="variance", seed=1)


@pytest.fixture(scope="session")
def tiny_result(tiny_gallery):
    return train_model(
        tiny_gallery,
        LCNNSettings(depth=3, width=8),
        DILLossSettings(hold_sum_at_one=True),
        TrainSettings(epochs=400, learning_rate=3e-3, lr_step=150, device="cpu"),
        name="tiny",
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
