"""Every axis's calibration reaches the layer and the outputs: the z step of OME-TIFF, ImageJ TIFF and
OME-Zarr files (issue #28, item 3: an OME-TIFF with PhysicalSizeZ 0.4 um opened with z scale 1.0)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_nssr._reader import read_file
from napari_nssr.apps.cli import main
from napari_nssr.io.images import read_header, write_image
from napari_nssr.io.meta import ImageMeta


def _stack() -> np.ndarray:
    return (np.random.default_rng(0).random((3, 32, 28)) * 1000).astype(np.uint16)


def _write(path, kind):
    if kind == "ome.tif":
        tifffile.imwrite(
            path,
            _stack(),
            ome=True,
            metadata={
                "axes": "ZYX",
                "PhysicalSizeX": 0.13,
                "PhysicalSizeY": 0.13,
                "PhysicalSizeZ": 0.4,
                "PhysicalSizeXUnit": "µm",
                "PhysicalSizeYUnit": "µm",
                "PhysicalSizeZUnit": "µm",
            },
        )
    elif kind == "imagej.tif":
        tifffile.imwrite(
            path,
            _stack(),
            imagej=True,
            resolution=(1 / 0.13, 1 / 0.13),
            metadata={"axes": "ZYX", "unit": "um", "spacing": 0.4},
        )
    else:
        meta = ImageMeta(axes="ZYX", pixel_size=(0.13, 0.13), unit="µm", spacing=0.4)
        write_image(path, _stack(), meta=meta)


@pytest.mark.parametrize(("kind", "suffix"), [("ome.tif", ".ome.tif"), ("imagej.tif", ".tif"), ("zarr", ".zarr")])
def test_the_z_step_reaches_the_layer_and_every_output(tmp_path, kind, suffix):
    src = tmp_path / f"stack{suffix}"
    _write(src, kind)
    [(data, kwargs, _)] = read_file(str(src))
    assert kwargs["scale"] == pytest.approx((0.4, 0.13, 0.13))  # z, y, x
    assert main(["apply", str(src), "-s", "2", "--method", "bicubic", "-o", str(tmp_path / "out")]) == 0
    result = next((tmp_path / "out").iterdir())
    header = read_header(result)
    assert header.meta.spacing == pytest.approx(0.4) and header.meta.pixel_size == pytest.approx((0.065, 0.065))
    [(_, out_kwargs, _)] = read_file(str(result))
    assert out_kwargs["scale"] == pytest.approx((0.4, 0.065, 0.065))
