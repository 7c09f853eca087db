"""Estimate an image's own blur (an anisotropic Gaussian) and noise from its power spectrum.

The low-resolution image (luma, Hann-windowed, scaled to std 0.25) is binned into rings of
spatial frequency ``f`` and sectors of direction ``theta``, and the mean power per cell is fitted
with

    log P(f, theta) = log( A(theta) |f|^-alpha exp(-4 pi^2 f^T C f) + n^2 )

a natural-image power law whose amplitude may differ per direction (edges of buildings, rows of
cells), a Gaussian blur of covariance ``C`` (LR pixels squared) and a white-noise floor ``n``.
The per-direction amplitude absorbs most of the image's own anisotropy, so the *slope* of the
fall-off with ``f^2`` in each direction is what measures the blur there.

``C`` is an *effective* blur: an image that is smooth in itself reads as blurred. Callers hedge
for that (``blind.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft
from scipy.optimize import least_squares

from ...core.errors import ImageError
from ...core.layout import Layout

MIN_NOISE = 0.004  # the chain models' own noise level: never assume a cleaner image than that
RINGS = 24
SECTORS = 8
F_MIN, F_MAX = 0.03, 0.5  # cycles per LR pixel; below F_MIN the window's leakage dominates
MIN_SIDE_FOR_DIRECTIONS = 48  # smaller images have too few frequencies per direction: one round blur
# larger planes are fitted on a centred crop this wide: the ring-and-sector averages need no more,
# and a 4096x4096 plane took 3.7 s instead of 0.09 s (a GUI sitting at 0% that long looks hung)
MAX_SIDE = 1024
ALPHA_RANGE = (1.0, 3.5)
MAX_EVALUATIONS = 200
NOISE_FLOOR_DEPTH = 14.0  # lowest noise power fitted: e**-14 (1e-6) of the weakest cell's power


@dataclass(frozen=True)
class BlurEstimate:
    """An image's effective blur, noise and spectral slope, in LR pixels.

    ``covariance`` is ``(c_xx, c_xy, c_yy)`` with ``x`` along columns and ``y`` along rows;
    ``sigma`` is the round-equivalent width ``sqrt((c_xx + c_yy) / 2)``; ``noise`` is the std
    of white noise for the image scaled to std 0.25; ``alpha`` the power-law slope.
    """

    sigma: float
    noise: float
    alpha: float
    covariance: tuple[float, float, float] = (0.0, 0.0, 0.0)
    log_amplitude: float = math.nan  # log of the power law's amplitude, mean over directions

    def signal_power(self, frequency: float) -> float:
        """The fitted power-law signal power at ``frequency`` (cycles per LR pixel), before blur, for
        the image scaled to std 0.25 (the noise's units): NaN when not fitted."""
        return math.exp(self.log_amplitude) * frequency ** (-self.alpha)

    @property
    def axes(self) -> tuple[float, float, float]:
        """``(major std, minor std, angle)``: the blur's principal widths and the major axis's
        angle from the column axis towards the row axis, in radians in [0, pi)."""
        c_xx, c_xy, c_yy = self.covariance
        values, vectors = np.linalg.eigh(np.array([[c_xx, c_xy], [c_xy, c_yy]]))
        major = vectors[:, 1]
        angle = math.atan2(major[1], major[0]) % math.pi
        return math.sqrt(max(values[1], 0.0)), math.sqrt(max(values[0], 0.0)), angle


def representative_plane(image: Any, rgb: bool | None, max_side: int | None = None) -> np.ndarray:
    """One 2D plane that stands for the image (the middle of any leading axes; RGB as channel mean),
    cropped around its centre to ``max_side`` when given."""
    return Layout.of(tuple(image.shape), rgb).representative_plane(image, max_side)


@dataclass
class _SpectrumCells:
    """Mean log power per (ring, sector) cell, with each cell's mean ``log f`` and ``f f^T``."""

    log_power: np.ndarray
    log_f: np.ndarray
    f_xx: np.ndarray
    f_xy: np.ndarray
    f_yy: np.ndarray
    sector: np.ndarray
    sectors: int


@dataclass(frozen=True)
class _CellGeometry:
    """Where each half-spectrum frequency of a plane shape falls, and the cells' frequency means."""

    window: np.ndarray
    used: np.ndarray  # flat indices into the half spectrum
    cell: np.ndarray
    weight: np.ndarray  # 2 for a frequency standing for itself and its mirror, 1 for self-mirrored ones
    count: np.ndarray  # per kept cell, in full-spectrum frequencies
    kept: np.ndarray
    cells: int
    log_f: np.ndarray
    f_xx: np.ndarray
    f_xy: np.ndarray
    f_yy: np.ndarray
    sector: np.ndarray


@lru_cache(maxsize=8)
def _cell_geometry(shape: tuple[int, int], sectors: int) -> _CellGeometry:
    """The binning for ``shape`` (cached: the blind estimate sees the same 1024 crop size again and
    again). The spectrum of a real plane is symmetric (P(f) = P(-f)), so only the half ``rfft2``
    computes is binned, each frequency weighted for its mirror: the full spectrum's cell means,
    at half the cost."""
    rows, cols = shape
    window = np.outer(np.hanning(rows), np.hanning(cols))
    half = cols // 2 + 1
    fy = np.broadcast_to(np.fft.fftfreq(rows)[:, None], (rows, half)).ravel()
    fx = np.broadcast_to(np.fft.rfftfreq(cols)[None, :], (rows, half)).ravel()
    column = np.broadcast_to(np.arange(half)[None, :], (rows, half)).ravel()
    f = np.hypot(fy, fx)
    used = np.flatnonzero((f > F_MIN) & (f <= F_MAX))
    fx, fy, f, column = fx[used], fy[used], f[used], column[used]
    # column 0 (and the Nyquist column of an even width) holds both a frequency and its mirror
    self_mirrored = (column == 0) | ((cols % 2 == 0) & (column == cols // 2))
    weight = np.where(self_mirrored, 1.0, 2.0)
    ring = np.minimum(np.digitize(f, np.linspace(F_MIN, F_MAX, RINGS + 1)) - 1, RINGS - 1)
    # P(f) = P(-f): a direction and its opposite share a sector
    sector = np.minimum((np.mod(np.arctan2(fy, fx), math.pi) / math.pi * sectors).astype(int), sectors - 1)
    cell = ring * sectors + sector
    cells = RINGS * sectors
    count = np.bincount(cell, weight, minlength=cells)
    kept = count >= 4

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, values * weight, minlength=cells)[kept] / count[kept]

    return _CellGeometry(
        window=window,
        used=used,
        cell=cell,
        weight=weight,
        count=count[kept],
        kept=kept,
        cells=cells,
        log_f=mean(np.log(f)),
        f_xx=mean(fx * fx),
        f_xy=mean(fx * fy),
        f_yy=mean(fy * fy),
        sector=(np.arange(cells) % sectors)[kept],
    )


def _spectrum_cells(plane: np.ndarray, sectors: int) -> _SpectrumCells:
    geometry = _cell_geometry(tuple(plane.shape), sectors)
    window = geometry.window
    spectrum = scipy.fft.rfft2((plane - plane.mean()) * window, workers=-1)
    power = (spectrum.real**2 + spectrum.imag**2).ravel()[geometry.used] / (window**2).sum()
    cell_power = np.bincount(geometry.cell, power * geometry.weight, minlength=geometry.cells)
    return _SpectrumCells(
        log_power=np.log(np.maximum(cell_power[geometry.kept] / geometry.count, 1e-30)),
        log_f=geometry.log_f,
        f_xx=geometry.f_xx,
        f_xy=geometry.f_xy,
        f_yy=geometry.f_yy,
        sector=geometry.sector,
        sectors=sectors,
    )


def _fit(cells: _SpectrumCells, round_blur: bool) -> BlurEstimate:
    s = cells.sectors

    def covariance(q: np.ndarray) -> tuple[float, float, float]:
        l11, l21, l22 = q[s + 1 : s + 4]  # Cholesky factor: the covariance stays positive semi-definite
        if round_blur:
            return l11 * l11, 0.0, l11 * l11
        return l11 * l11, l11 * l21, l21 * l21 + l22 * l22

    def residual(q: np.ndarray) -> np.ndarray:
        c_xx, c_xy, c_yy = covariance(q)
        quadratic = c_xx * cells.f_xx + 2 * c_xy * cells.f_xy + c_yy * cells.f_yy
        signal = q[cells.sector] - q[s] * cells.log_f - 4 * math.pi**2 * quadratic
        return np.logaddexp(signal, q[-1]) - cells.log_power

    def jacobian(q: np.ndarray) -> np.ndarray:
        # analytic: three times fewer residual evaluations than finite differences
        c_xx, c_xy, c_yy = covariance(q)
        quadratic = c_xx * cells.f_xx + 2 * c_xy * cells.f_xy + c_yy * cells.f_yy
        signal = q[cells.sector] - q[s] * cells.log_f - 4 * math.pi**2 * quadratic
        to_signal = 1.0 / (1.0 + np.exp(np.clip(q[-1] - signal, -700, 700)))  # d logaddexp / d signal
        l11, l21, l22 = q[s + 1 : s + 4]
        if round_blur:
            d_quadratic = [2 * l11 * (cells.f_xx + cells.f_yy), 0 * cells.f_xx, 0 * cells.f_xx]
        else:
            d_quadratic = [
                2 * l11 * cells.f_xx + 2 * l21 * cells.f_xy,
                2 * l11 * cells.f_xy + 2 * l21 * cells.f_yy,
                2 * l22 * cells.f_yy,
            ]
        jac = np.zeros((cells.log_power.size, q.size))
        jac[np.arange(cells.sector.size), cells.sector] = to_signal
        jac[:, s] = -cells.log_f * to_signal
        for k, d in enumerate(d_quadratic):
            jac[:, s + 1 + k] = -4 * math.pi**2 * d * to_signal
        jac[:, -1] = 1.0 - to_signal
        return jac

    top, bottom = cells.log_power.max(), cells.log_power.min()
    start = np.r_[np.full(s, top - 2), 2.0, 0.5, 0.0, 0.5, bottom - 2]
    # a noise floor far below the weakest cell changes no residual; bounded there, a clean image's
    # fit converges instead of creeping towards zero noise until the evaluations run out
    lower = np.r_[np.full(s, -80.0), ALPHA_RANGE[0], 0.0, -5.0, 0.0, max(-80.0, bottom - NOISE_FLOOR_DEPTH)]
    upper = np.r_[np.full(s, 80.0), ALPHA_RANGE[1], 5.0, 5.0, 5.0, 10.0]
    # a fit still moving after MAX_EVALUATIONS creeps along a flat valley (a two-level image's blur
    # towards 0, 0.3 s on scikit-image's horse): its point by then reads the same blur
    q = least_squares(residual, start, jac=jacobian, bounds=(lower, upper), max_nfev=MAX_EVALUATIONS).x
    c_xx, c_xy, c_yy = covariance(q)
    return BlurEstimate(
        sigma=math.sqrt((c_xx + c_yy) / 2),
        noise=math.exp(q[-1] / 2),
        alpha=float(q[s]),
        covariance=(float(c_xx), float(c_xy), float(c_yy)),
        log_amplitude=float(np.log(np.mean(np.exp(q[:s])))),
    )


def estimate_blur(image: Any, rgb: bool | None = None) -> BlurEstimate:
    """Estimate the effective blur (anisotropic Gaussian) and noise of ``image`` from its own
    power spectrum (about 0.1 s; planes wider than :data:`MAX_SIDE` are fitted on a centred crop).

    Parameters
    ----------
    image : array-like
        2D, RGB or a stack; its representative plane (:func:`representative_plane`) is fitted.
    rgb : bool or None
        Whether the last axis is colour (``None`` guesses).

    Returns
    -------
    BlurEstimate
        In low-resolution pixels; a flat image gets no blur and the noise floor.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr.methods import estimate_blur
    >>> estimate = estimate_blur(np.random.default_rng(0).random((64, 64)))
    >>> estimate.sigma > 0 and estimate.noise > 0
    True
    """
    return estimate_blur_planes([representative_plane(image, rgb, MAX_SIDE)])


def estimate_blur_planes(planes: Sequence[np.ndarray]) -> BlurEstimate:
    """:func:`estimate_blur` for 2D planes of one image (a stack's planes, say): each is scaled to
    std 0.25 and their spectra are averaged before the one fit, so that structure found in a single
    plane weighs less. Flat planes are left out.

    Parameters
    ----------
    planes : sequence of numpy.ndarray
        2D planes of the same shape, at least 16 x 16 pixels.

    Returns
    -------
    BlurEstimate
    """
    kept = []
    for plane in planes:
        if min(plane.shape) < 16:
            raise ImageError(f"blind estimation needs at least 16x16 pixels, got {plane.shape}")
        if not np.isfinite(plane).all():
            raise ImageError("the image contains NaN or infinite values; replace them before super-resolving")
        spread = plane.std()
        if spread > 1e-9 * max(1.0, float(np.abs(plane).max())):  # flat: nothing to estimate or sharpen
            kept.append(plane * (0.25 / spread))  # the chain prior's images have std 0.25
    if not kept:
        return BlurEstimate(0.0, MIN_NOISE, 2.0)
    sectors = 1 if min(kept[0].shape) < MIN_SIDE_FOR_DIRECTIONS else SECTORS
    cells = [_spectrum_cells(plane, sectors) for plane in kept]
    if len(cells) > 1:
        cells[0].log_power = np.log(np.mean([np.exp(c.log_power) for c in cells], axis=0))
    return _fit(cells[0], round_blur=sectors == 1)
