"""The psf method: a filter solved for a known PSF at the image's own noise and spectral slope."""

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.core.degrade import add_noise, blur_subsample
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.request import Request
from napari_nssr.methods.psf.kernels import PSFSettings, make_psf
from napari_nssr.methods.psf.method import KnownPSF, KnownPSFSettings, known_psf_model
from napari_nssr.methods.resolve import resolve_method, with_psf
from napari_nssr.objectives.chain import random_natural_image

OPTICS = PSFSettings(source="widefield", numerical_aperture=1.2, wavelength_um=0.6, pixel_um=0.12, size=21)


@pytest.fixture(scope="module")
def widefield_case():
    rng = np.random.default_rng(8)
    hr = ndimage.gaussian_filter(random_natural_image(192, 2.0, rng), 0.5, mode="wrap")
    lr = blur_subsample(hr, make_psf(OPTICS, 2), 2)
    lr = add_noise(lr, rng, gaussian_sigma=0.003).astype(np.float32)
    return hr, lr


def _error(hr, image, m=8):
    return float(np.mean((image[m:-m, m:-m] - hr[m:-m, m:-m]) ** 2))


def test_the_known_psf_restores_better_than_blind_and_bicubic(widefield_case):
    hr, lr = widefield_case
    known = _error(hr, super_resolve(lr, 2, psf=OPTICS))
    blind = _error(hr, super_resolve(lr, 2, "blind"))
    bicubic = _error(hr, upsample_bicubic(lr, 2))
    assert known < 0.9 * blind and known < 0.7 * bicubic


def test_noisier_images_get_gentler_filters_and_the_record_says_why(widefield_case):
    _, lr = widefield_case
    noisy = add_noise(lr, np.random.default_rng(1), gaussian_sigma=0.05).astype(np.float32)
    settings = KnownPSFSettings(psf=OPTICS)
    clean, gentle = known_psf_model(lr, 2, None, settings), known_psf_model(noisy, 2, None, settings)
    assert gentle.noise_gain < clean.noise_gain and gentle.dc_gain == pytest.approx(1.0, abs=1e-5)
    record = clean.training["psf"]
    assert record["psf_source"] == "widefield" and record["noise"] < gentle.training["psf"]["noise"]
    assert 1.0 <= record["alpha"] <= 3.5 and record["psf_width_hr"] > 1.0


def test_natural_spectrum_fixes_the_slope_at_two(widefield_case):
    _, lr = widefield_case
    model = known_psf_model(lr, 2, None, KnownPSFSettings(psf=OPTICS, spectrum="natural"))
    assert model.training["psf"]["alpha"] == 2.0


def test_bound_keeps_the_blind_estimate_between_the_optics_limits(widefield_case):
    _, lr = widefield_case
    settings = KnownPSFSettings(psf=OPTICS, use="bound", bound_margin=0.2)
    prepared = KnownPSF().prepare(lr, Request((2.0, 2.0), settings).plan(lr))
    estimate = prepared.describe()["estimate"]
    low, high = estimate["optics_bounds_hr"]
    assert high == pytest.approx(1.2 * low, rel=0.05)
    assert low - 1e-9 <= estimate["minor_hr"] <= estimate["major_hr"] <= high + 1e-9


def test_psf_argument_is_the_psf_method(widefield_case, tmp_path):
    _, lr = widefield_case
    np.testing.assert_array_equal(super_resolve(lr, 2, psf=OPTICS), super_resolve(lr, 2, KnownPSFSettings(psf=OPTICS)))
    np.testing.assert_array_equal(super_resolve(lr, 2, psf="blind"), super_resolve(lr, 2, "blind"))
    np.save(tmp_path / "psf.npy", make_psf(OPTICS, 2))
    from_file = resolve_method(with_psf(None, tmp_path / "psf.npy"))
    assert from_file[0].name == "psf" and from_file[1].psf.source == "file"
    with pytest.raises(SettingsError, match="not both"):
        super_resolve(lr, 2, "chain", psf=OPTICS)
    with pytest.raises(SettingsError, match="psf must be"):
        super_resolve(lr, 2, psf=3)
