"""Denoising a variance-stabilised plane: the non-linear step a linear filter cannot replace.

After the generalised Anscombe transform (:mod:`.noise`) the noise is white with unit variance
wherever the signal is more than a few photons, which is what non-local means assumes. The
denoised plane is then upsampled and filtered for what noise is left. Measured on the real images
with photon noise (docs/benchmarks.md): +0.90 -> +1.2 dB over bicubic at x2 and +0.48 -> +0.7 dB
at x4, with clean DIV2KRK unchanged (its measured noise is small, so there is little to remove).

The non-local means is OpenCV's (``cv2.fastNlMeansDenoising``: 5 x 5 patches within 5 pixels, L1
patch distance, on the plane quantised to 16 levels per noise std in 16 bits, which adds 1/3000 of
the noise's variance): about 0.15 s per Mpx on two cores where scikit-image's took 1 s, with the
mean gains of the methods that use it within 0.05 dB of before (docs/benchmarks.md, "Restoration
at filter speed").
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import torch

from .progress import drain

DENOISERS = ("auto", "nl-means", "none")
#: ``auto`` denoises images of up to this many values in all (planes times channels), whose planes
#: are then processed whole (about 0.15 s per Mpx on two cores); larger scenes and stacks stay tiled
#: and lazy, in bounded memory
AUTO_MAX_PIXELS = 4 * 1024 * 1024
PATCH_SIZE = 5
PATCH_DISTANCE = 5
#: how far (in input pixels) a denoised pixel depends on its neighbours
REACH = PATCH_DISTANCE + PATCH_SIZE // 2
#: levels per noise std when the plane is quantised to 16 bits for OpenCV (fewer if its range needs)
LEVELS_PER_STD = 16.0
#: the default ``h`` (units of the noise's std): OpenCV's weights (L1 distance, no variance
#: subtracted) need a larger ``h`` than scikit-image's for the same smoothing; chosen on the 15
#: photos of ``napari-nssr bench`` under photon noise (0.8 put two cases below bicubic at x4, 0.7
#: none), reported on the real sets (docs/benchmarks.md)
DEFAULT_STRENGTH = 0.7


#: planes are denoised in tiles this wide (with :data:`REACH` + 2 pixels of context each side, the
#: result equals the whole plane's: one quantisation, integer weights), so that a long plane can
#: report and stop between tiles
TILE = 512


def denoise_unit_noise(plane: np.ndarray, strength: float) -> np.ndarray:
    """Non-local means (OpenCV, 5 x 5 patches within 5 pixels, L1 distance) of a 2D plane whose
    noise has unit standard deviation, with filtering parameter ``h = strength``
    (:func:`iter_denoise_unit_noise` run to its end).

    Parameters
    ----------
    plane : numpy.ndarray
        2D, float; noise of std 1 (a stabilised plane).
    strength : float
        ``h`` in units of the noise's std: larger smooths more.

    Returns
    -------
    numpy.ndarray
        float64, the plane's shape.

    Examples
    --------
    >>> import numpy as np
    >>> noisy = 10 + np.random.default_rng(0).standard_normal((64, 64))
    >>> bool(np.std(denoise_unit_noise(noisy, 0.8)) < 0.5 * np.std(noisy))
    True
    """
    return drain(iter_denoise_unit_noise(plane, strength))


def iter_denoise_unit_noise(plane: np.ndarray, strength: float) -> Generator[str, None, np.ndarray]:
    """:func:`denoise_unit_noise` tile by tile (:data:`TILE`), yielding before each tile (about 0.04 s
    of work on two cores) a few words saying which; closing the generator stops it there.

    Parameters
    ----------
    plane, strength
        As for :func:`denoise_unit_noise`.

    Returns
    -------
    numpy.ndarray
        float64, the plane's shape.
    """
    import cv2  # imported here, as the CPU engine does: not needed to define methods

    values = np.asarray(plane, dtype=np.float64)
    rows, cols = values.shape
    out = np.empty_like(values)
    if values.size == 0:
        return out
    # one quantisation for the whole plane, so that tiles equal the plane
    low, high = float(values.min()), float(values.max())
    levels = min(LEVELS_PER_STD, 65535.0 / max(high - low, 1e-12))
    quantised = np.rint((values - low) * levels).astype(np.uint16)
    h = [float(strength) * levels]
    margin = REACH + 2
    starts = [(r, c) for r in range(0, rows, TILE) for c in range(0, cols, TILE)]
    for k, (r, c) in enumerate(starts):
        if len(starts) > 1:
            yield f"denoising part {k + 1} of {len(starts)}"
        else:
            yield "denoising"
        r0, c0 = max(r - margin, 0), max(c - margin, 0)
        r1, c1 = min(r + TILE + margin, rows), min(c + TILE + margin, cols)
        tile = cv2.fastNlMeansDenoising(
            np.ascontiguousarray(quantised[r0:r1, c0:c1]),
            h=h,
            templateWindowSize=PATCH_SIZE,
            searchWindowSize=2 * PATCH_DISTANCE + 1,
            normType=cv2.NORM_L1,
        )
        height, width = min(TILE, rows - r), min(TILE, cols - c)
        out[r : r + height, c : c + width] = tile[r - r0 : r - r0 + height, c - c0 : c - c0 + width]
    return out / levels + low


def denoise_unit_noise_tensor(plane: torch.Tensor, strength: float) -> torch.Tensor:
    """:func:`denoise_unit_noise` in torch, on the tensor's device (the GPU path).

    The same algorithm as OpenCV's: the plane quantised to :data:`LEVELS_PER_STD` levels per noise
    std, for each of the ``11 x 11`` offsets the mean absolute difference of ``5 x 5`` patches
    (the patch sum floored to OpenCV's multiples of 32), weights ``exp(-(d / h)^2)`` dropped below 0.001,
    the mirrored border without edge repeat, the weighted mean rounded to a level. OpenCV's weights
    are fixed-point integers, these are floats: the two differ by a level (1/16 of the noise std)
    at a few pixels (tested: at most 2 levels, 99% of pixels equal).

    Parameters
    ----------
    plane : torch.Tensor
        2D, float; noise of std 1 (a stabilised plane).
    strength : float
        ``h`` in units of the noise's std.

    Returns
    -------
    torch.Tensor
        float32 on the plane's device, its shape.
    """
    import torch.nn.functional as F

    values = plane.to(torch.float64)
    rows, cols = values.shape
    if values.numel() == 0:
        return values.to(torch.float32)
    low, high = float(values.min()), float(values.max())
    levels = min(LEVELS_PER_STD, 65535.0 / max(high - low, 1e-12))
    # integer levels up to 65535: their differences and 25-term sums are exact in float32
    quantised = torch.round((values - low) * levels).to(torch.float32)
    h = float(strength) * levels
    half, border = PATCH_SIZE // 2, PATCH_DISTANCE + PATCH_SIZE // 2
    padded = F.pad(quantised[None, None], (border,) * 4, mode="reflect")[0, 0]
    # the patch centres' neighbourhoods: rows and columns -half .. n + half of the plane
    base = padded[border - half : border + rows + half, border - half : border + cols + half]
    numerator = torch.zeros((rows, cols), dtype=torch.float32, device=plane.device)
    weights = torch.zeros_like(numerator)
    cutoff = math.sqrt(-math.log(0.001)) * h  # beyond it OpenCV's weight is 0
    for dy in range(-PATCH_DISTANCE, PATCH_DISTANCE + 1):
        for dx in range(-PATCH_DISTANCE, PATCH_DISTANCE + 1):
            r0, c0 = border - half + dy, border - half + dx
            shifted = padded[r0 : r0 + rows + 2 * half, c0 : c0 + cols + 2 * half]
            sums = torch.round(F.avg_pool2d((base - shifted).abs()[None, None], PATCH_SIZE, stride=1)[0, 0] * 25)
            distance = torch.floor(sums / 32) * (32 / PATCH_SIZE**2)
            weight = torch.exp(-((distance / max(h, 1e-12)) ** 2))
            weight = torch.where(distance <= cutoff, weight, torch.zeros_like(weight))
            numerator += weight * padded[border + dy : border + dy + rows, border + dx : border + dx + cols]
            weights += weight
    denoised = torch.floor(numerator / weights + 0.5)
    return (denoised.to(torch.float64) / levels + low).to(torch.float32)
