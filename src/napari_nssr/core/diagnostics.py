"""Pictures of what an inverse filter does: the filter itself and gallery kernels before and after it."""

from __future__ import annotations

import numpy as np
import torch

from .filters import convolve


def restored_kernels(kernels: np.ndarray, inverse: torch.Tensor | np.ndarray) -> np.ndarray:
    """``K * h`` for each kernel (``(n, k, k)``), same size as ``K``: a delta when ``h`` inverts ``K`` perfectly."""
    k = torch.as_tensor(np.asarray(kernels, dtype=np.float32))[:, None]
    h = torch.as_tensor(inverse, dtype=torch.float32)
    radius = h.shape[-1] // 2
    # zero padding: outside the kernel's support the blur is exactly zero
    padded = torch.nn.functional.pad(k, (radius,) * 4)
    return convolve(padded, h, padding="valid")[:, 0].numpy()


def kernel_mosaic(kernels: np.ndarray, inverse: torch.Tensor | np.ndarray, gap: int = 2) -> np.ndarray:
    """Two rows of tiles: the kernels ``K`` on top, ``K * h`` below, each tile scaled to its own peak."""
    kernels = np.asarray(kernels, dtype=np.float32)
    if kernels.ndim != 3 or kernels.shape[0] == 0:
        raise ValueError(f"expected a (count, k, k) stack of kernels, got shape {kernels.shape}")
    rows = [kernels, restored_kernels(kernels, inverse)]
    n, k = kernels.shape[0], kernels.shape[-1]
    mosaic = np.zeros((2 * k + gap, n * k + (n - 1) * gap), dtype=np.float32)
    for r, row in enumerate(rows):
        for i, tile in enumerate(row):
            peak = float(np.abs(tile).max()) or 1.0
            mosaic[r * (k + gap) : r * (k + gap) + k, i * (k + gap) : i * (k + gap) + k] = tile / peak
    return mosaic
