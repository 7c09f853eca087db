"""Slope and noise fitted knowing the PSF, including aliases (tolerances measured over seeds)."""

import numpy as np
import pytest

from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.blind.estimate import estimate_blur
from napari_nssr.methods.psf.spectrum import fit_psf_spectrum
from napari_nssr.objectives.chain import random_natural_image


def scene(alpha, scale, psf, noise, seed=0, side=384):
    rng = np.random.default_rng(seed)
    lr = blur_subsample(random_natural_image(side, alpha, rng), psf, scale)
    noisy = lr + rng.normal(0.0, noise, lr.shape)
    return noisy, noise * 0.25 / noisy.std()  # the noise in the units of an image scaled to std 0.25


@pytest.mark.parametrize("alpha", [1.6, 2.0, 2.8])
def test_slope_and_noise_are_recovered_at_x2(alpha):
    psf = gaussian_kernel(21, 1.5, 1.5)
    image, expected = scene(alpha, 2, psf, 0.01)
    fit = fit_psf_spectrum(image, None, psf, 2)
    assert fit.alpha == pytest.approx(alpha, abs=0.3)
    assert fit.noise == pytest.approx(expected, rel=0.2)


def test_aliased_detail_is_not_taken_for_noise_at_x4():
    # a PSF narrower than one low-resolution pixel lets detail alias into the high frequencies. The
    # signal then dominates every frequency, so a small noise floor is weakly identified (measured:
    # 0.02-0.026 for true levels 0 to 0.012, about 1% of the signal at the top): the point is that
    # the aliases are not read as noise, as the blind fit reads them (0.06)
    psf = gaussian_kernel(21, 1.2, 1.2)
    image, expected = scene(2.0, 4, psf, 0.003, side=768)
    fit = fit_psf_spectrum(image, None, psf, 4)
    alpha, fitted = fit.alpha, fit.noise
    assert alpha == pytest.approx(2.0, abs=0.2) and fitted < 0.035
    assert estimate_blur(image).noise > 2 * fitted


def test_a_fixed_slope_and_a_flat_image():
    psf = gaussian_kernel(21, 1.5, 1.5)
    image, _ = scene(2.4, 2, psf, 0.01)
    assert fit_psf_spectrum(image, None, psf, 2, fixed_alpha=2.0).alpha == 2.0
    flat = fit_psf_spectrum(np.full((64, 64), 3.0), None, psf, 2)
    assert (flat.alpha, flat.noise) == (2.0, 0.0)


def test_a_given_noise_level_is_kept_and_the_slope_still_fitted():
    psf = gaussian_kernel(21, 1.2, 1.2)
    image, expected = scene(2.4, 4, psf, 0.01, side=768)
    fit = fit_psf_spectrum(image, None, psf, 4, noise=expected)
    alpha, noise = fit.alpha, fit.noise
    assert noise == pytest.approx(expected) and alpha == pytest.approx(2.4, abs=0.3)


def test_the_amplitude_compares_with_the_prior_s():
    # an image drawn from the prior itself (std 0.25 at the high resolution) has about its amplitude
    from napari_nssr.objectives.chain import ChainSettings, prior_lr_power

    psf = gaussian_kernel(21, 0.8, 0.8)
    image, _ = scene(2.0, 2, psf, 0.002)
    fit = fit_psf_spectrum(image * (0.25 / image.std()), None, psf, 2, fixed_alpha=2.0)
    prior = prior_lr_power(2.0, 2, ChainSettings(alpha=2.0)) * 4  # the prior's amplitude
    assert fit.amplitude == pytest.approx(prior, rel=0.5)
