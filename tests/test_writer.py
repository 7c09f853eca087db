"""The napari GeoTIFF writer contribution: results saved from napari overlay their source in a GIS."""

from pathlib import Path

import numpy as np
import pytest

from napari_nssr._reader import read_file
from napari_nssr._writer import write_geotiff_layers
from napari_nssr.core.errors import ImageError

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")


def _bounds(path):
    import rasterio

    with rasterio.open(path) as ds:
        return tuple(ds.bounds), ds.crs, ds.res, ds.count, ds.nodata


def test_a_super_resolved_band_layer_saves_with_the_source_bounds(tmp_path):
    ((data, kwargs, _),) = read_file(str(SHARED / "rgbn_5m.tif"))
    metadata = dict(kwargs["metadata"])
    # what the widget adds to a x2 result of each band
    result_meta = {**metadata, "nssr": {"scale": 2.0}}
    bands = [(np.zeros((806, 1030), np.uint8), {"name": f"b{k}", "metadata": result_meta}, "image") for k in range(4)]
    written = write_geotiff_layers(str(tmp_path / "sr.tif"), bands)
    bounds, crs, res, count, _ = _bounds(written[0])
    src_bounds, src_crs, src_res, _, _ = _bounds(SHARED / "rgbn_5m.tif")
    assert bounds == pytest.approx(src_bounds) and crs == src_crs and count == 4
    assert res == pytest.approx((src_res[0] / 2, src_res[1] / 2))


def test_layers_without_georeference_are_refused(tmp_path):
    with pytest.raises(ImageError, match="no georeference"):
        write_geotiff_layers(str(tmp_path / "x.tif"), [(np.zeros((4, 4)), {"name": "x", "metadata": {}}, "image")])
