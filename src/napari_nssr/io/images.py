"""Reading and writing image files (TIFF via tifffile, PNG/JPEG via imageio)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import ImageError
from ..core.layout import looks_rgb
from .files import write_atomically

TIFF_SUFFIXES = {".tif", ".tiff"}
PNG_SUFFIXES = {".png"}
READ_ONLY_SUFFIXES = {".jpg", ".jpeg", ".bmp"}


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a TIFF, PNG or JPEG file into an array of its stored dtype."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        if suffix in PNG_SUFFIXES | READ_ONLY_SUFFIXES:
            import imageio.v3 as iio

            return np.asarray(iio.imread(path))
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {exc}") from exc
    raise ImageError(f"unsupported image format {suffix!r} for {path}; use TIFF or PNG")


def write_image(path: str | os.PathLike[str], image: np.ndarray, overwrite: bool = False) -> Path:
    """Write ``image`` as TIFF (any numeric dtype) or PNG (uint8/uint16), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TIFF_SUFFIXES | PNG_SUFFIXES:
        raise ImageError(f"cannot write {suffix!r}; write .tif/.tiff or .png")
    if suffix in PNG_SUFFIXES and image.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"PNG stores only uint8/uint16 images, this one is {image.dtype}; write a .tif instead")
    if suffix in PNG_SUFFIXES and image.dtype == np.uint16 and image.ndim == 3:
        raise ImageError("16-bit PNG is written for grey images only; write a .tif for 16-bit colour")

    def write(tmp: str) -> None:
        if suffix in TIFF_SUFFIXES:
            import tifffile

            rgb = image.ndim == 3 and looks_rgb(image.shape)
            tifffile.imwrite(tmp, image, photometric="rgb" if rgb else "minisblack")
        else:
            import imageio.v3 as iio

            iio.imwrite(tmp, image, extension=".png")

    return write_atomically(path, write, overwrite)
