"""A small crop of the real Landsat-8 scene (``../shared/data``) as GeoTIFF files: band 2 averaged to
60 m, bands 3 and 4 at 30 m on the result's grid, and guides placed wrong on purpose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
CROP = (slice(700, 828), slice(800, 928))  # 128 x 128 pixels of 30 m, all with data


def write_band(path: Path, values: np.ndarray, transform, crs, name: str | None = None, nodata=None) -> Path:
    import rasterio

    profile = dict(
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype=values.dtype.name,
        crs=crs,
        transform=transform,
        nodata=nodata,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        if name:
            dst.set_band_description(1, name)
    return path


def landsat_files(folder: Path) -> dict[str, Path]:
    """``coarse`` (band 2 at 60 m, named 'blue'), ``truth`` (band 2 at 30 m), ``b3``, ``b4`` (30 m),
    ``shifted`` (band 3 half a 30 m pixel off), ``far`` (band 3 50 km away), ``plain`` (band 3 with
    no georeference)."""
    import rasterio
    import tifffile
    from rasterio.transform import Affine

    bands, transform, crs = {}, None, None
    for b in (2, 3, 4):
        with rasterio.open(SHARED / f"landsat8_b{b}_30m.tif") as src:
            bands[b] = src.read(1)[CROP]
            transform, crs = src.transform, src.crs
    fine = transform @ Affine.translation(CROP[1].start, CROP[0].start)
    coarse = np.round(bands[2].astype(np.float64).reshape(64, 2, 64, 2).mean(axis=(1, 3))).astype(np.uint16)
    files = {
        "coarse": write_band(folder / "b2_60m.tif", coarse, fine @ Affine.scale(2), crs, "blue"),
        "truth": write_band(folder / "b2_30m_truth.tif", bands[2], fine, crs),
        "b3": write_band(folder / "b3_30m.tif", bands[3], fine, crs),
        "b4": write_band(folder / "b4_30m.tif", bands[4], fine, crs),
        "shifted": write_band(folder / "b3_shifted.tif", bands[3], fine @ Affine.translation(0.5, 0), crs),
        "far": write_band(folder / "b3_far.tif", bands[3], fine @ Affine.translation(2000, 0), crs),
    }
    files["plain"] = folder / "b3_plain.tif"
    tifffile.imwrite(files["plain"], bands[3])
    return files
