"""Non-local means at unit noise: it removes most of the noise of a smooth plane and leaves a flat one flat."""

import numpy as np
from scipy import ndimage

from napari_nssr.core.denoise import denoise_unit_noise


def test_most_unit_noise_is_removed_from_a_smooth_plane(rng):
    clean = 20 * ndimage.gaussian_filter(rng.standard_normal((96, 96)), 4.0)
    noisy = clean + rng.standard_normal(clean.shape)  # unit noise, as after the Anscombe transform
    denoised = denoise_unit_noise(noisy, 0.5)
    before = np.mean((noisy - clean) ** 2)
    after = np.mean((denoised - clean) ** 2)
    assert after < before / 3  # measured: about a fifth
    assert denoised.dtype == np.float64 and denoised.shape == clean.shape


def test_a_flat_plane_stays_flat():
    flat = np.full((40, 40), 7.5)
    np.testing.assert_allclose(denoise_unit_noise(flat, 0.5), flat, rtol=0, atol=1e-9)
