import numpy as np
import pytest
from scipy import ndimage

from napari_nssr.methods.guided.lowpass import Lowpass
from napari_nssr.methods.guided.regression import (
    apply_round_filters,
    estimate_lowpass,
    filtered,
    fit_round_filters,
    local_gains,
    ring_kernels,
    solve_small,
)


def test_rings_partition_a_round_filter():
    rings = ring_kernels(2)
    assert len(rings) == 6 and all(k.shape == (5, 5) for k in rings)
    # each ring averages its taps; together they cover every tap once
    assert all(k.sum() == pytest.approx(1.0) for k in rings)
    assert np.array_equal(sum((k > 0).astype(int) for k in rings), np.ones((5, 5), int))
    for k in rings:
        np.testing.assert_array_equal(k, k.T)
        np.testing.assert_array_equal(k, k[::-1])
    assert ring_kernels(0)[0].shape == (1, 1)


def test_round_filters_fitted_on_the_coarse_grid_recover_a_known_relation():
    rng = np.random.default_rng(3)
    guides = [ndimage.gaussian_filter(rng.normal(size=(160, 160)), s).astype(np.float32) * 50 for s in (0.6, 1.2)]
    lowpass = Lowpass(2, 0.0)
    rings = ring_kernels(1)
    true = [0.7 * rings[0] + 0.2 * rings[1], -0.4 * rings[0] + 0.1 * rings[2]]
    fine = 12.0 + sum(filtered(g, h) for g, h in zip(guides, true))
    offset, filters = fit_round_filters(lowpass.down(fine), guides, lowpass, 1, ridge=0.0)
    assert offset == pytest.approx(12.0, abs=1e-2)
    for got, want in zip(filters, true):
        np.testing.assert_allclose(got, want, atol=1e-3)
    np.testing.assert_allclose(apply_round_filters(guides, offset, filters), fine, atol=0.05)


def test_solve_small_matches_numpy():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(3, 3, 5, 6))  # 5 x 6 pixels, each its 3 x 3 system, laid out (n, n, H, W)
    a = np.einsum("ij...,kj...->ik...", a, a) + 3 * np.eye(3)[:, :, None, None]  # symmetric positive definite
    b = rng.normal(size=(3, 5, 6))
    want = np.linalg.solve(np.moveaxis(a, (0, 1), (-2, -1)), np.moveaxis(b, 0, -1)[..., None])[..., 0]
    got = solve_small(a.copy(), b.copy())
    np.testing.assert_allclose(np.moveaxis(got, 0, -1), want, rtol=1e-9)


def test_local_gains_follow_a_relation_that_changes_across_the_scene():
    rng = np.random.default_rng(5)
    feature = ndimage.gaussian_filter(rng.normal(size=(64, 96)), 1.0).astype(np.float32) * 10 + 100
    gain = np.where(np.arange(96) < 48, 2.0, -1.0).astype(np.float32)[None, :].repeat(64, 0)
    target = (gain * feature + 30).astype(np.float32)
    slopes = local_gains(target, [feature], window=1, shrink=1e-4)
    assert slopes.shape == (1, 64, 96)
    assert np.median(slopes[0, :, :40]) == pytest.approx(2.0, abs=0.02)
    assert np.median(slopes[0, :, 56:]) == pytest.approx(-1.0, abs=0.02)


def test_local_gains_keep_pixels_without_data_out_of_the_fits():
    rng = np.random.default_rng(6)
    feature = ndimage.gaussian_filter(rng.normal(size=(48, 48)), 1.0).astype(np.float32) * 10
    target = 3.0 * feature
    weight = np.ones(feature.shape, bool)
    weight[20:28, 20:28] = False
    spoiled = target.copy()
    spoiled[~weight] = 1e6  # a fill value nobody may read
    clean = local_gains(target, [feature], 1, 1e-4)
    masked = local_gains(spoiled, [feature], 1, 1e-4, weight=weight)
    far = np.ones(feature.shape, bool)
    far[16:32, 16:32] = False
    np.testing.assert_allclose(masked[0][far], clean[0][far], atol=1e-3)
    assert np.abs(masked[0][weight]).max() < 10  # the fill never becomes a gain


@pytest.mark.parametrize("true_sigma", [0.0, 1.0])
def test_the_estimate_finds_the_footprint_the_band_was_made_with(scene, true_sigma):
    lowpass = Lowpass(2, true_sigma)
    coarse = lowpass.down(scene["truth"])
    chosen, scores = estimate_lowpass(coarse, [scene["guide"]], 2)
    assert chosen.sigma == pytest.approx(true_sigma)
    assert len(scores) == 5
