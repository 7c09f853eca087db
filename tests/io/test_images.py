import numpy as np
import pytest

from napari_nssr.core.errors import ImageError
from napari_nssr.io.images import read_image, write_image


@pytest.mark.parametrize(
    "name, data",
    [
        ("grey.tif", np.arange(12, dtype=np.uint16).reshape(3, 4)),
        ("float.tif", np.linspace(0, 1, 24, dtype=np.float32).reshape(2, 3, 4)),
        ("rgb.tif", np.arange(36, dtype=np.uint8).reshape(3, 4, 3)),
        ("grey.png", np.arange(12, dtype=np.uint8).reshape(3, 4)),
    ],
)
def test_round_trip_keeps_values_and_dtype(tmp_path, name, data):
    path = write_image(tmp_path / name, data)
    back = read_image(path)
    assert back.dtype == data.dtype
    np.testing.assert_array_equal(back, data)


def test_refusals(tmp_path):
    with pytest.raises(ImageError, match="PNG stores only"):
        write_image(tmp_path / "f.png", np.zeros((3, 3), np.float32))
    with pytest.raises(ImageError, match="grey images only"):
        write_image(tmp_path / "rgb16.png", np.zeros((3, 3, 3), np.uint16))
    with pytest.raises(ImageError, match="cannot write"):
        write_image(tmp_path / "f.bmp", np.zeros((3, 3), np.uint8))
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.tif")
    (tmp_path / "junk.tif").write_bytes(b"junk")
    with pytest.raises(ImageError, match="could not read"):
        read_image(tmp_path / "junk.tif")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ImageError, match="unsupported"):
        read_image(tmp_path / "notes.txt")


def test_an_empty_png_is_one_line(tmp_path):
    (tmp_path / "e.png").write_bytes(b"")
    with pytest.raises(ImageError, match="^could not read .*e.png: the file is empty$"):
        read_image(tmp_path / "e.png")
    (tmp_path / "d.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(ImageError) as info:
        read_image(tmp_path / "d.png")
    assert "\n" not in str(info.value)


OME_XML = """<?xml version="1.0" encoding="UTF-8"?>
<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">
<Instrument ID="Instrument:0"><Objective ID="Objective:0" LensNA="1.3" Immersion="Oil"/></Instrument>
<Image ID="Image:0"><InstrumentRef ID="Instrument:0"/><ObjectiveSettings ID="Objective:0" RefractiveIndex="1.518"/>
<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="18" SizeY="16" SizeC="1" SizeZ="1" SizeT="1"
 PhysicalSizeX="65" PhysicalSizeXUnit="nm" PhysicalSizeY="70" PhysicalSizeYUnit="nm">
<Channel ID="Channel:0:0" SamplesPerPixel="1" EmissionWavelength="610" EmissionWavelengthUnit="nm"/>
<TiffData IFD="0" PlaneCount="1"/></Pixels></Image></OME>"""


def write_ome(path):
    import tifffile

    data = (np.random.default_rng(0).random((16, 18)) * 1000).astype(np.uint16)
    tifffile.imwrite(path, data, description=OME_XML, metadata=None)
    return path


def test_ome_tiff_optics_and_physical_size_are_read(tmp_path):
    from napari_nssr.io.images import read_header

    meta = read_header(write_ome(tmp_path / "scope.ome.tif")).meta
    assert meta.ome and meta.pixel_size == (70.0, 65.0) and meta.unit == "nm"
    assert meta.pixel_size_um == pytest.approx(0.0675)
    assert meta.optics == {"numerical_aperture": 1.3, "immersion_index": 1.518, "wavelength_um": pytest.approx(0.61)}


def test_ome_tiff_results_stay_ome_with_the_physical_size_divided(tmp_path):
    from napari_nssr.io.images import read_image_file

    _, meta = read_image_file(write_ome(tmp_path / "scope.ome.tif"))
    write_image(tmp_path / "out.ome.tif", np.zeros((32, 36), np.uint16), meta=meta.scaled((2.0, 2.0)))
    _, out = read_image_file(tmp_path / "out.ome.tif")
    assert out.ome and out.pixel_size == pytest.approx((35.0, 32.5)) and out.unit == "nm"
    assert out.optics == meta.optics  # the objective and the emission wavelength are kept


@pytest.mark.parametrize("lazy", [False, True])
def test_ome_tiff_results_keep_the_optics_in_valid_ome_xml_whatever_the_layout(tmp_path, lazy):
    import xml.etree.ElementTree as ET

    import dask.array as da
    import tifffile

    from napari_nssr.io.images import read_image_file, write_image
    from napari_nssr.io.meta import ImageMeta

    optics = {"numerical_aperture": 1.4, "immersion_index": 1.515, "wavelength_um": 0.52}
    stack = np.random.default_rng(1).random((3, 300, 260)).astype(np.float32)  # wider than a tile
    meta = ImageMeta(axes="ZYX", pixel_size=(0.1, 0.1), unit="µm", ome=True, optics=optics)
    data = da.from_array(stack, chunks=(1, 128, 128)) if lazy else stack
    write_image(tmp_path / "out.ome.tif", data, meta=meta)
    pixels, out = read_image_file(tmp_path / "out.ome.tif")
    np.testing.assert_array_equal(np.asarray(pixels), stack)  # the pages are untouched
    assert out.optics == {k: pytest.approx(v) for k, v in optics.items()} and out.pixel_size == (0.1, 0.1)
    with tifffile.TiffFile(tmp_path / "out.ome.tif") as tif:
        root = ET.fromstring(tif.ome_metadata)
    names = [child.tag.rsplit("}", 1)[-1] for child in root]
    assert names.index("Instrument") < names.index("Image")  # the order OME's schema asks for
    image = [child.tag.rsplit("}", 1)[-1] for child in root.find("{*}Image")]
    assert image.index("InstrumentRef") < image.index("ObjectiveSettings") < image.index("Pixels")
