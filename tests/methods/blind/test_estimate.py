"""The blind method's estimate of an image's own blur and noise."""

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr.core.errors import ImageError
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.blind import estimate
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


@pytest.mark.parametrize("shape", [(40, 36), (41, 37), (64, 80)])
def test_half_spectrum_cells_equal_the_full_spectrum_means(rng, shape):
    plane = rng.random(shape)
    cells = estimate._spectrum_cells(plane, estimate.SECTORS)
    # the reference: every frequency of the full spectrum binned, as before the half spectrum
    centred = plane - plane.mean()
    window = np.outer(np.hanning(shape[0]), np.hanning(shape[1]))
    power = np.abs(np.fft.fft2(centred * window)) ** 2 / (window**2).sum()
    fy = np.broadcast_to(np.fft.fftfreq(shape[0])[:, None], shape)
    fx = np.broadcast_to(np.fft.fftfreq(shape[1])[None, :], shape)
    f = np.hypot(fy, fx)
    used = (f > estimate.F_MIN) & (f <= estimate.F_MAX)
    ring = np.minimum(np.digitize(f[used], np.linspace(estimate.F_MIN, estimate.F_MAX, estimate.RINGS + 1)) - 1, 23)
    angle = np.mod(np.arctan2(fy[used], fx[used]), np.pi)
    sector = np.minimum((angle / np.pi * estimate.SECTORS).astype(int), estimate.SECTORS - 1)
    cell = ring * estimate.SECTORS + sector
    count = np.bincount(cell, minlength=estimate.RINGS * estimate.SECTORS)
    kept = count >= 4
    mean_power = np.bincount(cell, power[used], minlength=count.size)[kept] / count[kept]
    np.testing.assert_allclose(cells.log_power, np.log(mean_power), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        cells.log_f, np.bincount(cell, np.log(f[used]), minlength=count.size)[kept] / count[kept], atol=1e-12
    )


def test_the_fit_converges_so_rounding_noise_does_not_move_it(rng):
    # a clean 40x36 image (the regression set's uint16 input): the fitted noise floor goes to its
    # bound instead of creeping down until the evaluations ran out, which had left the blur
    # wherever rounding stopped it (0.217 or 0.238 for spectra 1e-15 apart)
    from dataclasses import replace
    from pathlib import Path

    x = np.load(Path(__file__).parents[2] / "data" / "regression_modes.npz")["in_u16"].astype(np.float64)
    cells = estimate._spectrum_cells(x * (0.25 / x.std()), 1)
    sigmas = []
    for _ in range(4):
        jitter = rng.choice([-1e-14, 1e-14], cells.log_power.size)
        sigmas.append(estimate._fit(replace(cells, log_power=cells.log_power + jitter), round_blur=True).sigma)
    assert max(sigmas) - min(sigmas) <= 1e-4 * max(sigmas)
