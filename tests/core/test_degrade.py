import numpy as np
import pytest

from napari_nssr.core.degrade import add_noise, blur_subsample, crop_to_multiple, div2krk_degrade, sampling_kernel
from napari_nssr.core.kernels import gaussian_kernel


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


def test_div2krk_degrade_draws_a_kernel_and_applies_it():
    hr = np.random.default_rng(0).random((48, 48))
    lr, kernel = div2krk_degrade(hr, 3, np.random.default_rng(1))
    assert lr.shape == (16, 16) and kernel.shape == (21, 21)
    np.testing.assert_allclose(lr, blur_subsample(hr, kernel, 3))
    again, _ = div2krk_degrade(hr, 3, np.random.default_rng(1))
    np.testing.assert_array_equal(lr, again)  # seeded


def test_sampling_kernel_moves_the_mass_by_half_the_scale_minus_one():
    k = sampling_kernel(gaussian_kernel(9, 1.0, 1.0), 2)
    n = k.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    assert (k * x).sum() == pytest.approx(-0.5, abs=1e-3) and (k * y).sum() == pytest.approx(-0.5, abs=1e-3)
    assert k.sum() == pytest.approx(1.0)


def test_downscaling_antialiases_with_the_stretched_cubic():
    from napari_nssr.core.degrade import cubic_antialias_kernel, downscale

    k = cubic_antialias_kernel(2)
    assert k.shape == (9, 9) and np.isclose(k.sum(), 1) and k[4, 4] == k.max()
    stripes = np.tile([0.0, 1.0], (40, 20))  # the finest pattern: it must average out, not alias
    small = downscale(stripes, (20, 20))
    assert small.shape == (20, 20) and np.abs(small[2:-2, 2:-2] - 0.5).max() < 0.01  # (mirrored edges aside)
    assert np.allclose(downscale(np.full((12, 18), 2.0), (6, 9)), 2.0)
