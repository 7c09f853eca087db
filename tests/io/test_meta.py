"""Metadata of a super-resolved copy: pixel sizes divided, origin kept, and a JSON round trip."""

import json

import pytest

from napari_nssr.io.meta import GeoInfo, ImageMeta

GEO = GeoInfo(crs="EPSG:32618", transform=(5.0, 0.0, 792988.0, 0.0, -5.0, 2050382.0), band_names=("r", ""))


def test_scaling_divides_pixel_sizes_and_keeps_the_corner():
    meta = ImageMeta(pixel_size=(0.2, 0.1), unit="um", geo=GEO).scaled((2.0, 4.0))
    assert meta.pixel_size == pytest.approx((0.1, 0.025))
    assert meta.geo.transform == pytest.approx((1.25, 0.0, 792988.0, 0.0, -2.5, 2050382.0))
    assert meta.geo.pixel_size == pytest.approx((2.5, 1.25)) and meta.geo.north_up


def test_the_centre_origin_moves_onto_the_finer_grid():
    # pixel 0's centre of the x2 grid sits a quarter of an input pixel before the input's
    meta = ImageMeta(pixel_size=(1.0, 2.0), unit="um", origin=(10.0, 20.0)).scaled((2.0, 2.0))
    assert meta.origin == pytest.approx((10.0 - 0.25, 20.0 - 0.5))


def test_the_record_survives_json():
    meta = ImageMeta(axes="CYX", pixel_size=(5.0, 5.0), unit="metre", geo=GEO, nodata=0.0, compression="lzw")
    back = ImageMeta.from_record(json.loads(json.dumps(meta.record())))
    assert back == meta
