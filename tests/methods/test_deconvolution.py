"""The classical baselines: bicubic, then Wiener or Richardson-Lucy deconvolution with a PSF."""

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.deconvolution import RichardsonLucySettings, WienerSettings
from napari_nssr.methods.psf.kernels import PSFSettings
from napari_nssr.objectives.chain import random_natural_image


@pytest.fixture(scope="module")
def blurred_case():
    rng = np.random.default_rng(4)
    hr = ndimage.gaussian_filter(random_natural_image(160, 2.0, rng), 0.7, mode="wrap")
    lr = blur_subsample(hr, gaussian_kernel(21, 1.8, 1.8), 2).astype(np.float32)
    return hr, lr


def _error(hr, image):
    m = 8
    return float(np.mean((image[m:-m, m:-m] - hr[m:-m, m:-m]) ** 2))


@pytest.mark.parametrize(
    "settings",
    [
        WienerSettings(psf=PSFSettings(sigma=1.8), balance=0.02),
        RichardsonLucySettings(psf=PSFSettings(sigma=1.8), iterations=15),
    ],
)
def test_deconvolution_with_the_true_psf_beats_bicubic(blurred_case, settings):
    hr, lr = blurred_case
    restored = super_resolve(lr, 2, settings)
    assert restored.shape == hr.shape and restored.dtype == np.float32
    assert _error(hr, restored) < 0.8 * _error(hr, upsample_bicubic(lr, 2))


@pytest.mark.parametrize("method", ["wiener", "richardson-lucy"])
def test_whole_planes_any_tile_size_strength_and_integers(blurred_case, method):
    _, lr = blurred_case
    a = super_resolve(lr, 2, method, tile_size=16)
    b = super_resolve(lr, 2, method, tile_size=4096)
    np.testing.assert_array_equal(a, b)  # whole planes: the tile size does not matter
    half = super_resolve(lr, 2, method, strength=0.5)
    np.testing.assert_allclose(half, 0.5 * (a + upsample_bicubic(lr, 2)), atol=1e-5)
    u16 = (lr * 40000).astype(np.uint16)
    out = super_resolve(u16, 2, method)
    assert out.dtype == np.uint16 and abs(float(out.mean()) - float(u16.mean())) < 0.02 * float(u16.mean())


def test_richardson_lucy_handles_negative_values():
    x = np.random.default_rng(0).normal(0.0, 1.0, (24, 24)).astype(np.float32)
    out = super_resolve(x, 2, "richardson-lucy")
    assert np.isfinite(out).all() and out.min() < 0
