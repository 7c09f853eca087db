"""The lazy engine: super-resolving a dask array gives a dask array, computed block by block."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..core.devices import resolve_device
from ..core.progress import run_steps
from ..methods.base import Prepared
from ..methods.resolve import MethodSpec
from .tiles import InferenceCancelled, Plan, _check_tile_size, plan, prepare, run_tiles


def super_resolve_lazy(
    image: Any,
    scale: Any,
    method: MethodSpec | Prepared = None,
    *,
    strength: float = 1.0,
    rgb: bool | None = None,
    tile_size: int = 1024,
    device: str = "auto",
) -> Any:
    """Lazy super-resolution of a dask array: one block per plane (or RGB plane).

    The method is prepared once, from the whole array (the blind method reads one representative
    plane); each block then runs the in-memory engine with that one processor.

    Parameters
    ----------
    image : dask.array.Array
        The input.
    scale, method, strength, rgb, tile_size, device
        As for :func:`~napari_nssr.engine.api.super_resolve`.

    Returns
    -------
    dask.array.Array
        Same dtype as the input; nothing is computed until asked.
    """
    checked = plan(image, scale, strength, rgb)
    tile_size = _check_tile_size(tile_size)
    dev = resolve_device(device)
    prepared = prepare(image, checked, method)
    layout = checked.layout
    whole = {a: -1 for a in layout.spatial}
    if layout.rgb:
        whole[image.ndim - 1] = -1
    image = image.rechunk(whole)
    chunks = list(image.chunks)
    for axis in layout.spatial:
        chunks[axis] = (checked.shape[axis],)

    def block(x: np.ndarray) -> np.ndarray:
        shape = list(x.shape)
        for axis in layout.spatial:
            shape[axis] = checked.shape[axis]
        block_plan = Plan(layout, checked.scale, tuple(shape), checked.strength)
        processor = prepared.processor.blended(checked.strength)
        steps = run_tiles(x, block_plan, processor, tile_size, torch.device(dev))
        return run_steps(steps, None, None, lambda p: InferenceCancelled("cancelled"))

    return image.map_blocks(block, chunks=tuple(chunks), dtype=image.dtype)
