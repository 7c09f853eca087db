"""The blind per-image mode: blur/noise estimate and the filter solved for it."""

import dask.array as da
import numpy as np
import pytest
from scipy import ndimage

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.blind import MIN_NOISE, blind_model, estimate_blur
from napari_nssr.chain import random_natural_image
from napari_nssr.degrade import add_noise, blur_subsample
from napari_nssr.kernels import div2krk_kernel
from napari_nssr.metrics import psnr_y
from napari_nssr.model_file import model_for_scale
from napari_nssr.samples import degraded_sample


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


def test_noisier_images_get_gentler_filters(rng):
    clean = ndimage.gaussian_filter(random_natural_image(192, 2.0, rng), 1.0, mode="wrap")
    gentle = blind_model(clean + rng.normal(0, 0.05, clean.shape), 2)
    sharp = blind_model(clean, 2)
    assert gentle.noise_gain < sharp.noise_gain
    assert gentle.dc_gain == pytest.approx(1.0, abs=1e-5) and sharp.dc_gain == pytest.approx(1.0, abs=1e-5)


def test_blind_beats_bicubic_on_a_small_degraded_photo():
    sample = degraded_sample("astronaut", 2, max_side=160)
    blind = psnr_y(sample.hr, super_resolve(sample.lr, 2, "blind"), 2)
    bicubic = psnr_y(sample.hr, upsample_bicubic(sample.lr, 2), 2)
    assert blind > bicubic + 0.5


def test_blind_holds_back_on_noisy_input_where_a_fixed_filter_does_not():
    hr = degraded_sample("astronaut", 2, max_side=160).hr
    rng = np.random.default_rng(3)
    lr = add_noise(blur_subsample(hr, div2krk_kernel(21, 2, rng), 2), rng, poisson_peak=300).astype(np.float32)
    bicubic = psnr_y(hr, upsample_bicubic(lr, 2), 2)
    assert psnr_y(hr, super_resolve(lr, 2, "blind"), 2) > bicubic
    assert psnr_y(hr, super_resolve(lr, 2, "chain"), 2) < bicubic  # why the blind mode exists


def test_blind_works_on_rgb_stacks_and_dask(rng):
    rgb = rng.random((40, 48, 3)).astype(np.float32)
    assert super_resolve(rgb, 2, "blind").shape == (80, 96, 3)
    stack = ndimage.gaussian_filter(rng.random((3, 40, 40)), (0, 1, 1)).astype(np.float32)
    lazy = super_resolve(da.from_array(stack, chunks=(1, 40, 40)), 2, "blind")
    np.testing.assert_allclose(lazy.compute(), super_resolve(stack, 2, "blind"), atol=1e-6)


def test_flat_tiny_and_bad_images(rng):
    assert estimate_blur(np.full((32, 32), 0.3)).noise == MIN_NOISE
    with pytest.raises(ValueError, match="16x16"):
        estimate_blur(rng.random((8, 40)))
    bad = rng.random((32, 32))
    bad[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimate_blur(bad)
    with pytest.raises(ValueError, match="per image"):
        model_for_scale("blind", 2)


def test_images_too_small_to_fit_get_the_family_filter_at_their_own_noise(rng):
    smooth = ndimage.gaussian_filter(random_natural_image(128, 2.0, rng), 1.0, mode="wrap")[:24, :24]
    clean, noisy = blind_model(smooth, 3), blind_model(smooth + rng.normal(0, 0.03, smooth.shape), 3)
    assert clean.name.startswith("blind-x3 (blur unknown") and noisy.name.startswith("blind-x3 (blur unknown")
    assert noisy.noise_gain < clean.noise_gain  # a fixed model would ignore the noise
    assert noisy.training["blind"]["major_hr"] is None
    assert super_resolve(rng.random((12, 16)).astype(np.float32), 2, "blind").shape == (24, 32)


@pytest.mark.parametrize("noise", [0.01, 0.03])
def test_wavelet_noise_recovers_white_noise_on_a_small_image(noise, rng):
    from napari_nssr.blind import wavelet_noise

    clean = ndimage.gaussian_filter(random_natural_image(96, 2.0, rng), 1.5, mode="wrap")[:28, :28]
    noisy = clean + rng.normal(0.0, noise, clean.shape)
    assert wavelet_noise(noisy) == pytest.approx(noise * 0.25 / noisy.std(), rel=0.25)
    assert wavelet_noise(np.full((20, 20), 0.5)) == MIN_NOISE
    noisy[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        wavelet_noise(noisy)


def test_images_smooth_in_themselves_get_the_family_filter(rng):
    from napari_nssr.blind import FAMILY_HEDGE, family_gallery, hedged_gallery, widest_blur

    # a random scene seen through optics far wider than any DIV2KRK blur, then a mild DIV2KRK-like blur
    hr = ndimage.gaussian_filter(random_natural_image(384, 2.0, rng), 4.0, mode="wrap")
    lr = blur_subsample(hr, div2krk_kernel(21, 2, np.random.default_rng(5)), 2).astype(np.float32)
    model = blind_model(lr, 2)
    assert model.name.startswith("blind-x2 (blur unknown")
    np.testing.assert_array_equal(hedged_gallery(2, 9.0, 8.0, 0.3), family_gallery(2))
    widths = [np.sqrt((k * (np.arange(21) - 10) ** 2).sum(1).sum()) for k in family_gallery(2)]
    assert widths[0] == pytest.approx(FAMILY_HEDGE[0] * widest_blur(2), rel=0.03)
    assert widths[-1] == pytest.approx(FAMILY_HEDGE[1] * widest_blur(2), rel=0.03)
    # the family filter holds back against the filter for the (capped) estimate, and still gains
    from napari_nssr.chain import ChainSettings, ChainStatistics
    from napari_nssr.model_file import NSSRModel

    capped = hedged_gallery(2, widest_blur(2), widest_blur(2), 0.0)
    h = ChainStatistics.from_kernels(capped, 2, 11, ChainSettings(noise=MIN_NOISE)).optimum()
    for_estimate = NSSRModel(filter=h.float(), name="capped", kind="closed_form")
    assert model.noise_gain < 0.8 * for_estimate.noise_gain
    assert psnr_y(hr, super_resolve(lr, 2, model), 2) > psnr_y(hr, upsample_bicubic(lr, 2), 2) + 0.5


def test_non_integer_scales_solve_at_the_nearest_integer(rng):
    image = ndimage.gaussian_filter(random_natural_image(128, 2.0, rng), 1.2, mode="wrap")
    assert blind_model(image, 2.4).name.startswith("blind-x2 ")
    assert blind_model(image, 2.6).name.startswith("blind-x3 ")
    assert super_resolve(image.astype(np.float32), 2.6, "blind").shape == (333, 333)


def test_blind_is_the_default_mode():
    lr = degraded_sample("astronaut", 2, max_side=96).lr
    np.testing.assert_array_equal(super_resolve(lr, 2), super_resolve(lr, 2, "blind"))
    assert not np.array_equal(super_resolve(lr, 2), super_resolve(lr, 2, "default"))


def test_hedged_gallery_stays_within_the_estimate_and_the_family():
    from napari_nssr.blind import WIDEST_VARIANCE_PER_SCALE, hedge, hedged_gallery

    def principal_stds(kernel):
        n = kernel.shape[0]
        y, x = np.mgrid[:n, :n] - n // 2
        cov = np.cov(np.stack([x.ravel(), y.ravel()]), aweights=kernel.ravel())
        return np.sqrt(np.linalg.eigvalsh(cov))[::-1]

    kernels = hedged_gallery(2, 2.0, 1.0, np.pi / 6)
    low, high = hedge(2)
    stds = np.array([principal_stds(k) for k in kernels])
    # never wider than the estimate (what would over-sharpen), never narrower than the hedge
    assert stds[:, 0].max() == pytest.approx(high * 2.0, rel=0.03)
    assert stds[:, 1].max() == pytest.approx(high * 1.0, rel=0.03)
    # (pixel sampling widens a narrow Gaussian a little: hence the looser tolerance)
    assert stds[:, 0].min() == pytest.approx(low * 2.0, rel=0.08)
    # the estimate's orientation is kept
    n = kernels.shape[1]
    y, x = np.mgrid[:n, :n] - n // 2
    along = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    spread_along = (kernels[-1] * (x * along[0] + y * along[1]) ** 2).sum()
    assert np.sqrt(spread_along) == pytest.approx(2.0, rel=0.03)
    # an estimate wider than any DIV2KRK kernel is capped at the family's widest
    widest = np.sqrt(WIDEST_VARIANCE_PER_SCALE * 2)
    capped = hedged_gallery(2, 4.0, 1.0, 0.0)
    assert principal_stds(capped[-1]) == pytest.approx([widest, 1.0], rel=0.03)


def test_estimates_wider_than_the_family_in_every_direction_or_in_area_are_unknown_blurs():
    from napari_nssr.blind import AREA_MARGIN, SMOOTH_MARGIN, blur_unknown, hedge, widest_blur

    w = widest_blur(4)
    assert not blur_unknown(4, w, w)  # the family's widest blur itself
    assert blur_unknown(4, 1.1 * SMOOTH_MARGIN * w, 1.01 * SMOOTH_MARGIN * w)
    # cell at x4 under motion blur: narrower than the family across the motion, far wider along it
    assert blur_unknown(4, 5.27, 3.06) and 3.06 < SMOOTH_MARGIN * w
    assert not blur_unknown(4, 3.1, 2.2)  # a typical estimate for a DIV2KRK-blurred photo at x4
    assert not blur_unknown(4, 1.1 * AREA_MARGIN * w, 0.8 * AREA_MARGIN * w)
    # from x4 on the hedge is tighter, and larger scales keep x4's
    assert hedge(2)[0] < hedge(3)[0] < hedge(4)[0] and hedge(8) == hedge(4)


@pytest.mark.parametrize("angle", [0.0, np.pi / 4, 2.0])
def test_estimate_recovers_an_anisotropic_blur_and_its_direction(angle, rng):
    from napari_nssr.kernels import gaussian_kernel

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
