"""An image's spectral slope (and noise), measured knowing its PSF.

The low-resolution image is ``subsample(K * x) + n``. With ``x`` a power law ``A |nu|^-alpha`` its
spectrum is, at each low-resolution frequency ``f``,

    S(f) = A / s^2 * sum_m |K((f + m) / s)|^2 |(f + m) / s|^-alpha + noise^2

summed over the ``s x s`` aliases ``m``. With ``K`` known only ``A``, ``alpha`` and the noise are
fitted (to the ring-averaged log spectrum). The blind estimate cannot do this: it fits a Gaussian
blur too, and where the PSF is narrower than a low-resolution pixel (x4 in a microscope) it reads
the aliased detail as noise and smooths it away (pollen x4: 0.09 instead of 0.02, and a filter
below bicubic).

Where aliased detail dominates every frequency, though, a noise floor is barely identifiable from
the spectrum (the fit can return 0 for a true 0.03). Callers that have a better noise estimate
(the wavelet one, within 20% on the real microscopy at x2 and x4) pass it as ``noise`` and only
the amplitude and slope are fitted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from ...core.degrade import sampling_kernel
from ...core.errors import ImageError
from ...core.layout import Layout
from ..blind.estimate import ALPHA_RANGE, F_MAX, F_MIN, RINGS

MAX_SIDE = 256  # the fit uses a centre crop at most this wide: ring averages need no more


def _kernel_power(psf: np.ndarray, scale: int, shape: tuple[int, int]) -> np.ndarray:
    """``|K|^2`` at every high-resolution frequency of an ``s*n0 x s*n1`` grid, as ``(s, n0, s, n1)``:
    axis 0/2 index the alias, 1/3 the low-resolution frequency bin."""
    n0, n1 = shape
    kernel = sampling_kernel(psf, scale)  # displaced as blur_subsample applies it
    grid = np.zeros((scale * n0, scale * n1))
    c0, c1 = kernel.shape[0] // 2, kernel.shape[1] // 2
    rows = (np.arange(kernel.shape[0]) - c0) % grid.shape[0]
    cols = (np.arange(kernel.shape[1]) - c1) % grid.shape[1]
    grid[np.ix_(rows, cols)] = kernel
    return (np.abs(np.fft.fft2(grid)) ** 2).reshape(scale, n0, scale, n1)


@dataclass(frozen=True)
class PSFSpectrum:
    """What :func:`fit_psf_spectrum` found, for the image scaled to std 0.25.

    ``amplitude * (f / s)^-alpha / s^2`` is the unblurred signal power at low-resolution frequency
    ``f`` (the form of :func:`~napari_nssr.objectives.chain.prior_lr_power`, so the two compare
    directly); ``noise`` is the white noise's std.
    """

    alpha: float
    noise: float
    amplitude: float


def fit_psf_spectrum(
    image: Any,
    rgb: bool | None,
    psf: np.ndarray,
    scale: int,
    fixed_alpha: float | None = None,
    noise: float | None = None,
) -> PSFSpectrum:
    """The spectral slope, amplitude and white-noise level of ``image``, knowing its PSF.

    Parameters
    ----------
    image : array-like
        The low-resolution image (its representative plane is used, centre-cropped to
        :data:`MAX_SIDE`).
    rgb : bool or None
        Whether the last axis is colour.
    psf : numpy.ndarray
        The PSF on the high-resolution grid (summing to 1).
    scale : int
        The integer factor between the two grids.
    fixed_alpha : float, optional
        Do not fit the slope: use this one.
    noise : float, optional
        Do not fit the noise: use this level (image scaled to std 0.25).

    Returns
    -------
    PSFSpectrum
        The slope, the amplitude and the noise (the std of white noise for the image scaled to std
        0.25: the convention of :class:`~napari_nssr.objectives.chain.ChainSettings`).
    """
    plane = Layout.of(tuple(image.shape), rgb).representative_plane(image, MAX_SIDE)
    if not np.isfinite(plane).all():
        raise ImageError("the image contains NaN or infinite values; replace them before super-resolving")
    spread = float(plane.std())
    if spread <= 1e-9 * max(1.0, float(np.abs(plane).max())):
        return PSFSpectrum(2.0, 0.0, 0.0)
    plane = (plane - plane.mean()) * (0.25 / spread)
    n0, n1 = plane.shape
    window = np.outer(np.hanning(n0), np.hanning(n1))
    power = np.abs(np.fft.fft2(plane * window)) ** 2 / (window**2).sum()
    f_lr = np.hypot(np.fft.fftfreq(n0)[:, None], np.fft.fftfreq(n1)[None, :])
    used = (f_lr > F_MIN) & (f_lr <= F_MAX)
    ring = np.minimum(np.digitize(f_lr[used], np.linspace(F_MIN, F_MAX, RINGS + 1)) - 1, RINGS - 1)
    count = np.bincount(ring, minlength=RINGS)
    kept = count >= 4
    log_power = np.log(np.maximum(np.bincount(ring, power[used], RINGS)[kept] / count[kept], 1e-30))
    # the alias frequencies in high-resolution cycles per pixel, on the same (s, n0, s, n1) layout
    nu_y = np.fft.fftfreq(scale * n0).reshape(scale, n0)[:, :, None, None]
    nu_x = np.fft.fftfreq(scale * n1).reshape(scale, n1)[None, None, :, :]
    log_nu = np.log(np.maximum(np.hypot(nu_y, nu_x), 1.0 / (scale * max(n0, n1))))
    k2 = _kernel_power(psf, scale, (n0, n1))
    # (aliases, bins): summing over the aliases adds whole rows (fast), not short runs of each bin
    k2_used = np.ascontiguousarray(k2.transpose(0, 2, 1, 3)[:, :, used].reshape(scale * scale, -1))
    log_nu_used = np.ascontiguousarray(
        np.broadcast_to(log_nu, k2.shape).transpose(0, 2, 1, 3)[:, :, used].reshape(scale * scale, -1)
    )

    # the parameters fitted: log amplitude, then the slope and the log noise power unless given
    names = ["amplitude"] + (["alpha"] if fixed_alpha is None else []) + (["noise"] if noise is None else [])
    start = {"amplitude": 0.0, "alpha": 2.0, "noise": float(log_power.min()) - 2}
    lower = {"amplitude": -80.0, "alpha": ALPHA_RANGE[0], "noise": -80.0}
    upper = {"amplitude": 80.0, "alpha": ALPHA_RANGE[1], "noise": 10.0}
    log_noise_power = None if noise is None else 2 * math.log(max(noise, 1e-12))

    def unpack(q: np.ndarray) -> tuple[float, float, float]:
        values = dict(zip(names, (float(v) for v in q)))
        alpha = values["alpha"] if fixed_alpha is None else float(fixed_alpha)
        level = values["noise"] if log_noise_power is None else log_noise_power
        return values["amplitude"], alpha, level

    def parts(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The log signal power per ring, its derivative in the slope, and the log noise power."""
        amplitude, alpha, level = unpack(q)
        weighted = k2_used * np.exp(-alpha * log_nu_used)
        signal = np.bincount(ring, weighted.sum(axis=0), RINGS)[kept]
        slope = -np.bincount(ring, (weighted * log_nu_used).sum(axis=0), RINGS)[kept]
        safe = np.maximum(signal, 1e-300)
        log_signal = amplitude + np.log(safe / (scale**2 * count[kept]))
        return log_signal, slope / safe, np.full_like(log_signal, level)

    def residual(q: np.ndarray) -> np.ndarray:
        log_signal, _, log_noise = parts(q)
        return np.logaddexp(log_signal, log_noise) - log_power

    def jacobian(q: np.ndarray) -> np.ndarray:
        # the derivatives of log(e^S + e^N): each term's share, times the term's own derivative
        log_signal, slope, log_noise = parts(q)
        share = 1.0 / (1.0 + np.exp(np.clip(log_noise - log_signal, -700, 700)))
        columns = {"amplitude": share, "alpha": share * slope, "noise": 1.0 - share}
        return np.stack([columns[n] for n in names], axis=1)

    q = least_squares(
        residual,
        [start[n] for n in names],
        jac=jacobian,
        bounds=([lower[n] for n in names], [upper[n] for n in names]),
    ).x
    amplitude, alpha, level = unpack(q)
    return PSFSpectrum(alpha, math.exp(level / 2), math.exp(amplitude))
