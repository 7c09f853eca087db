"""Blind per-image mode: estimate the image's own blur and noise, then solve the inverse filter for them.

The estimate fits the radial power spectrum of the low-resolution image (luma, Hann-windowed) with
``log P(f) = log(A f^-alpha exp(-4 pi^2 sigma^2 f^2) + n^2)``: a natural-image power law, a
Gaussian blur of width ``sigma`` (LR pixels) and a white-noise floor ``n``. ``sigma`` is the
*effective* width: an image that is smooth in itself reads as blurred.

Over-sharpening costs far more than under-sharpening, and on the benchmark images the estimate
overshoots the true width by up to ~1.9x. So the filter is not solved for ``sigma`` alone but with
the degradation-aware objective over a gallery of kernels whose widths lie between 0.5x and 1x
the estimate (``HEDGE``): DIV2KRK-shaped kernels from a fixed pool, topped up with round
Gaussians. The estimated noise enters the objective. A solve takes about 0.3 s and is cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from .chain import ChainSettings, ChainStatistics
from .kernels import GallerySettings, div2krk_kernel, gaussian_kernel
from .model_file import NSSRModel, model_for_scale

BLIND = "blind"
HEDGE = (0.5, 1.0)  # gallery widths as fractions of the estimated width
MIN_NOISE = 0.004  # the chain models' own noise level: never assume a cleaner image than that
GALLERY_MIN = 24  # kernels per solve at least (round Gaussians fill in)
GALLERY_MAX = 32  # solve time grows with it: 32 keeps a solve near 0.3 s
POOL_COUNT = 1500  # DIV2KRK kernels per scale to choose from
POOL_KERNEL_SIZE = 21
POOL_SEED = 123
MIN_SIDE = 32  # smaller images fall back to the universal degradation-aware model


@dataclass(frozen=True)
class BlurEstimate:
    """Effective Gaussian blur ``sigma`` (LR pixels), noise ``noise`` (std, for an image of std 0.25)
    and spectral slope ``alpha`` of one image."""

    sigma: float
    noise: float
    alpha: float


def _plane(image: Any, rgb: bool | None) -> np.ndarray:
    """One representative 2D plane (the middle of any leading axes; RGB as mean of channels)."""
    from .inference import Layout  # inference imports this module, so not at the top

    layout = Layout.of(tuple(image.shape), rgb)
    index = tuple(n // 2 for n in image.shape[: layout.spatial[0]])
    plane = np.asarray(image[index], dtype=np.float64)
    return plane[..., :3].mean(axis=-1) if layout.rgb else plane


def _radial_power(plane: np.ndarray, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    plane = plane - plane.mean()
    window = np.outer(np.hanning(plane.shape[0]), np.hanning(plane.shape[1]))
    power = np.abs(np.fft.fft2(plane * window)) ** 2 / (window**2).sum()
    f = np.hypot(np.fft.fftfreq(plane.shape[0])[:, None], np.fft.fftfreq(plane.shape[1])[None, :]).ravel()
    edges = np.linspace(0.02, 0.5, bins)
    which = np.digitize(f, edges)
    freqs, powers = [], []
    for i in range(1, bins):
        ring = which == i
        if ring.sum() > 5:
            freqs.append(f[ring].mean())
            powers.append(power.ravel()[ring].mean())
    return np.array(freqs), np.array(powers)


def estimate_blur(image: Any, rgb: bool | None = None) -> BlurEstimate:
    """Estimate the effective blur and noise of ``image`` from its own power spectrum (~10 ms per Mpx plane)."""
    plane = _plane(image, rgb)
    if min(plane.shape) < 16:
        raise ValueError(f"blind estimation needs at least 16x16 pixels, got {plane.shape}")
    if not np.isfinite(plane).all():
        raise ValueError("the image contains NaN or infinite values; replace them before super-resolving")
    spread = plane.std()
    if spread <= 1e-9 * max(1.0, float(np.abs(plane).max())):  # flat: nothing to estimate or sharpen
        return BlurEstimate(0.0, MIN_NOISE, 2.0)
    plane = plane * (0.25 / spread)  # the chain prior's images have std 0.25
    f, p = _radial_power(plane)
    log_p = np.log(np.maximum(p, 1e-30))

    def residual(q: np.ndarray) -> np.ndarray:
        log_a, alpha, sigma, log_n2 = q
        signal = log_a - alpha * np.log(f) - 4 * math.pi**2 * sigma**2 * f**2
        return np.logaddexp(signal, log_n2) - log_p

    start = [log_p[0] + 2 * np.log(f[0]), 2.0, 0.5, log_p[-1] - 3]
    fit = least_squares(residual, start, bounds=([-60, 1.5, 0, -80], [60, 3.0, 5, 10]))
    _, alpha, sigma, log_n2 = fit.x
    return BlurEstimate(float(sigma), float(math.exp(log_n2 / 2)), float(alpha))


def _solve_scale(scale: float) -> int:
    """The integer scale the chain objective is solved at (it subsamples by whole pixels)."""
    return int(min(8, max(2, round(scale))))


def rms_width(kernel: np.ndarray) -> float:
    """Root-mean-square radius of a kernel per axis (the std of a round Gaussian), in pixels."""
    n = kernel.shape[0]
    y, x = np.mgrid[:n, :n] - n // 2
    my, mx = float((kernel * y).sum()), float((kernel * x).sum())
    return math.sqrt(float((kernel * ((y - my) ** 2 + (x - mx) ** 2)).sum()) / 2)


@lru_cache(maxsize=8)
def _kernel_pool(scale: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed pool of DIV2KRK kernels for ``scale`` and their widths (HR pixels)."""
    rng = np.random.default_rng(POOL_SEED)
    kernels = np.stack([div2krk_kernel(POOL_KERNEL_SIZE, scale, rng) for _ in range(POOL_COUNT)])
    return kernels, np.array([rms_width(k) for k in kernels])


def hedged_gallery(scale: int, sigma_hr: float) -> np.ndarray:
    """Kernels no wider than the estimate and no narrower than half of it (``HEDGE``).

    Shapes come from the DIV2KRK pool (anisotropic, irregular); round Gaussians fill in where
    the pool has too few, e.g. for estimates sharper than any DIV2KRK kernel.
    """
    kernels, widths = _kernel_pool(scale)
    chosen = kernels[(widths >= HEDGE[0] * sigma_hr) & (widths <= HEDGE[1] * sigma_hr)][:GALLERY_MAX]
    missing = GALLERY_MIN - len(chosen)
    if missing > 0:
        fill = np.geomspace(HEDGE[0], HEDGE[1], missing) * sigma_hr
        round_ones = np.stack([gaussian_kernel(POOL_KERNEL_SIZE, max(w, 0.2), max(w, 0.2)) for w in fill])
        chosen = np.concatenate([chosen, round_ones]) if len(chosen) else round_ones
    return chosen


@lru_cache(maxsize=64)
def _solved(scale: int, sigma_hr: float, noise: float, filter_size: int) -> NSSRModel:
    kernels = hedged_gallery(scale, sigma_hr)
    chain = ChainSettings(noise=noise)
    h = ChainStatistics.from_kernels(kernels, scale, filter_size, chain).optimum()
    return NSSRModel(
        filter=h.float(),
        name=f"blind-x{scale} (blur {sigma_hr:.2f} px, noise {noise:.3f})",
        kind="closed_form",
        gallery=GallerySettings(family="div2krk", count=len(kernels), size=POOL_KERNEL_SIZE, scale=float(scale)),
        architecture=None,
        chain=chain,
        training={"blind": {"sigma_hr": sigma_hr, "noise": noise, "hedge": list(HEDGE), "kernels": len(kernels)}},
    )


def blind_model(image: Any, scale: float, rgb: bool | None = None, filter_size: int = 11) -> NSSRModel:
    """The inverse filter for ``image``'s own estimated blur and noise at ``scale`` (cached per estimate).

    Images under ``MIN_SIDE`` pixels have too few frequencies to fit; they get the bundled
    degradation-aware model for the nearest scale instead.
    """
    from .inference import Layout  # inference imports this module, so not at the top

    layout = Layout.of(tuple(image.shape), rgb)
    if min(image.shape[a] for a in layout.spatial) < MIN_SIDE:
        return model_for_scale("chain", scale)
    estimate = estimate_blur(image, rgb)
    solve_at = _solve_scale(scale)
    # quantised so that similar images share one solve
    sigma_hr = max(0.2, round(estimate.sigma * solve_at / 0.05) * 0.05)
    noise = max(MIN_NOISE, float(np.exp(np.round(np.log(max(estimate.noise, 1e-6)) * 4) / 4)))
    return _solved(solve_at, sigma_hr, round(noise, 5), filter_size)
