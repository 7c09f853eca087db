import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.kernels import (
    GallerySettings,
    disk_kernel,
    fit_kernel_size,
    gaussian_kernel,
    kernel_families,
    kernel_family,
    make_gallery,
    motion_kernel,
    normalise_kernels,
    widefield_psf,
)


def test_paper_gallery_defaults():
    g = make_gallery()
    assert g.shape == (3200, 21, 21) and g.dtype == np.float32
    np.testing.assert_allclose(g.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert (g >= 0).all()


def test_gallery_is_seeded():
    a = make_gallery(GallerySettings(count=10, seed=3))
    b = make_gallery(GallerySettings(count=10, seed=3))
    c = make_gallery(GallerySettings(count=10, seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def _second_moments(k):
    half = k.shape[0] // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    return (k * y * y).sum(), (k * x * x).sum(), (k * x).sum(), (k * y).sum()


def test_gaussian_kernel_widths_and_rotation():
    k = gaussian_kernel(41, 3.0, 1.0, 0.0)
    vy, vx, mx, my = _second_moments(k)
    assert vx == pytest.approx(9.0, rel=1e-3) and vy == pytest.approx(1.0, rel=1e-3)
    assert abs(mx) < 1e-9 and abs(my) < 1e-9
    rotated = gaussian_kernel(41, 3.0, 1.0, np.pi / 2)
    np.testing.assert_allclose(rotated, k.T, atol=1e-12)


def test_sigma_as_variance_or_std():
    common = dict(family="isotropic_gaussian", count=1, size=41, sigma_min=4.0, sigma_max=4.0)
    var_k = make_gallery(GallerySettings(sigma_is="variance", **common))[0]
    std_k = make_gallery(GallerySettings(sigma_is="std", **common))[0]
    assert _second_moments(var_k.astype(np.float64))[0] == pytest.approx(4.0, rel=1e-3)
    assert _second_moments(std_k.astype(np.float64))[0] == pytest.approx(16.0, rel=1e-3)


def test_div2krk_family_is_centred_and_noisy():
    g = make_gallery(GallerySettings(family="div2krk", count=5, scale=4))
    for k in g.astype(np.float64):
        _, _, mx, my = _second_moments(k)
        assert abs(mx) < 1e-2 and abs(my) < 1e-2
    assert not np.allclose(g[0], g[0].T)  # anisotropic with per-tap noise


def test_registering_a_family_is_one_function():
    @kernel_family("test_box")
    def box(settings, rng):
        k = np.zeros((settings.count, settings.size, settings.size))
        k[:, settings.size // 2 - 1 : settings.size // 2 + 2, settings.size // 2 - 1 : settings.size // 2 + 2] = 1
        return k

    assert "test_box" in kernel_families()
    g = make_gallery(GallerySettings(family="test_box", count=2, size=7))
    np.testing.assert_allclose(g[0][2:5, 2:5], 1 / 9, rtol=1e-6)


@pytest.mark.parametrize(
    "bad",
    [
        dict(size=20),
        dict(size=1),
        dict(count=0),
        dict(sigma_min=3, sigma_max=1),
        dict(sigma_min=0),
        dict(sigma_is="fwhm"),
        dict(family="nope"),
        dict(family="file"),
        dict(count=True),
    ],
)
def test_bad_gallery_settings(bad):
    with pytest.raises(SettingsError):
        make_gallery(GallerySettings(**bad))


def _rms_width(k):
    n = k.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    return float(np.sqrt((k * (x**2 + y**2)).sum() / 2))


def test_widefield_psfs_follow_the_optics():
    base = GallerySettings(family="widefield", size=21)
    focus = widefield_psf(base)
    assert focus.shape == (21, 21) and focus.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(focus, focus[::-1, ::-1], atol=1e-6)  # centred and symmetric
    assert focus.argmax() == 21 * 10 + 10
    # defocus and a lower numerical aperture widen it; longer wavelengths too
    assert _rms_width(widefield_psf(base, 0.8)) > _rms_width(focus)
    from dataclasses import replace

    assert _rms_width(widefield_psf(replace(base, numerical_aperture=0.8))) > _rms_width(focus)
    assert _rms_width(widefield_psf(replace(base, wavelength_um=0.7))) > _rms_width(focus)
    gallery = make_gallery(replace(base, count=6, size=15, defocus_um=1.0))
    assert gallery.shape == (6, 15, 15) and np.allclose(gallery.sum(axis=(1, 2)), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("numerical_aperture", 1.6, "numerical_aperture"),
        ("numerical_aperture", 0.0, "numerical_aperture"),
        ("wavelength_um", 520.0, "wavelength_um"),
        ("pixel_um", 0.0, "pixel_um"),
        ("defocus_um", -1.0, "defocus_um"),
        ("immersion_index", 0.5, "immersion_index"),
    ],
)
def test_widefield_settings_are_validated(field, value, message):
    from dataclasses import replace

    with pytest.raises(SettingsError, match=message):
        replace(GallerySettings(family="widefield"), **{field: value}).validate()


def test_disk_and_motion_kernels_sum_to_one_and_have_their_size():
    disk = disk_kernel(21, 3.0)
    assert disk.sum() == pytest.approx(1.0) and disk[10, 10] > 0 and disk[10, 15] == 0
    motion = motion_kernel(21, 8.0, 0.0)
    assert motion.sum() == pytest.approx(1.0)
    assert _rms_width(motion) > _rms_width(gaussian_kernel(21, 1.0, 1.0))  # long along its direction


def test_normalise_and_fit_kernels():
    k = normalise_kernels(np.ones((3, 3)) * 4)
    assert k.shape == (1, 3, 3) and k.dtype == np.float32 and k.sum() == pytest.approx(1.0)
    fitted = fit_kernel_size(np.pad(np.ones((3, 3)), ((0, 6), (0, 2))), 7)
    assert fitted.shape == (7, 7) and fitted[2:5, 2:5].sum() == pytest.approx(9.0)
