import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.kernels import GallerySettings, gaussian_kernel, make_gallery
from napari_nssr.io.images import write_image
from napari_nssr.io.kernel_files import load_kernels


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
    with pytest.raises(SettingsError, match=message):
        load_kernels(bad)


def test_missing_kernel_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_kernels(tmp_path / "nope.tif")


def test_the_file_family_reads_its_kernels(tmp_path):
    stack = np.stack([gaussian_kernel(9, s, s) for s in (1.0, 2.0)])
    np.save(tmp_path / "two.npy", stack)
    gallery = make_gallery(GallerySettings(family="file", kernel_path=str(tmp_path / "two.npy"), size=9))
    assert gallery.shape == (2, 9, 9)
