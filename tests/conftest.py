"""Shared fixtures: tiny galleries and a tiny trained model keep the suite fast."""

from __future__ import annotations

import numpy as np
import pytest

from napari_nssr import GallerySettings, TrainSettings, train_model
from napari_nssr.networks.lcnn import LCNNSettings
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


NO_DISPLAY = (
    "no X server: the napari GUI tests need one (install Xvfb with the README's apt-get line; pytest-xvfb starts it)"
)


def pytest_collection_modifyitems(config, items):
    # without an X server Qt aborts the whole run inside pytest-qt's qapp: skip the GUI tests instead
    # (pytest-xvfb, when Xvfb is installed, has set DISPLAY before collection)
    import os

    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    skip = pytest.mark.skip(reason=NO_DISPLAY)
    for item in items:
        if "widgets" in item.path.parts:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_measurements():
    """Each test measures its images anew (what the blind method keeps between scales of one image)."""
    from napari_nssr.methods.blind import solve

    solve._EVIDENCE.clear()
    yield
