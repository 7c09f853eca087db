"""GeoTIFFs through rasterio (GDAL): their georeference in, and georeferenced results out.

The pixels of any TIFF are read by ``io/tiff.py``; rasterio says where they are on Earth: the
CRS, the affine geotransform, the nodata value, the bands' names and colours. Bands are colour
channels (``YXS``) when they are exactly red, green, blue (and alpha), else a leading band axis
(``CYX``). A result is written by rasterio, band by band and a strip of rows at a time, with the
CRS kept, the corner origin kept and the pixel size divided (``ImageMeta.scaled``): rasterio reads
the same bounds for the source and the result, so they overlay in a GIS.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .meta import GeoInfo

RGB_INTERPRETATIONS = (("red", "green", "blue"), ("red", "green", "blue", "alpha"))
# GDAL's creation option for each lossless compression a result keeps from its source
GDAL_COMPRESSION = {"lzw": "LZW", "deflate": "DEFLATE", "zstd": "ZSTD", "packbits": "PACKBITS"}
BLOCK = 256  # GeoTIFF tile side of results


@dataclass(frozen=True)
class RasterInfo:
    """What rasterio says about a TIFF (see :func:`raster_info`)."""

    geo: GeoInfo | None
    nodata: float | None
    colour: bool
    bands: int


def raster_info(path: str | os.PathLike[str]) -> RasterInfo:
    """The georeference, nodata value and band layout of a TIFF (without reading pixels).

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF.

    Returns
    -------
    RasterInfo
        ``geo`` is None for a TIFF without a CRS or geotransform.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            interpretation = tuple(c.name for c in ds.colorinterp)
            geo = None
            if ds.crs is not None and not ds.transform.is_identity:
                geo = GeoInfo(
                    crs=ds.crs.to_wkt(),
                    transform=tuple(ds.transform)[:6],
                    band_names=tuple(d or "" for d in ds.descriptions),
                    units=ds.crs.linear_units or None,
                )
            return RasterInfo(geo, ds.nodata, interpretation in RGB_INTERPRETATIONS, ds.count)


def _bands_first(image: Any, colour: bool) -> tuple[Any, int]:
    """``image`` as ``(bands, rows, cols)`` (a view or lazy transpose) and its band count."""
    if image.ndim == 2:
        return image[None], 1
    if colour:
        return image.transpose(2, 0, 1), image.shape[2]
    if image.ndim != 3:
        raise ValueError(f"a GeoTIFF holds bands of 2D planes, not an array of shape {image.shape}")
    return image, image.shape[0]


def row_strips(rows: int, height: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive strips of ``height`` rows covering ``rows``."""
    for start in range(0, rows, height):
        yield start, min(start + height, rows)


def write_geotiff(
    path: str,
    image: Any,
    geo: GeoInfo,
    nodata: float | None,
    colour: bool,
    compression: str | None = None,
    strip_rows: int = 1024,
    progress: Callable[[int, int], None] | None = None,
    provenance: str | None = None,
) -> None:
    """Write ``image`` (numpy or dask) as a tiled GeoTIFF, a strip of rows at a time.

    Parameters
    ----------
    path : str
        The file to create.
    image : array-like
        ``(rows, cols)``, ``(bands, rows, cols)``, or ``(rows, cols, 3|4)`` colour (``colour``).
    geo : GeoInfo
        The result's georeference (already scaled).
    nodata : float or None
        Written as the nodata value.
    colour : bool
        The last axis holds red, green, blue (and alpha).
    compression : str, optional
        ``"lzw"``, ``"deflate"``, ``"zstd"`` or ``"packbits"``; default deflate.
    strip_rows : int
        Rows computed and written at a time (bounded memory for a lazy ``image``).
    progress : callable, optional
        Called with ``(strips done, strips)``.
    provenance : str, optional
        What made the result (GDAL metadata item ``NAPARI_NSSR``).
    """
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import Affine

    bands, count = _bands_first(image, colour)
    rows, cols = int(bands.shape[1]), int(bands.shape[2])
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": rows,
        "width": cols,
        "count": count,
        "dtype": np.dtype(image.dtype).name,
        "crs": CRS.from_user_input(geo.crs),
        "transform": Affine(*geo.transform),
        "nodata": nodata,
        "tiled": rows >= BLOCK and cols >= BLOCK,
        "compress": GDAL_COMPRESSION.get(compression or "deflate", "DEFLATE"),
        "BIGTIFF": "IF_SAFER",
    }
    if profile["tiled"]:
        profile.update(blockxsize=BLOCK, blockysize=BLOCK)
    # GDAL would call 3 or 4 bytes a pixel RGB(A); bands that are not colour are said so
    profile["photometric"] = "RGB" if colour else "MINISBLACK"
    strip_rows = max(BLOCK, strip_rows // BLOCK * BLOCK)
    strips = list(row_strips(rows, strip_rows))
    with rasterio.open(path, "w", **profile) as dst:
        for k, (start, stop) in enumerate(strips):
            dst.write(np.asarray(bands[:, start:stop, :]), window=((start, stop), (0, cols)))
            if progress:
                progress(k + 1, len(strips))
        for band, name in enumerate(geo.band_names[:count], start=1):
            if name:
                dst.set_band_description(band, name)
        if provenance:
            dst.update_tags(NAPARI_NSSR=provenance)
