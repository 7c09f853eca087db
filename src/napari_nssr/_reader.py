"""napari reader contribution for TIFFs and OME-Zarr: keeps what napari's own readers drop.

- The layer's ``metadata["nssr_file"]`` records the file's axes, calibration, OME optics
  (objective NA, immersion, emission wavelength), GeoTIFF georeference (CRS, geotransform) and
  nodata value (:meth:`ImageMeta.record`), so a super-resolved layer, its GeoTIFF when saved,
  and the ``psf`` method's defaults know them.
- The layer's scale is the pixel size and its translate the position of pixel (0, 0)'s centre:
  micrometres for microscopy, map units for a north-up GeoTIFF (world ``y`` is minus northing, so
  north stays up), so layers from files of one CRS overlay.
- A GeoTIFF's bands that are not red, green, blue open as one layer per band (``channel_axis``).
- A file too large for memory opens lazily, as a multiscale pyramid (levels averaged from the
  full resolution as they are viewed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .io.formats import format_for
from .io.images import ImageMeta, read_image_file

LayerData = tuple[Any, dict[str, Any], str]
METADATA_KEY = "nssr_file"
UNIT_NAMES = {
    "µm": "micrometer",
    "um": "micrometer",
    "nm": "nanometer",
    "mm": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "metre": "meter",
}
PYRAMID_SMALLEST = 1024  # lazy files get levels down to about this side


def get_reader(path: str | list[str]) -> Callable[[str | list[str]], list[LayerData]] | None:
    """The reader for one path of a format this plugin reads for napari (TIFF, OME-TIFF, OME-Zarr:
    ``napari_reader`` in the format registry; npe2 ``get_reader``), or None for anything else."""
    if isinstance(path, list):
        return None if len(path) != 1 else get_reader(path[0])
    fmt = format_for(path)
    return read_file if fmt is not None and fmt.napari_reader else None


def file_metadata(path: str, meta: ImageMeta) -> dict[str, Any]:
    """The JSON-ready record of a file's metadata kept in ``layer.metadata["nssr_file"]``."""
    record = meta.record()
    record["path"] = str(path)
    return record


def lazy_pyramid(data: Any, spatial: tuple[int, int]) -> list[Any]:
    """Levels of a lazy array for napari: full resolution, then 2x2 means, down to about
    :data:`PYRAMID_SMALLEST` pixels (each level computed only where it is viewed)."""
    import dask.array as da

    levels = [data]
    while min(levels[-1].shape[a] for a in spatial) >= 2 * PYRAMID_SMALLEST:
        coarse = da.coarsen(np.mean, levels[-1], {spatial[0]: 2, spatial[1]: 2}, trim_excess=True)
        levels.append(coarse.astype(data.dtype))
    return levels


def geometry(meta: ImageMeta) -> tuple[tuple[float, float], tuple[float, float], str | None] | None:
    """The layer's in-plane ``(scale, translate, unit)`` from the file, or None when uncalibrated."""
    if meta.geo is not None and meta.geo.north_up:
        a, _, c, _, e, f = meta.geo.transform
        # world y = -northing keeps north up with a positive scale; pixel centres, not corners
        return (abs(e), a), (-(f + e / 2), c + a / 2), meta.geo.units
    if meta.pixel_size is None:
        return None
    origin = meta.origin or (0.0, 0.0)
    return meta.pixel_size, origin, meta.unit


def _z_axis(axes: str | None, ndim: int, bands: bool) -> int | None:
    """Which of the layer's ``ndim`` axes is z (the file's axes less colour samples and split bands)."""
    if not axes:
        return None
    kept = axes.replace("S", "")[1:] if bands else axes.replace("S", "")
    return kept.index("Z") if "Z" in kept and len(kept) == ndim else None


def read_file(path: str | list[str]) -> list[LayerData]:
    """Read one TIFF or OME-Zarr image as napari layer data (see the module docstring).

    Parameters
    ----------
    path : str or list of str
        The file (a one-element list is accepted, as npe2 passes).

    Returns
    -------
    list of LayerData
    """
    path = path[0] if isinstance(path, list) else path
    data, meta = read_image_file(path, lazy=None)
    rgb = bool(meta.rgb) if meta.rgb is not None else None
    bands = meta.geo is not None and (meta.axes or "").startswith("C") and data.ndim == 3
    kwargs: dict[str, Any] = {
        "name": Path(str(path).rstrip("/")).stem,
        "metadata": {METADATA_KEY: file_metadata(path, meta)},
    }
    if rgb is not None:
        kwargs["rgb"] = rgb
    ndim = data.ndim - (1 if rgb else 0) - (1 if bands else 0)
    placed = geometry(meta)
    if placed is not None:
        scale, translate, unit = placed
        kwargs["scale"] = (1.0,) * (ndim - 2) + tuple(scale)
        kwargs["translate"] = (0.0,) * (ndim - 2) + tuple(translate)
        if unit in UNIT_NAMES:
            kwargs["units"] = (UNIT_NAMES[unit],) * ndim
    z = _z_axis(meta.axes, ndim, bands)
    if z is not None and meta.spacing:  # the z step (ImageJ spacing, OME PhysicalSizeZ, OME-Zarr scale)
        scale_all = list(kwargs.get("scale", (1.0,) * ndim))
        scale_all[z] = float(meta.spacing)
        kwargs["scale"] = tuple(scale_all)
    if meta.nodata is not None and not np.isnan(meta.nodata):
        kwargs["metadata"][METADATA_KEY]["nodata"] = float(meta.nodata)
    if bands:
        names = [n or f"band {k + 1}" for k, n in enumerate(meta.geo.band_names or ())] if meta.geo else []
        base = kwargs.pop("name")
        kwargs["channel_axis"] = 0
        kwargs["name"] = [f"{base} {n}" for n in (names or [f"band {k + 1}" for k in range(data.shape[0])])]
        kwargs["blending"] = "additive"
    if not isinstance(data, np.ndarray):
        spatial = (data.ndim - 3, data.ndim - 2) if rgb else (data.ndim - 2, data.ndim - 1)
        levels = lazy_pyramid(data, spatial)
        if len(levels) > 1:
            kwargs["multiscale"] = True
            data = levels
    return [(data, kwargs, "image")]
