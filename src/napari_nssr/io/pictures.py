"""Pictures through imageio: PNG (read and written, 8- and 16-bit) and JPEG or BMP (read only).

They carry no calibration, georeference or axes; a result of a JPEG or BMP is written as PNG, so a
second lossy compression never touches it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError
from ..core.layout import looks_rgb
from .formats import ImageFormat, ImageHeader, register_format
from .meta import ImageMeta


class Picture(ImageFormat):
    """A picture format imageio reads whole."""

    def read_header(self, path: Path) -> ImageHeader:
        """Shape and dtype from imageio's properties (no metadata to keep)."""
        import imageio.v3 as iio

        props = iio.improps(path)
        return ImageHeader(tuple(int(n) for n in props.shape), np.dtype(props.dtype), ImageMeta())

    def read(self, path: Path, header: ImageHeader, lazy: bool | None) -> tuple[Any, ImageMeta]:
        """The pixels, in memory (a picture is never large)."""
        import imageio.v3 as iio

        return np.asarray(iio.imread(path)), ImageMeta()


@register_format
class PngFormat(Picture):
    """PNG: one grey image (8 or 16 bits) or one 8-bit RGB(A) image."""

    name = "png"
    summary = "PNG"
    suffixes = (".png",)

    def check_writable(self, dtype: np.dtype, shape: tuple[int, ...], meta: ImageMeta) -> None:
        """uint8 or uint16 grey, uint8 colour; no georeference."""
        if np.dtype(dtype) not in (np.uint8, np.uint16):
            raise ImageError(
                f"PNG stores only uint8/uint16 images, this one is {np.dtype(dtype)}; write a .tif instead"
            )
        if len(shape) > 3 or (len(shape) == 3 and not looks_rgb(shape)):
            raise ImageError(f"PNG stores one grey or RGB(A) image, this one has shape {shape}; write a .tif instead")
        if np.dtype(dtype) == np.uint16 and len(shape) == 3:
            raise ImageError("16-bit PNG is written for grey images only; write a .tif for 16-bit colour")
        if meta.geo is not None:
            raise ImageError("a PNG cannot hold the image's georeference; write a .tif (GeoTIFF) or a .zarr")

    def write(self, path: str, image: Any, meta: ImageMeta, progress: Callable[[int, int], None] | None) -> None:
        """The whole picture at once."""
        import imageio.v3 as iio

        iio.imwrite(path, np.asarray(image), extension=".png")


@register_format
class JpegFormat(Picture):
    """JPEG (read only: its results are PNG)."""

    name = "jpeg"
    summary = "JPEG"
    suffixes = (".jpg", ".jpeg")
    writes = False
    results_in = "png"


@register_format
class BmpFormat(Picture):
    """BMP (read only: its results are PNG)."""

    name = "bmp"
    summary = "BMP"
    suffixes = (".bmp",)
    writes = False
    results_in = "png"
