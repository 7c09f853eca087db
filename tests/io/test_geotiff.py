"""GeoTIFF georeference through rasterio: read from the real files, written so the bounds are equal."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest

from napari_nssr.io.geotiff import raster_info, write_geotiff
from napari_nssr.io.meta import GeoInfo

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")


@needs_data
def test_the_real_geotiffs_georeference_nodata_and_bands():
    aerial = raster_info(SHARED / "aerial_osbs.tif")
    assert aerial.colour and aerial.bands == 3 and aerial.nodata == 255 and aerial.geo.pixel_size == (0.1, 0.1)
    rgbn = raster_info(SHARED / "rgbn_5m.tif")
    assert not rgbn.colour and rgbn.bands == 4 and "32618" in rgbn.geo.crs
    assert raster_info(SHARED / "nuclei.tif").geo is None


def test_written_bands_keep_the_bounds_crs_and_nodata(tmp_path, rng):
    import rasterio
    from rasterio.crs import CRS

    geo = GeoInfo(CRS.from_epsg(32618).to_wkt(), (5.0, 0.0, 792988.0, 0.0, -5.0, 2050382.0), ("red", "nir"))
    image = rng.integers(1, 255, (2, 300, 400)).astype(np.uint8)
    write_geotiff(str(tmp_path / "src.tif"), image, geo, 0, colour=False)
    x2 = da.from_array(np.repeat(np.repeat(image, 2, 1), 2, 2), chunks=(1, 256, 256))
    steps = []
    write_geotiff(str(tmp_path / "x2.tif"), x2, geo.scaled((2, 2)), 0, False, "lzw", 256, lambda d, t: steps.append(d))
    with rasterio.open(tmp_path / "src.tif") as a, rasterio.open(tmp_path / "x2.tif") as b:
        assert b.bounds == pytest.approx(a.bounds) and b.crs == a.crs and b.nodata == 0
        assert b.res == pytest.approx((2.5, 2.5)) and b.count == 2 and b.descriptions == ("red", "nir")
        assert b.profile["compress"] == "lzw" and b.profile["tiled"]
        np.testing.assert_array_equal(b.read(), x2.compute())
    assert steps == [1, 2, 3]  # three strips of 256 rows


def test_colour_is_written_as_rgb(tmp_path, rng):
    import rasterio

    geo = GeoInfo("EPSG:32617", (0.1, 0.0, 404211.9, 0.0, -0.1, 3285142.9))
    image = rng.integers(0, 255, (40, 50, 3)).astype(np.uint8)
    write_geotiff(str(tmp_path / "rgb.tif"), image, geo, None, colour=True)
    with rasterio.open(tmp_path / "rgb.tif") as ds:
        assert [c.name for c in ds.colorinterp] == ["red", "green", "blue"]
        np.testing.assert_array_equal(ds.read().transpose(1, 2, 0), image)
