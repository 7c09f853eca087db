import math

import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.methods.psf import TYPICAL_VARIANCE_PER_SCALE, PSFSettings, make_psf


def _rms(k):
    n = k.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    return float(np.sqrt((k * x**2).sum()))


def test_gaussian_psf_given_or_typical_for_the_scale():
    assert _rms(make_psf(PSFSettings(sigma=1.5), 2)) == pytest.approx(1.5, rel=1e-3)
    assert _rms(make_psf(PSFSettings(), 4)) == pytest.approx(math.sqrt(TYPICAL_VARIANCE_PER_SCALE * 4), rel=0.02)


def test_file_psf_takes_the_middle_plane_of_a_stack(tmp_path):
    stack = np.stack([gaussian_kernel(15, s, s) for s in (3.0, 1.0, 3.0)])
    np.save(tmp_path / "psf.npy", stack)
    psf = make_psf(PSFSettings(source="file", path=str(tmp_path / "psf.npy"), size=15), 2)
    np.testing.assert_allclose(psf, stack[1], atol=1e-6)


def test_widefield_psf_narrows_with_the_numerical_aperture():
    wide = make_psf(PSFSettings(source="widefield", numerical_aperture=0.8, pixel_um=0.05, size=15), 2)
    narrow = make_psf(PSFSettings(source="widefield", numerical_aperture=1.4, pixel_um=0.05, size=15), 2)
    assert narrow.sum() == pytest.approx(1.0) and _rms(narrow) < _rms(wide)


@pytest.mark.parametrize("bad", [dict(source="file"), dict(size=20), dict(numerical_aperture=1.6), dict(sigma=-1)])
def test_bad_psf_settings(bad):
    with pytest.raises(SettingsError):
        PSFSettings(**bad)
