"""Nodata: the fill never bleeds into valid pixels, nodata stays nodata, chunks equal the whole."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr.engine import nodata


@pytest.fixture
def scene(rng):
    # a rotated scene inside zero fill, as a Landsat tile's edges
    y, x = np.mgrid[:120, :150]
    valid = (x + y > 40) & (x - y < 110)
    image = (1000 + 300 * np.sin(x / 7) * np.cos(y / 5) + rng.normal(0, 10, (120, 150))).astype(np.uint16)
    image[~valid] = 0
    return image, valid


@pytest.mark.parametrize("method", ["default", "blind", "wiener"])
def test_the_fill_does_not_bleed_and_nodata_stays(scene, method):
    image, valid = scene
    out = super_resolve(image, 2, method, nodata=0)
    plain = super_resolve(image, 2, method)
    valid_out = np.kron(valid, np.ones((2, 2), bool))
    assert (out[~valid_out] == 0).all() and (out[valid_out] > 0).all()
    lowest = image[valid].min()
    # without the mask the zeros drag the scene's edge down and ring above it; with it, the edge
    # stays within the scene's own range and near the input's own values there
    assert plain[valid_out].min() < 0.9 * lowest < out[valid_out].min()
    from scipy import ndimage

    edge = valid_out & ~ndimage.binary_erosion(valid_out, iterations=3)
    own = np.kron(image.astype(np.float64), np.ones((2, 2)))[edge]

    def off(result: np.ndarray) -> float:
        return float(np.abs(result[edge].astype(np.float64) - own).mean())

    assert off(out) < 0.5 * off(plain)


def test_lazy_chunks_equal_the_whole_with_nodata(scene):
    image, _ = scene
    whole = super_resolve(image, 2, "default", nodata=0)
    lazy = super_resolve(da.from_array(image, chunks=40), 2, "default", nodata=0, tile_size=32).compute()
    np.testing.assert_array_equal(lazy, whole)


def test_nan_nodata_in_float_images(scene):
    image, valid = scene
    floats = image.astype(np.float32)
    floats[~valid] = np.nan
    out = super_resolve(floats, 2, "default", nodata=float("nan"))
    valid_out = np.kron(valid, np.ones((2, 2), bool))
    assert np.isnan(out[~valid_out]).all() and np.isfinite(out[valid_out]).all()


def test_valid_pixels_never_read_as_nodata():
    region = np.array([[0, 5], [0, 7]], np.uint8)
    valid = np.array([[True, True], [False, True]])
    assert nodata.restore(region, valid, 0).tolist() == [[1, 5], [0, 7]]


def test_the_fill_is_local():
    plane = np.arange(400, dtype=np.float64).reshape(20, 20)
    valid = np.ones((20, 20), bool)
    valid[8:12, 8:12] = False
    whole = nodata.fill(plane, valid, 3)
    part = nodata.fill(plane[4:16, 4:16], valid[4:16, 4:16], 3)
    np.testing.assert_allclose(part[4:8, 4:8], whole[8:12, 8:12])
    assert nodata.fill(plane, valid, 3)[10, 10] == pytest.approx(
        plane[valid & (abs(np.mgrid[:20, :20][0] - 10) <= 3) & (abs(np.mgrid[:20, :20][1] - 10) <= 3)].mean()
    )
