"""Where a super-resolved array sits in world coordinates, so that it overlays its source.

Output pixel ``j`` of an axis upsampled from ``n_in`` to ``n_out`` pixels sits at input
coordinate ``(j + 0.5) * r - 0.5`` with ``r = n_in / n_out`` (pixel-centre alignment, as the
upsampler uses). In a napari-style transform ``world = L @ (scale * x) + translate`` (``L`` the
rotation/shear part) that is a new ``scale * r`` and a translate moved by ``L @ (scale * (r - 1) / 2)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def overlay_geometry(
    scale: Sequence[float],
    translate: Sequence[float],
    shape_in: Sequence[int],
    shape_out: Sequence[int],
    linear: np.ndarray | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """New ``(scale, translate)`` for a layer whose data grew from ``shape_in`` to ``shape_out``.

    All sequences have one entry per layer dimension (napari's ``layer.ndim``, which excludes an
    RGB channel axis); axes whose size did not change keep their scale and translate. ``linear``
    is the layer's rotate-and-shear matrix (identity when ``None``).
    """
    ndim = len(scale)
    if not (len(translate) == len(shape_in) == len(shape_out) == ndim):
        raise ValueError(
            f"scale, translate and shapes need one entry per dimension, got {len(scale)}, {len(translate)}, "
            f"{len(shape_in)}, {len(shape_out)}"
        )
    ratio = np.array(shape_in, dtype=np.float64) / np.array(shape_out, dtype=np.float64)
    scale_in = np.asarray(scale, dtype=np.float64)
    shift = scale_in * (ratio - 1) / 2
    if linear is not None:
        shift = np.asarray(linear, dtype=np.float64) @ shift
    new_translate = np.asarray(translate, dtype=np.float64) + shift
    return tuple(float(v) for v in scale_in * ratio), tuple(float(v) for v in new_translate)
