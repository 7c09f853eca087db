"""OME-Zarr: results written with physical size, origin and a pyramid; read back lazily."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr.core.errors import ImageError, OutputExistsError
from napari_nssr.io import omezarr
from napari_nssr.io.images import read_image_file, write_image
from napari_nssr.io.meta import ImageMeta


def test_round_trip_with_levels_size_and_origin(tmp_path, rng, monkeypatch):
    monkeypatch.setattr(omezarr, "PYRAMID_MIN_SIDE", 100)
    data = rng.integers(0, 60000, (2, 300, 260)).astype(np.uint16)
    meta = ImageMeta(axes="ZYX", pixel_size=(0.5, 0.25), unit="um", origin=(10.0, 20.0))
    write_image(tmp_path / "r.zarr", da.from_array(data, chunks=(1, 100, 100)), meta=meta)
    back, info = read_image_file(tmp_path / "r.zarr", lazy=True)
    assert isinstance(back, da.Array)
    np.testing.assert_array_equal(back.compute(), data)
    assert info.pixel_size == (0.5, 0.25) and info.unit == "um" and info.origin == (10.0, 20.0)
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    node = next(iter(Reader(parse_url(str(tmp_path / "r.zarr")))()))
    assert [level.shape for level in node.data] == [(2, 300, 260), (2, 150, 130)]
    level1 = node.metadata["coordinateTransformations"][1]
    assert level1[0]["scale"] == pytest.approx([1.0, 1.0, 0.5])
    assert level1[1]["translation"] == pytest.approx([0.0, 10.25, 20.125])  # 2x2 pixel centres


def test_colour_moves_to_the_channel_axis_and_outputs_are_never_clobbered(tmp_path, rng):
    rgb = rng.integers(0, 255, (30, 40, 3)).astype(np.uint8)
    write_image(tmp_path / "c.zarr", rgb, meta=ImageMeta(axes="YXS"))
    back, info = read_image_file(tmp_path / "c.zarr")
    assert info.axes == "CYX" and back.shape == (3, 30, 40)
    np.testing.assert_array_equal(np.moveaxis(back, 0, -1), rgb)
    with pytest.raises(OutputExistsError):
        write_image(tmp_path / "c.zarr", rgb)
    write_image(tmp_path / "c.zarr", rgb[:10], overwrite=True)
    assert read_image_file(tmp_path / "c.zarr")[0].shape == (3, 10, 40)
    assert [p.name for p in tmp_path.iterdir()] == ["c.zarr"]  # nothing left beside it


def test_a_folder_that_is_not_ome_zarr_is_one_line(tmp_path):
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(ImageError, match="could not read"):
        read_image_file(tmp_path / "empty.zarr")


def test_a_georeference_is_kept_beside_the_pixels_and_refused_by_png(tmp_path):
    from napari_nssr.io.meta import GeoInfo

    geo = GeoInfo("EPSG:32618", (2.5, 0.0, 792988.0, 0.0, -2.5, 2050382.0))
    write_image(tmp_path / "g.zarr", np.zeros((20, 30), np.uint8), meta=ImageMeta(geo=geo, nodata=0.0))
    _, info = read_image_file(tmp_path / "g.zarr")
    assert info.geo == geo and info.nodata == 0.0
    with pytest.raises(ImageError, match="georeference"):
        write_image(tmp_path / "g.png", np.zeros((20, 30), np.uint8), meta=ImageMeta(geo=geo))


def test_optics_are_read_from_the_ome_xml_beside_the_image_and_kept_in_results(tmp_path, rng):
    # the bioformats2raw layout: the image in group "0", the OME-XML in OME/METADATA.ome.xml
    store = tmp_path / "scope.zarr"
    image = rng.integers(0, 4000, (2, 64, 64)).astype(np.uint16)
    omezarr.write_ome_zarr(str(store / "0"), image, ImageMeta(axes="CYX", pixel_size=(0.1, 0.1), unit="um"))
    (store / "OME").mkdir()
    xml = (
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Instrument ID="Instrument:0">'
        '<Objective ID="Objective:0:0" LensNA="1.3" Immersion="Oil"/></Instrument><Image ID="Image:0">'
        '<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="64" SizeY="64" SizeZ="1" SizeC="2" '
        'SizeT="1"><Channel ID="Channel:0:0" EmissionWavelength="520" EmissionWavelengthUnit="nm"/>'
        "</Pixels></Image></OME>"
    )
    (store / "OME" / "METADATA.ome.xml").write_text(xml)
    _, meta = read_image_file(store / "0", lazy=True)
    assert meta.optics == {"numerical_aperture": 1.3, "immersion_index": 1.515, "wavelength_um": pytest.approx(0.52)}
    assert meta.pixel_size == (0.1, 0.1)
    assert read_image_file(store, lazy=True)[1].optics == meta.optics  # the store: its first image
    assert omezarr.is_ome_zarr(store / "0") and not omezarr.is_ome_zarr(store / "OME" / "METADATA.ome.xml")
    # a result written as OME-Zarr keeps them (its pixel size divided by the scale)
    out = tmp_path / "out.zarr"
    write_image(out, np.kron(image, np.ones((1, 2, 2), np.uint16)), meta=meta.scaled((2.0, 2.0)))
    _, again = read_image_file(out, lazy=True)
    assert again.optics == meta.optics and again.pixel_size == (0.05, 0.05)


def test_an_ome_zarr_without_ome_xml_has_no_optics(tmp_path, rng):
    path = tmp_path / "plain.zarr"
    omezarr.write_ome_zarr(str(path), rng.random((32, 32)).astype(np.float32), ImageMeta(axes="YX"))
    assert read_image_file(path, lazy=True)[1].optics == {}
