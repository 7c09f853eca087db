"""The napari reader contribution (no viewer needed: it returns layer data)."""

import numpy as np
import pytest
import tifffile

from napari_nssr._reader import get_reader, read_tiff


def test_tiffs_are_read_with_their_calibration_and_metadata(tmp_path):
    data = np.zeros((2, 8, 9), np.uint16)
    tifffile.imwrite(
        tmp_path / "z.tif", data, imagej=True, resolution=(1 / 0.2, 1 / 0.2), metadata={"axes": "ZYX", "unit": "um"}
    )
    reader = get_reader(str(tmp_path / "z.tif"))
    assert reader is read_tiff and get_reader(str(tmp_path / "z.png")) is None
    ((layer_data, kwargs, kind),) = reader(str(tmp_path / "z.tif"))
    assert kind == "image" and layer_data.shape == (2, 8, 9)
    assert kwargs["scale"] == pytest.approx((1.0, 0.2, 0.2)) and kwargs["units"][-1] == "micrometer"
    record = kwargs["metadata"]["nssr_file"]
    assert record["axes"] == "ZYX" and record["pixel_size_um"] == pytest.approx(0.2)


def test_a_geotiff_keeps_its_tags_in_the_layer_metadata():
    from pathlib import Path

    path = Path(__file__).parents[1] / ".." / "shared" / "data" / "rgbn_5m.tif"
    if not path.is_file():
        pytest.skip("needs ../shared/data")
    ((_, kwargs, _),) = read_tiff(str(path))
    assert kwargs["rgb"] is True and "33550" in kwargs["metadata"]["nssr_file"]["geo_tags"]
