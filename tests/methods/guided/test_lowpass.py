import numpy as np
import pytest
from scipy import ndimage

from napari_nssr.methods.guided.lowpass import (
    Lowpass,
    average_down,
    repeat_up,
    sigma_from_mtf,
)


def test_average_down_is_the_block_mean_and_repeat_up_its_adjoint():
    rng = np.random.default_rng(0)
    fine = rng.random((12, 18)).astype(np.float32)
    coarse = average_down(fine, 3)
    np.testing.assert_allclose(coarse, fine.reshape(4, 3, 6, 3).mean(axis=(1, 3)), rtol=1e-6)
    y = rng.random((4, 6)).astype(np.float32)
    # <D x, y> = <x, D^T y> with D^T = repeat / s^2
    assert np.vdot(coarse, y) == pytest.approx(np.vdot(fine, repeat_up(y, 3) / 9), rel=1e-5)


@pytest.mark.parametrize("sigma", [0.0, 1.0])
def test_projection_makes_the_result_consistent_and_brings_it_closer_to_the_truth(sigma):
    rng = np.random.default_rng(1)
    truth = ndimage.gaussian_filter(rng.normal(size=(96, 96)), 1.5).astype(np.float32) * 100 + 300
    lowpass = Lowpass(2, sigma)
    coarse = lowpass.down(truth)
    guess = truth + rng.normal(0, 5, truth.shape).astype(np.float32)  # any estimate of the truth
    projected = lowpass.project(guess.copy(), coarse)
    # degraded back, it is the input (to float32 rounding of values near 300)
    tolerance = 2e-3 if sigma == 0 else 2e-2  # the borders, where the blur mirrors, count for the Gaussian
    assert np.abs(lowpass.down(projected) - coarse).max() < tolerance
    # an orthogonal projection onto a set that holds the truth never moves away from it
    inner = (slice(8, -8), slice(8, -8))
    assert np.linalg.norm((projected - truth)[inner]) < np.linalg.norm((guess - truth)[inner])


def test_gaussian_projection_is_consistent_away_from_the_borders():
    rng = np.random.default_rng(2)
    truth = rng.random((80, 80)).astype(np.float32) * 100
    lowpass = Lowpass(2, 1.0)
    coarse = lowpass.down(truth)
    projected = lowpass.project(np.zeros_like(truth), coarse)
    error = np.abs(lowpass.down(projected) - coarse)
    assert error[4:-4, 4:-4].max() < 1e-2  # 1e-4 of the values' range


def test_sigma_from_mtf_gives_that_mtf_at_nyquist():
    sigma = sigma_from_mtf(0.3)
    assert np.exp(-2 * np.pi**2 * sigma**2 * 0.25) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        sigma_from_mtf(1.2)


@pytest.mark.parametrize("sigma", [0.0, 1.2])
def test_an_integer_plane_is_lowpassed_in_strips_as_its_float_copy_whole(sigma):
    # a large guide is converted a strip at a time: the strips must meet without a seam
    rng = np.random.default_rng(5)
    fine = (ndimage.gaussian_filter(rng.random((1100, 60)), 2) * 60000).astype(np.uint16)
    lowpass = Lowpass(2, sigma)
    np.testing.assert_allclose(lowpass.down(fine), lowpass.down(fine.astype(np.float32)), rtol=0, atol=1e-2)


def test_the_pixel_average_projection_of_a_tall_plane_is_one_exact_step():
    rng = np.random.default_rng(6)
    fine = rng.random((3 * 150, 24)).astype(np.float32)
    coarse = rng.random((150, 8)).astype(np.float32)
    expected = fine + repeat_up(coarse - average_down(fine, 3), 3)
    projected = Lowpass(3, 0.0).project(fine.copy(), coarse)
    np.testing.assert_allclose(projected, expected, atol=1e-6)
    np.testing.assert_allclose(average_down(projected, 3), coarse, atol=1e-6)
