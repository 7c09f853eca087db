"""Poisson-Gaussian noise: the estimate from one image, the stabilising transform and its unbiased
inverse, and the noise setting's forms."""

import math

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr.core.errors import ImageError, SettingsError
from napari_nssr.core.noise import NoiseModel, estimate_noise_model, parse_noise


def smooth_texture(rng: np.random.Generator, side: int = 256) -> np.ndarray:
    """A blurred random texture spanning about [0.05, 1]: smooth, like a microscope's image."""
    field = ndimage.gaussian_filter(rng.standard_normal((side, side)), 3.0)
    field = (field - field.min()) / (field.max() - field.min())
    return 0.05 + 0.95 * field


@pytest.mark.parametrize("photons", [100, 1000])
def test_poisson_gaussian_noise_is_measured_from_the_image(rng, photons):
    truth = NoiseModel(1.0 / photons, 2.0 / photons)  # [0, 1] image: 1.0 is `photons` photons, read 2
    clean = smooth_texture(rng)
    noisy = rng.poisson(clean * photons) / photons + rng.normal(0, 2.0 / photons, clean.shape)
    found = estimate_noise_model(noisy)
    # what the filter uses: the noise power over the image, within 15%
    assert found.mean_std(clean) == pytest.approx(truth.mean_std(clean), rel=0.15)
    # the growth with the signal: bright places noisier than dark ones, within 30% at both ends
    for level in (0.2, 0.9):
        assert math.sqrt(found.variance(level)) == pytest.approx(math.sqrt(truth.variance(level)), rel=0.3)


def test_white_noise_is_measured_as_white(rng):
    clean = smooth_texture(rng)
    noisy = clean + rng.normal(0, 0.02, clean.shape)
    found = estimate_noise_model(noisy)
    assert found.mean_std(clean) == pytest.approx(0.02, rel=0.15)
    assert math.sqrt(found.variance(1.0)) < 1.3 * math.sqrt(found.variance(0.05)) + 1e-12  # no growth


def test_planes_are_pooled_and_clipped_places_left_out(rng):
    photons = 300
    planes = []
    for _ in range(3):
        clean = smooth_texture(rng, 128)
        noisy = rng.poisson(clean * photons) / photons
        planes.append(np.minimum(noisy, 0.7))  # a saturated detector: 0.7 is its ceiling
    found = estimate_noise_model(planes)
    below = np.concatenate([p[p < 0.7] for p in planes])
    assert found.mean_std(below) == pytest.approx(NoiseModel(1 / photons, 0).mean_std(below), rel=0.2)


def test_bad_planes_are_clear_errors(rng):
    with pytest.raises(ImageError, match="32x32"):
        estimate_noise_model(rng.random((20, 50)))
    bad = rng.random((64, 64))
    bad[3, 3] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        estimate_noise_model(bad)
    with pytest.raises(ImageError, match="clipped"):
        estimate_noise_model(np.zeros((64, 64)))


def test_stabilised_noise_has_unit_variance(rng):
    model = NoiseModel(1.0 / 50, 2.0 / 50)  # 50 photons for 1.0, 2 photons of read noise
    for signal in (0.2, 0.5, 1.0):  # 10 to 50 photons
        samples = rng.poisson(signal * 50, 200_000) / 50 + rng.normal(0, 2.0 / 50, 200_000)
        assert model.stabilise(samples).var() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("photons", [0.5, 2.0, 10.0, 100.0])
def test_the_inverse_is_unbiased_where_the_algebraic_one_is_not(rng, photons):
    model = NoiseModel(1.0, 1.0)  # unit gain: values are photons; read noise 1 photon
    samples = rng.poisson(photons, 1_000_000) + rng.normal(0, 1.0, 1_000_000)
    mean_transformed = model.stabilise(samples).mean()
    # Monte Carlo error of the mean: a few thousandths of a photon; the inverse's own error smaller
    assert model.unstabilise(mean_transformed) == pytest.approx(photons, abs=0.02 + 0.002 * photons)
    if photons <= 2:  # the plain algebraic inverse is off by far more at low counts
        algebraic = (mean_transformed / 2) ** 2 - 0.375 - 1.0
        assert abs(algebraic - photons) > 0.2


def test_camera_parameters_and_white_noise_round_trip():
    camera = NoiseModel.from_camera(gain=2.0, offset=100.0, read_noise=1.5)  # DN per electron, DN, electrons
    assert camera.variance(300.0) == pytest.approx(2.0 * 200 + (2.0 * 1.5) ** 2)
    values = np.array([150.0, 1000.0, 4000.0])
    assert np.allclose(camera.unstabilise(camera.stabilise(values)), values, rtol=0.01)
    white = NoiseModel.white(0.1)
    assert np.allclose(white.unstabilise(white.stabilise(values)), values)


def test_noise_settings_read_every_form():
    assert parse_noise("auto") == "auto"
    assert parse_noise(" OFF ") == "off"
    assert parse_noise("white") == "white"
    assert parse_noise("0.01") == 0.01
    assert parse_noise("gain=2,offset=100,read=1.5") == NoiseModel.from_camera(2.0, 100.0, 1.5)
    for bad in ("loud", "-1", "gain=0", "offset=3", "gain=x", "nan"):
        with pytest.raises(SettingsError):
            parse_noise(bad)


def test_split_gives_two_copies_with_independent_noise_of_twice_the_variance():
    rng = np.random.default_rng(5)
    model = NoiseModel(gain=0.5, read_std=1.0, offset=10.0)
    signal = np.full((256, 256), 60.0)  # 100 photons
    photons = rng.poisson((signal - model.offset) / model.gain)
    noisy = model.gain * photons + model.offset + rng.normal(0.0, model.read_std, signal.shape)
    first, second, half = model.split(noisy, np.random.default_rng(6))
    a, b = first - signal, second - signal
    assert abs(float(np.corrcoef(a.ravel(), b.ravel())[0, 1])) < 0.02  # the noisy image's own are 1.0
    expected = float(half.variance(signal).mean())
    assert half.gain == 1.0 and half.read_std == pytest.approx(np.sqrt(2.0)) and half.offset == 10.0
    assert float(a.var()) == pytest.approx(expected, rel=0.05) and float(b.var()) == pytest.approx(expected, rel=0.05)
    np.testing.assert_allclose((first + second) / 2, noisy)


@pytest.mark.parametrize("factor", [2.0**-990, 1e-200, 1e200, 2.0**990])
def test_the_estimate_scales_with_the_image_whatever_its_units(factor):
    rng = np.random.default_rng(9)
    signal = smooth_texture(rng, 128) * 200.0
    image = rng.poisson(signal).astype(np.float64)
    base, scaled = estimate_noise_model(image), estimate_noise_model(image * factor)
    assert scaled.gain == pytest.approx(base.gain * factor, rel=1e-6)
    assert scaled.read_std == pytest.approx(base.read_std * factor, rel=1e-6, abs=1e-300)
