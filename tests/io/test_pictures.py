"""PNG, JPEG and BMP through imageio: what PNG can hold, and pictures read only."""

import numpy as np
import pytest

from napari_nssr.core.errors import ImageError
from napari_nssr.io.formats import format_named
from napari_nssr.io.images import read_header, read_image, write_image
from napari_nssr.io.meta import GeoInfo, ImageMeta


def test_png_holds_8_and_16_bit_grey_and_8_bit_colour(tmp_path):
    for data in (np.arange(12, dtype=np.uint8).reshape(3, 4), np.full((3, 4), 60000, np.uint16)):
        write_image(tmp_path / "a.png", data, overwrite=True)
        np.testing.assert_array_equal(read_image(tmp_path / "a.png"), data)
    rgb = np.zeros((5, 6, 3), np.uint8)
    write_image(tmp_path / "c.png", rgb)
    assert read_header(tmp_path / "c.png").shape == (5, 6, 3)
    png = format_named("png")
    with pytest.raises(ImageError, match="uint8/uint16"):
        png.check_writable(np.dtype(np.float32), (4, 4), ImageMeta())
    with pytest.raises(ImageError, match="one grey or RGB"):
        png.check_writable(np.dtype(np.uint8), (2, 5, 5), ImageMeta())
    with pytest.raises(ImageError, match="georeference"):
        png.check_writable(np.dtype(np.uint8), (4, 4), ImageMeta(geo=GeoInfo("EPSG:32618", (5, 0, 0, 0, -5, 0))))


def test_jpeg_and_bmp_are_read_but_not_written(tmp_path):
    import imageio.v3 as iio

    iio.imwrite(tmp_path / "a.bmp", np.full((4, 5), 9, np.uint8))
    np.testing.assert_array_equal(read_image(tmp_path / "a.bmp"), np.full((4, 5), 9, np.uint8))
    for name in ("b.jpg", "c.bmp"):
        with pytest.raises(ImageError, match="cannot write"):
            write_image(tmp_path / name, np.zeros((3, 3), np.uint8))
    assert format_named("jpeg").results_in == "png"
