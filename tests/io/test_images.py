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
