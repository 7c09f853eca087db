"""A request is checked when it is made: every bad value is one clear error before any image is read."""

import numpy as np
import pytest

from napari_nssr import BlindSettings, Request, make_request
from napari_nssr.core.errors import ImageError, ImageTypeError, SettingsError
from napari_nssr.methods import WienerSettings


def test_fields_are_checked_and_normalised():
    request = Request(np.float32(2), BlindSettings(), np.float64(0.5), None, "cpu", np.uint16(0), np.int64(64))
    assert request.scale == (2.0, 2.0) and request.strength == 0.5 and request.tile_size == 64
    assert request.nodata == 0.0 and isinstance(request.nodata, float)
    assert np.isnan(Request((2, 3), BlindSettings(), nodata=float("nan")).nodata)


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"scale": 0.5}, ImageError, "only upsamples"),
        ({"strength": 9}, ImageError, "strength"),
        ({"device": "tpu"}, SettingsError, "device"),
        ({"tile_size": 0}, SettingsError, "tile_size"),
        ({"nodata": "0"}, SettingsError, "nodata must be a number"),
        ({"nodata": float("inf")}, SettingsError, "finite or NaN"),
        ({"rgb": "yes"}, SettingsError, "rgb"),
        ({"settings": "blind"}, SettingsError, "settings"),
    ],
)
def test_bad_values_are_refused_on_construction(change, error, words):
    fields = {"scale": 2, "settings": BlindSettings(), **change}
    with pytest.raises(error, match=words):
        Request(**fields)


def test_a_request_at_another_scale_keeps_the_rest():
    request = Request(2, WienerSettings(), strength=0.3, tile_size=32)
    other = request.at((3, 4))
    assert other.scale == (3.0, 4.0) and other.strength == 0.3 and other.tile_size == 32


def test_the_plan_binds_a_request_to_an_image():
    plan = Request((2, 3), BlindSettings()).plan(np.zeros((5, 10, 12, 3), np.uint8))
    assert plan.layout.rgb and plan.shape == (5, 20, 36, 3) and plan.plane_shapes == ((10, 12), (20, 36))
    assert plan.dtype == np.uint8 and plan.output_bytes == 5 * 20 * 36 * 3
    with pytest.raises(ImageTypeError):
        Request(2, BlindSettings()).plan(np.zeros((4, 4), bool))


def test_make_request_takes_every_spelling_and_refuses_guides_a_method_cannot_use():
    assert type(make_request(2).settings) is BlindSettings
    assert make_request(2, "wiener").settings == WienerSettings()
    assert make_request(2, psf="blind").settings == BlindSettings()
    with pytest.raises(SettingsError, match="takes no guide"):
        make_request(2, "blind", guides=np.zeros((8, 8)))
