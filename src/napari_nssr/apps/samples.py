"""Degraded sample images with their ground truth, made from images bundled with scikit-image.

Each sample is an HR image blurred with a seeded DIV2KRK kernel and subsampled (``degrade.py``).
The two arrays are placed in world coordinates so that they overlay: the LR image gets
``scale = s`` and ``translate = (s - 1) / 2``, the pixel-centre geometry the super-resolver uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..core.degrade import blur_subsample, crop_to_multiple
from ..core.errors import SettingsError
from ..core.kernels import div2krk_kernel
from .bench import load_test_image


@dataclass(frozen=True)
class Sample:
    """One degraded sample: ``lr`` and ``hr`` as float32 in [0, 1], and the geometry of ``lr``."""

    name: str
    lr: np.ndarray
    hr: np.ndarray
    kernel: np.ndarray
    scale: int
    rgb: bool

    @property
    def lr_translate(self) -> float:
        """World offset of the LR pixel grid, per upsampled axis."""
        return (self.scale - 1) / 2


SAMPLES = {
    "nuclei": "immunohistochemistry",  # grey: the haematoxylin (nuclear) stain of the IHC slide
    "tissue": "immunohistochemistry",  # RGB brightfield microscopy
    "astronaut": "astronaut",  # RGB photo
    "galaxies": "hubble_deep_field",  # RGB astronomy
}


@lru_cache(maxsize=8)
def degraded_sample(name: str, scale: int = 2, seed: int = 0, max_side: int = 512) -> Sample:
    """The sample ``name`` (one of :data:`SAMPLES`), degraded by ``scale`` with a kernel drawn from ``seed``."""
    if name not in SAMPLES:
        raise SettingsError(f"unknown sample {name!r}; known: {', '.join(SAMPLES)}")
    hr = load_test_image(SAMPLES[name], max_side=max_side)
    if name == "nuclei":
        hr = _nuclear_stain(hr)
    hr = crop_to_multiple(hr, scale)
    rng = np.random.default_rng(seed)
    kernel = div2krk_kernel(21, scale, rng)
    lr = np.clip(blur_subsample(hr, kernel, scale), 0.0, 1.0)
    return Sample(name, lr.astype(np.float32), hr.astype(np.float32), kernel, scale, hr.ndim == 3)


def _nuclear_stain(rgb: np.ndarray) -> np.ndarray:
    """The haematoxylin channel of a brightfield RGB image, in [0, 1]: a grey image much like a
    fluorescence nuclear stain."""
    from skimage.color import rgb2hed
    from skimage.exposure import rescale_intensity

    return rescale_intensity(rgb2hed(rgb)[..., 0], in_range="image", out_range=(0.0, 1.0))
