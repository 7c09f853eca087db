"""The napari reader contribution (no viewer needed: it returns layer data)."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile

from napari_nssr._reader import PYRAMID_SMALLEST, get_reader, read_file
from napari_nssr.io.images import write_image
from napari_nssr.io.meta import ImageMeta

SHARED = Path(__file__).parents[1] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")


def test_tiffs_are_read_with_their_calibration_and_metadata(tmp_path):
    data = np.zeros((2, 8, 9), np.uint16)
    tifffile.imwrite(
        tmp_path / "z.tif", data, imagej=True, resolution=(1 / 0.2, 1 / 0.2), metadata={"axes": "ZYX", "unit": "um"}
    )
    reader = get_reader(str(tmp_path / "z.tif"))
    assert reader is read_file and get_reader(str(tmp_path / "z.png")) is None
    ((layer_data, kwargs, kind),) = reader(str(tmp_path / "z.tif"))
    assert kind == "image" and layer_data.shape == (2, 8, 9)
    assert kwargs["scale"] == pytest.approx((1.0, 0.2, 0.2)) and kwargs["units"][-1] == "micrometer"
    record = kwargs["metadata"]["nssr_file"]
    assert record["axes"] == "ZYX" and record["pixel_size_um"] == pytest.approx(0.2)


@needs_data
def test_a_colour_geotiff_is_placed_on_the_map():
    ((data, kwargs, _),) = read_file(str(SHARED / "aerial_osbs.tif"))
    assert data.shape == (400, 400, 3) and kwargs["rgb"] is True
    # 10 cm pixels; pixel (0, 0)'s centre half a pixel from the corner (404211.9, 3285142.9)
    assert kwargs["scale"] == pytest.approx((0.1, 0.1))
    assert kwargs["translate"] == pytest.approx((-(3285142.9 - 0.05), 404211.9 + 0.05))
    record = kwargs["metadata"]["nssr_file"]
    assert "32617" in record["geo"]["crs"] and record["nodata"] == 255


@needs_data
def test_a_multiband_geotiff_opens_one_layer_per_band():
    ((data, kwargs, _),) = read_file(str(SHARED / "rgbn_5m.tif"))
    assert data.shape == (4, 403, 515) and kwargs["channel_axis"] == 0 and len(kwargs["name"]) == 4
    assert "rgb" not in kwargs or kwargs["rgb"] is False
    assert kwargs["scale"] == pytest.approx((5.0, 5.0))


def test_large_files_open_lazily_as_a_pyramid(tmp_path, monkeypatch):
    import napari_nssr.io.tiff as tiff

    monkeypatch.setattr(tiff, "LAZY_BYTES", 1000)
    tifffile.imwrite(tmp_path / "big.tif", np.ones((2 * PYRAMID_SMALLEST + 8, 2 * PYRAMID_SMALLEST), np.uint8))
    ((levels, kwargs, _),) = read_file(str(tmp_path / "big.tif"))
    assert kwargs["multiscale"] is True and isinstance(levels[0], da.Array)
    assert [level.shape for level in levels] == [(2056, 2048), (1028, 1024)]


def test_ome_zarr_opens_with_its_physical_size_and_origin(tmp_path):
    write_image(
        tmp_path / "a.zarr",
        np.zeros((20, 30), np.uint16),
        meta=ImageMeta(pixel_size=(0.5, 0.5), unit="um", origin=(3.0, 4.0)),
    )
    reader = get_reader(str(tmp_path / "a.zarr"))
    ((data, kwargs, _),) = reader(str(tmp_path / "a.zarr"))
    assert data.shape == (20, 30) and kwargs["scale"] == pytest.approx((0.5, 0.5))
    assert kwargs["translate"] == pytest.approx((3.0, 4.0))


@needs_data
def test_every_file_of_the_shared_data_opens_in_the_plugin():
    files = sorted(p for p in SHARED.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
    assert len(files) >= 6
    for path in files:
        reader = get_reader(str(path))
        assert reader is not None, path
        ((data, kwargs, kind),) = reader(str(path))
        assert kind == "image" and min(np.asarray(data).shape[-2:]) >= 3, path
        assert kwargs["metadata"]["nssr_file"]["path"] == str(path)
