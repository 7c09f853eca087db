import math

import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.psf.kernels import TYPICAL_VARIANCE_PER_SCALE, PSFSettings, make_psf, psf_width, with_optics


def _rms(k):
    n = k.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    return float(np.sqrt((k * x**2).sum()))


def test_gaussian_psf_given_or_typical_for_the_scale():
    assert _rms(make_psf(PSFSettings(sigma=1.5), 2)) == pytest.approx(1.5, rel=1e-3)
    assert _rms(make_psf(PSFSettings(), 4)) == pytest.approx(math.sqrt(TYPICAL_VARIANCE_PER_SCALE * 4), rel=0.02)


def test_file_psf_takes_the_in_focus_plane_of_a_stack_even_with_empty_planes(tmp_path):
    stack = np.stack([np.zeros((15, 15))] + [gaussian_kernel(15, s, s) for s in (3.0, 1.0, 2.0)])
    np.save(tmp_path / "psf.npy", stack)
    psf = make_psf(PSFSettings(source="file", path=str(tmp_path / "psf.npy"), size=15), 2)
    np.testing.assert_allclose(psf, stack[2], atol=1e-6)  # the sharpest plane, not the middle one
    on_input = make_psf(PSFSettings(source="file", path=str(tmp_path / "psf.npy"), size=15, sampled_at="input"), 2)
    # resampled to the output grid (cubic interpolation of a 1 px Gaussian widens its peak a little)
    assert psf_width(on_input) == pytest.approx(2 * psf_width(psf), rel=0.1)


def test_widefield_psf_narrows_with_the_numerical_aperture():
    wide = make_psf(PSFSettings(source="widefield", numerical_aperture=0.8, pixel_um=0.05, size=15), 2)
    narrow = make_psf(PSFSettings(source="widefield", numerical_aperture=1.4, pixel_um=0.05, size=15), 2)
    assert narrow.sum() == pytest.approx(1.0) and _rms(narrow) < _rms(wide)


@pytest.mark.parametrize("bad", [dict(source="file"), dict(size=20), dict(numerical_aperture=1.6), dict(sigma=-1)])
def test_bad_psf_settings(bad):
    with pytest.raises(SettingsError):
        PSFSettings(**bad)


def test_confocal_is_narrower_than_widefield_and_widths_follow_the_optics():
    common = dict(numerical_aperture=1.2, wavelength_um=0.6, excitation_um=0.5, pixel_um=0.1, size=21)
    widefield = psf_width(make_psf(PSFSettings(source="widefield", **common), 2))
    confocal = psf_width(make_psf(PSFSettings(source="confocal", pinhole_au=0.5, **common), 2))
    assert confocal < widefield
    # the core width is close to the Gaussian approximation 0.21 lambda / NA (Zhang et al. 2007)
    assert widefield == pytest.approx(0.21 * 0.6 / 1.2 / 0.05, rel=0.25)
    assert psf_width(make_psf(PSFSettings(sigma=1.7), 2)) == pytest.approx(1.7, rel=1e-3)


def test_with_optics_takes_the_file_s_values_except_the_ones_given():
    base = PSFSettings(source="widefield")
    optics = {"numerical_aperture": 1.3, "wavelength_um": 0.61, "immersion_index": 1.518}
    filled = with_optics(base, optics, 0.065, keep=frozenset({"wavelength_um"}))
    assert (filled.numerical_aperture, filled.immersion_index, filled.pixel_um) == (1.3, 1.518, 0.065)
    assert filled.wavelength_um == base.wavelength_um
    assert with_optics(PSFSettings(source="gaussian"), optics, 0.065) == PSFSettings(source="gaussian")
