"""napari reader contribution for TIFFs: keeps what napari's own reader drops.

The layer's ``metadata["nssr_file"]`` records the file's axes, calibration, OME optics (objective
NA, immersion, emission wavelength) and GeoTIFF tags, and the layer's scale is the file's pixel
size, so a super-resolved layer (and the ``psf`` method's defaults) know them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .io.images import TIFF_SUFFIXES, ImageMeta, read_image_file

LayerData = tuple[Any, dict[str, Any], str]
METADATA_KEY = "nssr_file"
UNIT_NAMES = {"µm": "micrometer", "um": "micrometer", "nm": "nanometer", "mm": "millimeter", "cm": "centimeter"}


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """The reader for one TIFF path (npe2 ``get_reader``), or None for anything else."""
    if isinstance(path, list):
        return None if len(path) != 1 else get_reader(path[0])
    return read_tiff if Path(path).suffix.lower() in TIFF_SUFFIXES else None


def file_metadata(path: str, meta: ImageMeta) -> dict[str, Any]:
    """The JSON-ready record of a file's metadata kept in ``layer.metadata["nssr_file"]``."""
    record = asdict(meta)
    record["geo_tags"] = {str(code): value for code, value in meta.geo_tags.items()}
    record["pixel_size_um"] = meta.pixel_size_um
    record["path"] = str(path)
    return record


def read_tiff(path: str | list[str]) -> list[LayerData]:
    """Read one TIFF as an image layer with its metadata and its pixel size as the layer's scale."""
    path = path[0] if isinstance(path, list) else path
    data, meta = read_image_file(path)
    rgb = bool(meta.rgb) if meta.rgb is not None else None
    kwargs: dict[str, Any] = {"name": Path(path).stem, "metadata": {METADATA_KEY: file_metadata(path, meta)}}
    if rgb is not None:
        kwargs["rgb"] = rgb
    if meta.pixel_size is not None:
        ndim = data.ndim - (1 if rgb else 0)
        kwargs["scale"] = (1.0,) * (ndim - 2) + tuple(meta.pixel_size)
        if meta.unit in UNIT_NAMES:
            kwargs["units"] = (UNIT_NAMES[meta.unit],) * ndim
    return [(data, kwargs, "image")]
