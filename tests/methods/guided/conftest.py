"""Small synthetic scenes for the guided method: a band, its sharper companions, and degradations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage


def scene_band(rng: np.random.Generator, side: int = 128) -> np.ndarray:
    """A band-like image: smooth fields with sharp-edged patches (fields, roads, water), positive."""
    base = ndimage.gaussian_filter(rng.normal(size=(side, side)), 6) * 40 + 500
    patches = np.zeros((side, side))
    for _ in range(25):
        r, c = rng.integers(0, side, 2)
        h, w = rng.integers(3, side // 4, 2)
        patches[r : r + h, c : c + w] += rng.normal(0, 60)
    detail = ndimage.gaussian_filter(rng.normal(size=(side, side)), 0.7) * 25
    return (base + patches + detail).astype(np.float32)


@pytest.fixture
def scene() -> dict[str, np.ndarray]:
    """``truth`` (fine band), ``guide`` (another band of the same scene: the same detail, other gains
    and a little noise of its own), ``other`` (an unrelated scene), ``noise`` (pure noise)."""
    rng = np.random.default_rng(7)
    truth = scene_band(rng)
    guide = (0.8 * truth + 0.15 * ndimage.gaussian_filter(truth, 4) + rng.normal(0, 2, truth.shape) + 40).astype(
        np.float32
    )
    other = scene_band(np.random.default_rng(99))
    noise = (rng.normal(0, 60, truth.shape) + 500).astype(np.float32)
    return {"truth": truth, "guide": guide, "other": other, "noise": noise}


def psnr(truth: np.ndarray, result: np.ndarray, shave: int = 4) -> float:
    t = truth[shave:-shave, shave:-shave].astype(np.float64)
    r = result[shave:-shave, shave:-shave].astype(np.float64)
    span = float(t.max() - t.min())
    return float(10 * np.log10(span**2 / np.mean((t - r) ** 2)))
