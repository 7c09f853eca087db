"""Guide files checked against the result's grid (never guessed), read with their nodata."""

from __future__ import annotations

import numpy as np
import pytest

from napari_nssr.core.errors import ImageError
from napari_nssr.io.guides import (
    check_guide,
    grid_mismatch,
    guides_on_grid,
    read_guide,
    read_guide_header,
    scale_from_guide,
)
from napari_nssr.io.images import read_header

from .landsat_scene import landsat_files, needs_data

pytestmark = needs_data


@pytest.fixture
def files(tmp_path):
    return landsat_files(tmp_path)


def result_grid(files):
    header = read_header(files["coarse"])
    return header.meta.geo.scaled((2.0, 2.0)), (128, 128)


def test_a_guide_on_the_grid_passes_and_sets_the_scale(files):
    geo, shape = result_grid(files)
    guide = read_guide_header(files["b3"])
    assert grid_mismatch(guide, geo, shape) is None
    assert check_guide(guide, geo, shape, "b2", reproject=False) is False
    assert scale_from_guide(guide, read_header(files["coarse"]).meta.geo, (64, 64)) == 2.0
    (bands,) = guides_on_grid([files["b3"]], geo, shape, "b2")
    assert bands.shape == (1, 128, 128) and bands.dtype == np.float32


def test_a_misregistered_guide_is_refused_with_the_offset_named(files):
    geo, shape = result_grid(files)
    with pytest.raises(ImageError, match=r"off the result's by \+0 rows and \+0.5 columns.*--reproject-guides"):
        check_guide(read_guide_header(files["shifted"]), geo, shape, "b2", reproject=False)


def test_with_reproject_a_misregistered_guide_is_resampled_onto_the_grid(files):
    geo, shape = result_grid(files)
    assert check_guide(read_guide_header(files["shifted"]), geo, shape, "b2", reproject=True) is True
    (moved,) = guides_on_grid([files["shifted"]], geo, shape, "b2", reproject=True)
    (true,) = guides_on_grid([files["b3"]], geo, shape, "b2")
    # the file's pixels sit half a pixel east of the grid's: resampled, each grid pixel is about the
    # mean of the two file pixels it straddles, which are the true band's at the same place
    inner = np.isfinite(moved[0])
    assert inner.mean() > 0.95
    between = (true[0][:, 1:] + true[0][:, :-1]) / 2  # true[c] and true[c-1]: the file's c-1 and c
    ok = inner[:, 1:-1]
    assert np.corrcoef(moved[0][:, 1:-1][ok], between[:, :-1][ok])[0, 1] > 0.99
    assert np.corrcoef(moved[0][:, 1:-1][ok], true[0][:, 1:-1][ok])[0, 1] < 0.99  # it did move


def test_non_overlapping_and_ungeoreferenced_guides_are_refused(files):
    geo, shape = result_grid(files)
    with pytest.raises(ImageError, match="does not overlap"):
        check_guide(read_guide_header(files["far"]), geo, shape, "b2", reproject=True)
    with pytest.raises(ImageError, match="has no georeference but b2 has"):
        check_guide(read_guide_header(files["plain"]), geo, shape, "b2", reproject=True)
    with pytest.raises(ImageError, match="is georeferenced but plain is not"):
        check_guide(read_guide_header(files["b3"]), None, shape, "plain", reproject=False)
    with pytest.raises(ImageError, match="must have the result's shape"):
        check_guide(read_guide_header(files["plain"]), None, (100, 100), "plain", reproject=False)


def test_a_guides_nodata_is_nan(tmp_path, files):
    import rasterio

    from .landsat_scene import write_band

    with rasterio.open(files["b3"]) as src:
        values, transform, crs = src.read(1), src.transform, src.crs
    values[:5] = 7
    path = write_band(tmp_path / "holes.tif", values, transform, crs, nodata=7)
    bands = read_guide(path)
    assert np.isnan(bands[0, :5]).all() and np.isfinite(bands[0, 5:]).all()
    assert np.isfinite(read_guide(path, nodata="none")).all()
