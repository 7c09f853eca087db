"""Which value of a file means "no data": the one it declares, or the zero fill at a scene's edges.

A GeoTIFF usually declares its nodata value; many scenes (a Landsat band as distributed) do not,
and fill the area outside the scene with exact zeros. Those zeros are not data: a super-resolved
edge that mixed them in would darken, so a georeferenced scene whose border is mostly exact zero
is taken to have zero fill unless the user says otherwise (``--nodata none``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.errors import SettingsError
from ..core.layout import Layout

#: a georeferenced scene whose border is this much exact zero has zero fill
EDGE_FILL_FRACTION = 0.05


def edge_zero_fill(image: Any, rgb: bool | None) -> bool:
    """Whether a scene has zero fill at its edges: at least :data:`EDGE_FILL_FRACTION` of its
    representative plane's border pixels are exactly 0 (only the border is read).

    Parameters
    ----------
    image : array-like
        numpy or dask.
    rgb : bool or None
        Whether the last axis is colour.

    Returns
    -------
    bool
    """
    layout = Layout.of(tuple(image.shape), rgb)
    index = tuple(n // 2 for n in image.shape[: layout.spatial[0]])
    plane = image[index]
    if layout.rgb:
        plane = plane[..., 0]
    border = [plane[0, :], plane[-1, :], plane[:, 0], plane[:, -1]]
    values = np.concatenate([np.asarray(b).ravel() for b in border])
    return bool(np.mean(values == 0) >= EDGE_FILL_FRACTION)


def check_nodata_option(option: str) -> None:
    """Refuse a ``--nodata`` value that is not ``auto``, ``none`` or a number (one line, before any work)."""
    if option not in ("auto", "none"):
        try:
            float(option)
        except ValueError:
            raise SettingsError(f"--nodata takes auto, none or a number, got {option!r}") from None


def choose_nodata(
    option: str, image: Any, meta_nodata: float | None, georeferenced: bool, rgb: bool | None
) -> float | None:
    """The nodata value a file is computed with.

    Parameters
    ----------
    option : str
        ``"auto"`` (the file's nodata; else, for a georeferenced scene with zero fill at its
        edges, 0), ``"none"``, or a number.
    image : array-like
        The file's pixels (only the border is read).
    meta_nodata : float or None
        The file's declared nodata.
    georeferenced : bool
        The file is a GeoTIFF.
    rgb : bool or None
        Whether the last axis is colour.

    Returns
    -------
    float or None
    """
    if option == "none":
        return None
    if option != "auto":
        try:
            return float(option)
        except ValueError:
            raise SettingsError(f"--nodata takes auto, none or a number, got {option!r}") from None
    if meta_nodata is not None:
        return meta_nodata
    if georeferenced and edge_zero_fill(image, rgb):
        return 0.0
    return None
