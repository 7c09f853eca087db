"""Guide layers for the guided method: checked to overlay the result in the viewer, turned into arrays.

A guide layer must sit where the result will: its pixels the result's pixels in world coordinates
(napari's ``scale`` and ``translate``, which this plugin's reader sets from a GeoTIFF's
georeference). Its shape over the target's sets the scale. Layers without any placement (scale 1,
no translation, as an array added from the console) are taken by their shapes alone, as arrays are
by ``super_resolve``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import ImageError
from ..core.overlay import overlay_geometry

#: relative difference of pixel sizes and offsets (in result pixels) read as the same placement
PLACEMENT_TOLERANCE = 1e-4


def _plane_shape(layer: Any) -> tuple[int, int]:
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    shape = tuple(int(n) for n in data.shape)
    return (shape[-3], shape[-2]) if layer.rgb else (shape[-2], shape[-1])


def _placed(layer: Any) -> bool:
    return not (np.allclose(layer.scale, 1) and np.allclose(layer.translate, 0))


def guide_scale(target: Any, guides: Sequence[Any]) -> float:
    """The scale the guide layers set for ``target``: a guide's plane over the target's, the same for
    both axes and every guide; raises :class:`ImageError` naming a guide that does not fit.

    Parameters
    ----------
    target : napari.layers.Image
        The layer to super-resolve.
    guides : sequence of napari.layers.Image
        The guide layers.

    Returns
    -------
    float
    """
    if not guides:
        raise ImageError("the guided method needs guide layers: choose them under 'Guide layers'")
    rows, cols = _plane_shape(target)
    scales = set()
    for guide in guides:
        if guide is target:
            raise ImageError(f"'{target.name}' cannot guide itself")
        g_rows, g_cols = _plane_shape(guide)
        ratio = (g_rows / rows, g_cols / cols)
        if abs(ratio[0] - ratio[1]) > PLACEMENT_TOLERANCE * ratio[0]:
            raise ImageError(
                f"guide '{guide.name}' is {g_rows} x {g_cols} pixels over '{target.name}''s {rows} x {cols}: not "
                "one scale for both axes"
            )
        scales.add(round(ratio[0], 6))
    if len(scales) > 1:
        raise ImageError(
            f"the guide layers lie on different grids (scales {sorted(scales)}): choose guides of one grid"
        )
    return scales.pop()


def check_overlay(target: Any, guide: Any, scale: float) -> None:
    """Raise :class:`ImageError` unless ``guide`` sits on the grid of ``target``'s result at ``scale`` in
    world coordinates (when either layer is placed at all)."""
    if not (_placed(target) or _placed(guide)):
        return
    ndim = target.ndim
    rows, cols = _plane_shape(target)
    g_rows, g_cols = _plane_shape(guide)
    spatial = 2
    in_shape = (1,) * (ndim - spatial) + (rows, cols)
    out_shape = (1,) * (ndim - spatial) + (g_rows, g_cols)
    want_scale, want_translate = overlay_geometry(target.scale, target.translate, in_shape, out_shape)
    got_scale = np.asarray(guide.scale[-spatial:], float)
    got_translate = np.asarray(guide.translate[-spatial:], float)
    pixel = np.asarray(want_scale[-spatial:], float)
    if not np.allclose(got_scale, pixel, rtol=PLACEMENT_TOLERANCE, atol=0):
        raise ImageError(
            f"guide '{guide.name}' has pixels of {got_scale.tolist()} but the result of '{target.name}' at x{scale:g} "
            f"has {pixel.tolist()}: it does not lie on the result's grid"
        )
    offset = (got_translate - np.asarray(want_translate[-spatial:], float)) / pixel
    if np.abs(offset).max() > 1e-3:
        raise ImageError(
            f"guide '{guide.name}' is off the result's grid of '{target.name}' by {offset.round(3).tolist()} result "
            "pixels (rows, columns)"
        )


def guide_arrays(guides: Sequence[Any], nodata_of: Any) -> list[Any]:
    """The guide layers' full-resolution data, with each layer's own nodata (``nodata_of(layer)``) as
    NaN (a float copy; layers without nodata are passed as they are)."""
    arrays = []
    for guide in guides:
        data = guide.data[0] if getattr(guide, "multiscale", False) else guide.data
        if guide.rgb:
            data = np.moveaxis(np.asarray(data), -1, 0)[:3]
        nodata = nodata_of(guide)
        if nodata is not None:
            values = np.asarray(data, dtype=np.float32).copy()
            values[np.isnan(values) if np.isnan(nodata) else values == nodata] = np.nan
            data = values
        arrays.append(data)
    return arrays
