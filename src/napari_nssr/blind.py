"""Blind per-image mode: estimate the image's own blur and noise, then solve the inverse filter for them.

The estimate (``blur_estimate.py``) is an anisotropic Gaussian blur and a noise floor, fitted to
the image's own power spectrum. It is an *effective* blur and can overshoot the true one (an
image that is smooth in itself reads as blurred), and over-sharpening costs far more than
under-sharpening. So the filter is not solved for the estimate alone but with the
degradation-aware objective (``chain.py``) over a small gallery of Gaussians with the estimated
shape and orientation, scaled from ``HEDGE[0]`` to ``HEDGE[1]`` times the estimated widths, at
``NOISE_MARGIN`` times the estimated noise. Widths are capped at the widest blur of the DIV2KRK
family for the scale (variance ``2.5 s`` HR pixels squared): wider estimates come from images
that are smooth in themselves. A solve takes 0.15 to 0.3 s and is cached per quantised estimate.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from .blur_estimate import MIN_NOISE, BlurEstimate, estimate_blur
from .chain import ChainSettings, ChainStatistics
from .kernels import GallerySettings, gaussian_kernel
from .model_file import NSSRModel, model_for_scale

__all__ = ["BLIND", "MIN_NOISE", "BlurEstimate", "blind_model", "estimate_blur", "hedged_gallery"]

BLIND = "blind"
HEDGE = (0.6, 1.0)  # gallery widths as fractions of the estimated widths
HEDGE_STEPS = 7
WIDEST_VARIANCE_PER_SCALE = 2.5  # the DIV2KRK family's widest blur: variance 2.5 s (HR pixels squared)
KERNEL_SIZE = 21
MIN_STD = 0.2  # HR pixels: narrower Gaussians do not sample as kernels any more
MIN_SIDE = 32  # smaller images fall back to the universal degradation-aware model
WIDTH_STEP = 0.05  # HR pixels: estimates are quantised so that similar images share one solve
ANGLE_STEP = 5.0  # degrees
# Amplified noise costs more than noise left alone, and the spectral fit can mistake part of the
# noise floor for image detail; solving for 1.5x the estimated noise took DIV2KRK with shot noise
# at x4 from -0.04 to +0.18 dB over bicubic, for -0.02 dB on clean DIV2KRK.
NOISE_MARGIN = 1.5


def _solve_scale(scale: float) -> int:
    """The integer scale the chain objective is solved at (it subsamples by whole pixels)."""
    return int(min(8, max(2, round(scale))))


def default_filter_size(scale: int) -> int:
    """Side of the solved filter: 11 at x2, 15 from x3 on, where a blur spans more HR pixels."""
    return 11 if scale <= 2 else 15


def hedged_gallery(scale: int, major: float, minor: float, angle: float) -> np.ndarray:
    """Gaussians with the estimated orientation and principal widths ``major``/``minor`` (HR pixels,
    std), capped at the DIV2KRK family's widest blur and scaled by ``HEDGE[0]`` to ``HEDGE[1]``."""
    widest = math.sqrt(WIDEST_VARIANCE_PER_SCALE * scale)
    major, minor = min(major, widest), min(minor, widest)
    kernels = [
        gaussian_kernel(KERNEL_SIZE, max(f * major, MIN_STD), max(f * minor, MIN_STD), angle)
        for f in np.linspace(HEDGE[0], HEDGE[1], HEDGE_STEPS)
    ]
    return np.stack(kernels)


@lru_cache(maxsize=64)
def _solved(scale: int, major: float, minor: float, angle_deg: float, noise: float, filter_size: int) -> NSSRModel:
    kernels = hedged_gallery(scale, major, minor, math.radians(angle_deg))
    chain = ChainSettings(noise=noise)
    h = ChainStatistics.from_kernels(kernels, scale, filter_size, chain).optimum()
    blur = f"{major:.2f} x {minor:.2f} px at {angle_deg:.0f} deg"
    return NSSRModel(
        filter=h.float(),
        name=f"blind-x{scale} (blur {blur}, noise {noise:.3f})",
        kind="closed_form",
        gallery=GallerySettings(
            family="anisotropic_gaussian", count=len(kernels), size=KERNEL_SIZE, scale=float(scale)
        ),
        architecture=None,
        chain=chain,
        training={
            "blind": {
                "major_hr": major,
                "minor_hr": minor,
                "angle_deg": angle_deg,
                "noise": noise,
                "hedge": list(HEDGE),
                "kernels": len(kernels),
            }
        },
    )


def _quantised(estimate: BlurEstimate, scale: int) -> tuple[float, float, float, float]:
    """HR-pixel widths, angle (degrees) and noise rounded so that near-identical estimates share a solve."""
    major, minor, angle = estimate.axes
    major, minor = (max(MIN_STD, round(w * scale / WIDTH_STEP) * WIDTH_STEP) for w in (major, minor))
    angle_deg = round(math.degrees(angle) / ANGLE_STEP) * ANGLE_STEP % 180.0
    if math.isclose(major, minor):
        angle_deg = 0.0  # a round blur has no direction
    noise = max(MIN_NOISE, float(np.exp(np.round(np.log(max(NOISE_MARGIN * estimate.noise, 1e-6)) * 4) / 4)))
    return round(major, 4), round(minor, 4), float(angle_deg), round(noise, 5)


def blind_model(image: Any, scale: float, rgb: bool | None = None, filter_size: int | None = None) -> NSSRModel:
    """The inverse filter for ``image``'s own estimated blur and noise at ``scale`` (cached per estimate).

    ``filter_size`` defaults to :func:`default_filter_size`. Images under ``MIN_SIDE`` pixels have
    too few frequencies to fit; they get the bundled degradation-aware model for the nearest
    scale instead.
    """
    from .inference import Layout  # inference imports this module, so not at the top

    layout = Layout.of(tuple(image.shape), rgb)
    if min(image.shape[a] for a in layout.spatial) < MIN_SIDE:
        return model_for_scale("chain", scale)
    solve_at = _solve_scale(scale)
    size = default_filter_size(solve_at) if filter_size is None else filter_size
    return _solved(solve_at, *_quantised(estimate_blur(image, rgb), solve_at), size)
