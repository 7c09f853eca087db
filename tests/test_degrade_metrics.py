import numpy as np
import pytest

from napari_nssr.degrade import add_noise, blur_subsample, crop_to_multiple
from napari_nssr.kernels import gaussian_kernel
from napari_nssr.metrics import luminance, psnr_y, ssim_y


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_subsampling_is_pixel_centre_aligned(scale):
    # a linear ramp survives any symmetric blur; LR pixel j must sit at HR position s*j + (s-1)/2
    ramp = np.tile(np.arange(96, dtype=np.float64), (96, 1))
    lr = blur_subsample(ramp, gaussian_kernel(9, 1.0, 1.0), scale)
    j = np.arange(lr.shape[1])
    np.testing.assert_allclose(lr[10, 3:-3], (scale * j + (scale - 1) / 2)[3:-3], atol=1e-3)


def test_blur_subsample_rgb_and_shapes():
    hr = np.random.default_rng(0).random((24, 36, 3))
    lr = blur_subsample(hr, gaussian_kernel(7, 1.0, 1.0), 3)
    assert lr.shape == (8, 12, 3)
    with pytest.raises(ValueError):
        blur_subsample(hr, gaussian_kernel(7, 1.0, 1.0), 1.5)


def test_crop_to_multiple():
    assert crop_to_multiple(np.zeros((25, 31, 3)), 12).shape == (24, 24, 3)
    assert crop_to_multiple(np.zeros((25, 31)), 4).shape == (24, 28)


def test_noise_has_the_asked_level():
    rng = np.random.default_rng(0)
    noisy = add_noise(np.full((200, 200), 0.5), rng, gaussian_sigma=0.1)
    assert noisy.std() == pytest.approx(0.1, rel=0.05)
    poisson = add_noise(np.full((200, 200), 0.5), rng, poisson_peak=100)
    assert poisson.mean() == pytest.approx(0.5, rel=0.02)


def test_metrics():
    img = np.random.default_rng(0).random((32, 32, 3))
    assert psnr_y(img, img) == np.inf
    assert ssim_y(img, img) == pytest.approx(1.0)
    shifted = np.clip(img + 0.01, 0, 1)
    assert 30 < psnr_y(img, shifted, shave=2) < 60
    assert luminance(np.ones((4, 4))).max() == pytest.approx(235.0)
    with pytest.raises(ValueError):
        psnr_y(img, img[:10])
