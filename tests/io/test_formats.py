"""Formats register like methods: one class, and the CLI, the batch and the napari reader offer it."""

from pathlib import Path

import numpy as np
import pytest
import yaml

import napari_nssr
from napari_nssr.core.errors import ImageError
from napari_nssr.io import formats
from napari_nssr.io.formats import ImageFormat, ImageHeader, format_for, format_named, napari_patterns, register_format
from napari_nssr.io.images import output_formats, read_image_file, write_image
from napari_nssr.io.meta import ImageMeta


def test_the_most_specific_format_claims_a_file():
    assert format_for("scope.ome.tif").name == "ome.tif" and format_for("scope.OME.TIFF").name == "ome.tif"
    assert format_for("scene.TIF").name == "tif" and format_for("cells.zarr").name == "zarr"
    assert format_for("photo.jpeg").name == "jpeg" and format_for("notes.txt") is None
    assert format_for("scope.ome.tif").stem("dir/scope.ome.tif") == "scope"
    assert format_for("a.TIFF").result_suffix("a.TIFF") == ".tiff"  # a result keeps its input's kind of name
    assert format_for("a.ome.tiff").result_suffix("a.ome.tiff") == ".ome.tif"
    assert format_for("a.jpg").result_suffix("a.jpg") == ".png"  # read only: results are PNG
    with pytest.raises(ImageError, match="unknown image format 'webp'; known: "):
        format_named("webp")


def test_the_napari_reader_s_patterns_are_the_registry_s():
    manifest = yaml.safe_load((Path(napari_nssr.__file__).parent / "napari.yaml").read_text())
    (reader,) = manifest["contributions"]["readers"]
    assert sorted(reader["filename_patterns"]) == napari_patterns()


class _Npy(ImageFormat):
    """A made-up format: numpy's .npy files, to show that one class is all a format needs."""

    name = "npy-test"
    summary = "NumPy array"
    suffixes = (".npy",)

    def read_header(self, path):
        data = np.load(path, mmap_mode="r")
        return ImageHeader(tuple(data.shape), data.dtype, ImageMeta())

    def read(self, path, header, lazy):
        return np.load(path), ImageMeta()

    def write(self, path, image, meta, progress):
        with open(path, "wb") as stream:
            np.save(stream, np.asarray(image))


@pytest.fixture
def npy_format(monkeypatch):
    monkeypatch.setattr(formats, "_FORMATS", dict(formats._FORMATS))  # registered for this test only
    register_format(_Npy)
    return _Npy


def test_a_new_format_is_one_class_offered_everywhere(npy_format, tmp_path, capsys):
    from napari_nssr._reader import get_reader
    from napari_nssr.apps.cli import main

    data = np.arange(48, dtype=np.uint16).reshape(6, 8)
    write_image(tmp_path / "a.npy", data)
    back, _ = read_image_file(tmp_path / "a.npy")
    np.testing.assert_array_equal(back, data)
    assert "npy-test" in output_formats()
    with pytest.raises(SystemExit):
        main(["apply", "--help"])
    assert "npy-test" in capsys.readouterr().out  # a --format choice
    assert main(["apply", str(tmp_path), "-s", "2", "-m", "bicubic", "--no-progress"]) == 0  # found in the folder
    assert (tmp_path / "a_x2_nssr.npy").is_file()
    assert get_reader(str(tmp_path / "a.npy")) is None  # napari's own readers open it, not ours
    with pytest.raises(ImageError, match="already registered"):
        register_format(_Npy)


def test_the_napari_writer_s_extensions_are_the_tiff_format_s():
    manifest = yaml.safe_load((Path(napari_nssr.__file__).parent / "napari.yaml").read_text())
    (writer,) = manifest["contributions"]["writers"]
    assert writer["filename_extensions"] == list(format_named("tif").suffixes)
