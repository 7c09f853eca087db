"""The blind method's estimate of an image's own blur and noise."""

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr.core.errors import ImageError
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.blind.estimate import MIN_NOISE, estimate_blur, representative_plane
from napari_nssr.objectives.chain import random_natural_image


@pytest.mark.parametrize("sigma", [1.0, 1.5, 2.0])
def test_estimate_recovers_a_known_gaussian_blur_within_10_percent(sigma, rng):
    image = ndimage.gaussian_filter(random_natural_image(256, 2.0, rng), sigma, mode="wrap")
    estimate = estimate_blur(image)
    assert estimate.sigma == pytest.approx(sigma, rel=0.10)
    assert 1.5 <= estimate.alpha <= 3.0


@pytest.mark.parametrize("noise", [0.01, 0.03])
def test_estimate_recovers_white_noise_within_10_percent(noise, rng):
    clean = ndimage.gaussian_filter(random_natural_image(256, 2.0, rng), 1.0, mode="wrap")
    noisy = clean + rng.normal(0.0, noise, clean.shape)
    # reported for an image scaled to std 0.25, the chain prior's convention
    expected = noise * 0.25 / noisy.std()
    assert estimate_blur(noisy).noise == pytest.approx(expected, rel=0.10)
    # and the scale of the intensities does not matter
    assert estimate_blur(1000 * noisy).noise == pytest.approx(estimate_blur(noisy).noise, rel=1e-6)


@pytest.mark.parametrize("angle", [0.0, np.pi / 4, 2.0])
def test_estimate_recovers_an_anisotropic_blur_and_its_direction(angle, rng):
    image = random_natural_image(256, 2.0, rng)
    blurred = ndimage.convolve(image, gaussian_kernel(25, 2.0, 1.0, angle), mode="wrap")
    major, minor, found = estimate_blur(blurred).axes
    # measured over seeds: widths 4% to 11% low (the safe side), direction within 5 degrees
    assert 0.85 * 2.0 <= major <= 1.02 * 2.0
    assert 0.78 * 1.0 <= minor <= 1.02 * 1.0
    difference = abs((found - angle + np.pi / 2) % np.pi - np.pi / 2)
    assert difference < np.radians(8)


def test_tiny_images_get_a_round_estimate(rng):
    image = ndimage.gaussian_filter(random_natural_image(24, 2.0, rng), 1.0, mode="wrap")
    estimate = estimate_blur(image)
    c_xx, c_xy, c_yy = estimate.covariance
    assert c_xy == 0.0 and c_xx == pytest.approx(c_yy)
    assert np.isfinite(estimate.sigma) and estimate.noise > 0


def test_flat_tiny_and_bad_images(rng):
    assert estimate_blur(np.full((32, 32), 0.3)).noise == MIN_NOISE
    with pytest.raises(ImageError, match="16x16"):
        estimate_blur(rng.random((8, 40)))
    bad = rng.random((32, 32))
    bad[3, 3] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        estimate_blur(bad)


def test_the_representative_plane_is_the_middle_one():
    stack = np.arange(3 * 4 * 5, dtype=float).reshape(3, 4, 5)
    np.testing.assert_array_equal(representative_plane(stack, None), stack[1])
    rgb = np.ones((4, 5, 3)) * [1.0, 2.0, 6.0]
    np.testing.assert_allclose(representative_plane(rgb, None), 3.0)
