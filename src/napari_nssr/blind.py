"""Blind per-image mode: estimate the image's own blur and noise, then solve the inverse filter for them.

The estimate (``blur_estimate.py``) is an anisotropic Gaussian blur and a noise floor, fitted to
the image's own power spectrum. It is an *effective* blur and can overshoot the true one (an
image that is smooth in itself reads as blurred), and over-sharpening costs far more than
under-sharpening. So the filter is not solved for the estimate alone but with the
degradation-aware objective (``chain.py``) over a small gallery of Gaussians with the estimated
shape and orientation, scaled from ``hedge(s)[0]`` to ``hedge(s)[1]`` times the estimated widths, at
``NOISE_MARGIN`` times the estimated noise. Widths are capped at the widest blur of the DIV2KRK
family for the scale (variance ``2.5 s`` HR pixels squared): wider estimates come from images
that are smooth in themselves.

Where the image cannot say what its degradation blur is, the filter is solved over the family
instead: round Gaussians from ``FAMILY_HEDGE[0]`` to ``FAMILY_HEDGE[1]`` times the widest blur,
at the image's own noise. That is the case when the estimate is wider than the family's widest
in *every* direction (more than ``SMOOTH_MARGIN`` times) or in area (more than ``AREA_MARGIN``
times): the image is smooth in itself (cells under a microscope, say), its own smoothness hides
the degradation, and a filter solved for the estimate over-sharpens. It is also the case for
images under ``MIN_SIDE`` pixels, too small for a spectral fit; their noise comes from a wavelet
estimate (:func:`skimage.restoration.estimate_sigma`).

The objective's statistics are exact expectations over its image prior
(:meth:`ChainStatistics.expected`), not sums over a few sampled images: a solve takes about
15 ms, is the same on every machine, and is cached per quantised estimate.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from .blur_estimate import MIN_NOISE, BlurEstimate, estimate_blur, representative_plane
from .chain import ChainSettings, ChainStatistics
from .kernels import GallerySettings, gaussian_kernel
from .model_file import NSSRModel

__all__ = [
    "BLIND",
    "MIN_NOISE",
    "BlurEstimate",
    "blind_model",
    "blur_unknown",
    "estimate_blur",
    "family_gallery",
    "hedge",
    "hedged_gallery",
    "wavelet_noise",
]

BLIND = "blind"
# Gallery widths as fractions of the estimated widths, per scale (above x4: the x4 entry). On the
# out-of-family bench sets (defocus, motion, noise), 0.7 at x2 fell below bicubic on mean PSNR on
# defocus and motion; 0.8 at x3 held but cost defocus 0.3 dB; 0.8 at x4 holds on every set
# (docs/method.md, section 8).
HEDGE_BY_SCALE = {2: (0.6, 1.0), 3: (0.7, 1.0), 4: (0.8, 1.0)}
HEDGE_STEPS = 7
WIDEST_VARIANCE_PER_SCALE = 2.5  # the DIV2KRK family's widest blur: variance 2.5 s (HR pixels squared)
KERNEL_SIZE = 21
MIN_STD = 0.2  # HR pixels: narrower Gaussians do not sample as kernels any more
MIN_SIDE = 32  # smaller images get the family gallery at their wavelet-estimated noise
SMOOTH_MARGIN = 1.05  # an estimate this much wider than the family in every direction is the image's own smoothness
# An estimate whose area (geometric mean width) is this much wider than the family's widest blur
# is the image's own smoothness too, even if one direction is narrower: a smooth image under
# motion blur (``cell`` at x4: 5.3 x 3.1 px against the family's 3.2 px) lost 1.3 dB to bicubic
# when its filter was solved for the capped estimate.
AREA_MARGIN = 1.2
FAMILY_HEDGE = (0.3, 1.0)  # round Gaussians, as fractions of the widest blur, when the blur is unknown
WIDTH_STEP = 0.05  # HR pixels: estimates are quantised so that similar images share one solve
ANGLE_STEP = 5.0  # degrees
# Amplified noise costs more than noise left alone, and the spectral fit can mistake part of the
# noise floor for image detail; solving for 1.5x the estimated noise took DIV2KRK with shot noise
# at x4 from -0.04 to +0.18 dB over bicubic, for -0.02 dB on clean DIV2KRK.
NOISE_MARGIN = 1.5


def hedge(scale: int) -> tuple[float, float]:
    """The range of fractions of the estimated widths the gallery spans at integer ``scale``."""
    return HEDGE_BY_SCALE[min(max(scale, 2), max(HEDGE_BY_SCALE))]


def _solve_scale(scale: float) -> int:
    """The integer scale the chain objective is solved at (it subsamples by whole pixels)."""
    return int(min(8, max(2, round(scale))))


def default_filter_size(scale: int) -> int:
    """Side of the solved filter: 11 at x2, 15 from x3 on, where a blur spans more HR pixels."""
    return 11 if scale <= 2 else 15


def hedged_gallery(scale: int, major: float, minor: float, angle: float) -> np.ndarray:
    """Gaussians with the estimated orientation and principal widths ``major``/``minor`` (HR pixels,
    std), capped at the DIV2KRK family's widest blur and scaled by ``hedge(scale)``; an unknown
    blur (:func:`blur_unknown`) gives :func:`family_gallery` instead."""
    if blur_unknown(scale, major, minor):
        return family_gallery(scale)
    widest = widest_blur(scale)
    major, minor = min(major, widest), min(minor, widest)
    kernels = [
        gaussian_kernel(KERNEL_SIZE, max(f * major, MIN_STD), max(f * minor, MIN_STD), angle)
        for f in np.linspace(*hedge(scale), HEDGE_STEPS)
    ]
    return np.stack(kernels)


def widest_blur(scale: int) -> float:
    """Std (HR pixels) of the widest blur in the DIV2KRK family at ``scale``."""
    return math.sqrt(WIDEST_VARIANCE_PER_SCALE * scale)


def blur_unknown(scale: int, major: float, minor: float) -> bool:
    """Whether an estimate with principal widths ``major``/``minor`` (HR pixels) is wider than the
    family in every direction, or in area: the image's own smoothness, which hides its degradation blur."""
    widest = widest_blur(scale)
    return minor > SMOOTH_MARGIN * widest or math.sqrt(major * minor) > AREA_MARGIN * widest


def family_gallery(scale: int) -> np.ndarray:
    """Round Gaussians from ``FAMILY_HEDGE[0]`` to ``FAMILY_HEDGE[1]`` times the family's widest blur:
    the gallery for an image whose own degradation blur cannot be told."""
    widest = widest_blur(scale)
    fractions = np.linspace(FAMILY_HEDGE[0], FAMILY_HEDGE[1], HEDGE_STEPS)
    return np.stack([gaussian_kernel(KERNEL_SIZE, f * widest, f * widest, 0.0) for f in fractions])


def wavelet_noise(image: Any, rgb: bool | None = None) -> float:
    """Noise std of ``image``'s representative plane, in the units of an image scaled to std 0.25
    (as :class:`BlurEstimate` reports it), from the finest wavelet band (robust MAD estimate)."""
    from skimage.restoration import estimate_sigma

    plane = representative_plane(image, rgb)
    if not np.isfinite(plane).all():
        raise ValueError("the image contains NaN or infinite values; replace them before super-resolving")
    spread = float(plane.std())
    if spread <= 1e-9 * max(1.0, float(np.abs(plane).max())):
        return MIN_NOISE
    return float(estimate_sigma(plane)) * 0.25 / spread


@lru_cache(maxsize=64)
def _solved(scale: int, major: float, minor: float, angle_deg: float, noise: float, filter_size: int) -> NSSRModel:
    """The filter for quantised widths (HR pixels; ``inf`` for an unknown blur), angle and noise."""
    kernels = hedged_gallery(scale, major, minor, math.radians(angle_deg))
    chain = ChainSettings(noise=noise)
    h = ChainStatistics.expected(kernels, scale, filter_size, chain).optimum()
    unknown = blur_unknown(scale, major, minor)
    if unknown:
        blur = f"unknown, family up to {widest_blur(scale):.2f} px"
    else:
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
                "major_hr": None if unknown else major,  # None: solved over the family (family_gallery)
                "minor_hr": None if unknown else minor,
                "angle_deg": angle_deg,
                "noise": noise,
                "hedge": list(FAMILY_HEDGE if unknown else hedge(scale)),
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
    return round(major, 4), round(minor, 4), float(angle_deg), _quantised_noise(estimate.noise)


def _quantised_noise(noise: float) -> float:
    """``NOISE_MARGIN`` times the estimated noise, at least ``MIN_NOISE``, on a quarter-octave grid."""
    return round(max(MIN_NOISE, float(np.exp(np.round(np.log(max(NOISE_MARGIN * noise, 1e-6)) * 4) / 4))), 5)


def blind_model(image: Any, scale: float, rgb: bool | None = None, filter_size: int | None = None) -> NSSRModel:
    """The inverse filter for ``image``'s own estimated blur and noise at ``scale`` (cached per estimate).

    ``filter_size`` defaults to :func:`default_filter_size`. Images under ``MIN_SIDE`` pixels have
    too few frequencies to fit a blur; their filter is solved over the family's blurs
    (:func:`family_gallery`) at their wavelet-estimated noise.
    """
    from .inference import Layout  # inference imports this module, so not at the top

    layout = Layout.of(tuple(image.shape), rgb)
    solve_at = _solve_scale(scale)
    size = default_filter_size(solve_at) if filter_size is None else filter_size
    if min(image.shape[a] for a in layout.spatial) < MIN_SIDE:
        return _solved(solve_at, math.inf, math.inf, 0.0, _quantised_noise(wavelet_noise(image, rgb)), size)
    return _solved(solve_at, *_quantised(estimate_blur(image, rgb), solve_at), size)
