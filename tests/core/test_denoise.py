"""Non-local means at unit noise: it removes most of the noise of a smooth plane and leaves a flat one flat."""

import numpy as np
from scipy import ndimage

from napari_nssr.core.denoise import denoise_unit_noise


def test_most_unit_noise_is_removed_from_a_smooth_plane(rng):
    clean = 20 * ndimage.gaussian_filter(rng.standard_normal((96, 96)), 4.0)
    noisy = clean + rng.standard_normal(clean.shape)  # unit noise, as after the Anscombe transform
    denoised = denoise_unit_noise(noisy, 0.8)
    before = np.mean((noisy - clean) ** 2)
    after = np.mean((denoised - clean) ** 2)
    assert after < before / 3  # measured: about a fifth
    assert denoised.dtype == np.float64 and denoised.shape == clean.shape


def test_a_flat_plane_stays_flat():
    flat = np.full((40, 40), 7.5)
    np.testing.assert_allclose(denoise_unit_noise(flat, 0.8), flat, rtol=0, atol=1e-9)


def test_large_planes_are_denoised_tile_by_tile_as_one_and_can_stop_between_tiles(rng, monkeypatch):
    import napari_nssr.core.denoise as denoise

    plane = rng.standard_normal((150, 130)) + np.linspace(0, 10, 130)[None]
    whole = denoise.denoise_unit_noise(plane, 0.8)  # one tile
    monkeypatch.setattr(denoise, "TILE", 64)  # 3 x 3 tiles
    steps = denoise.iter_denoise_unit_noise(plane, 0.8)
    said = [next(steps) for _ in range(2)]
    assert said == ["denoising part 1 of 9", "denoising part 2 of 9"]
    steps.close()  # stops there
    np.testing.assert_allclose(denoise.denoise_unit_noise(plane, 0.8), whole, rtol=0, atol=1e-9)


def test_a_plane_of_any_range_is_denoised_in_its_own_units(rng):
    # 16-bit quantisation: a range of 10^5 noise stds gets fewer levels, the result stays in place
    ramp = np.linspace(0, 1e5, 200)[None] + rng.standard_normal((64, 200))
    denoised = denoise_unit_noise(ramp, 0.8)
    assert np.abs(denoised - ramp).max() < 5 and abs(denoised.mean() - ramp.mean()) < 0.1
    np.testing.assert_array_equal(denoise_unit_noise(np.empty((0, 5)), 0.8).shape, (0, 5))
