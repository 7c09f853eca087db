import numpy as np
import pytest

from napari_nssr import GallerySettings, kernel_families, kernel_family, load_kernels, make_gallery
from napari_nssr._config import SettingsError
from napari_nssr.image_io import write_image
from napari_nssr.kernels import gaussian_kernel


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
    ],
)
def test_bad_gallery_settings(bad):
    with pytest.raises(SettingsError):
        make_gallery(GallerySettings(**bad))


def test_user_kernel_from_array_is_normalised_and_recentred():
    psf = np.zeros((9, 12))
    psf[2, 2] = 2.0
    psf[2, 4] = 2.0
    psf[2, 3] = 4.0  # centre of mass at (2, 3), off the array centre
    out = load_kernels(psf, size=7)
    assert out.shape == (1, 7, 7)
    assert out.sum() == pytest.approx(1.0)
    assert out[0, 3, 3] == pytest.approx(0.5)  # the heaviest tap lands on the centre


@pytest.mark.parametrize("suffix", [".npy", ".tif", ".png"])
def test_user_kernel_from_file(tmp_path, suffix):
    k = (gaussian_kernel(15, 2.0, 1.0, 0.3) * 60000).astype(np.uint16)
    path = tmp_path / f"psf{suffix}"
    if suffix == ".npy":
        np.save(path, k)
    else:
        write_image(path, k)
    out = load_kernels(path, size=15)
    np.testing.assert_allclose(out[0], k / k.sum(), atol=1e-6)
    g = make_gallery(GallerySettings(family="file", kernel_path=str(path), size=15))
    np.testing.assert_allclose(g, out)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.full((5, 5), np.nan), "NaN"),
        (-np.ones((5, 5)), "negative"),
        (np.zeros((5, 5)), "zero"),
        (np.ones(5), "2D"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_bad_user_kernels(bad, message):
    with pytest.raises(ValueError, match=message):
        load_kernels(bad)


def test_missing_kernel_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_kernels(tmp_path / "nope.tif")


def _rms_width(k):
    n = k.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    return float(np.sqrt((k * (x**2 + y**2)).sum() / 2))


def test_widefield_psfs_follow_the_optics():
    from napari_nssr.kernels import widefield_psf

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
