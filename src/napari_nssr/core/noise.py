"""Signal-dependent (Poisson-Gaussian) noise: its model, its estimate from one image, and the
variance-stabilising transform with its exact unbiased inverse.

A camera counts photons: a pixel's value is ``z = offset + gain * p + r`` with ``p`` Poisson
(the photons, or electrons) and ``r`` Gaussian read noise. Its variance grows with the signal,

    var(z) = gain * (E[z] - offset) + read_std^2,

so bright structures are noisier than the background, which one white-noise level cannot describe.
White Gaussian noise is the special case ``gain = 0``.

The estimate (:func:`estimate_noise_model`) follows the idea of Foi et al. (2008), "Practical
Poissonian-Gaussian noise modeling and fitting for single-image raw-data": pair each local mean
with the variance of a high-pass detail there, keep the smooth places, and fit the line
``var = a * mean + b``. Here the detail is a second difference along both axes of 3 x 3 cells
(:data:`STENCIL`: its noise variance is the pixel's, and it cancels a signal linear along either
axis), the pairs are pooled in blocks of 8 x 8 cells, and in each intensity band a low quantile
of the block variances (corrected for its chi-square bias) stands for the noise: textured blocks
only raise the upper quantiles.

The generalised Anscombe transform maps such noise to unit variance; its exact unbiased inverse
(the closed-form approximation of Makitalo and Foi, 2013) maps an estimate of the transformed
mean back without the bias a plain algebraic inverse has at low counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.stats import chi2

from .errors import ImageError, SettingsError
from .layout import centre_window

BLOCK = 8  # cells (3 x 3 pixels) per block side: 64 detail samples per block
BANDS = 12  # intensity bands the blocks are sorted into
QUANTILE = 0.25  # the noise stands for a band's lowest block variances: textured blocks sit above
MIN_BLOCKS_PER_BAND = 6
MAX_SIDE = 1024  # the estimate uses a centred crop this wide: 16,000 blocks are plenty
# the high-pass detail of a 3 x 3 cell: [1, -2, 1] along both axes, unit noise gain. It cancels
# any signal that is linear along either axis (and x^2, y^2): a blurred image's detail is mostly noise
STENCIL = np.outer([1.0, -2.0, 1.0], [1.0, -2.0, 1.0]) / 6.0


@dataclass(frozen=True)
class NoiseModel:
    """Poisson-Gaussian noise in the image's own units: ``var(z) = gain * (z - offset) + read_std**2``.

    Parameters
    ----------
    gain : float
        Variance added per unit of signal above ``offset`` (the camera's units per photon or
        electron); 0 for white Gaussian noise.
    read_std : float
        Standard deviation of the signal-independent (read) noise, in image units.
    offset : float
        The value of zero photons (the camera's black level).
    """

    gain: float
    read_std: float
    offset: float = 0.0

    def __post_init__(self) -> None:
        for name in ("gain", "read_std", "offset"):
            if not math.isfinite(getattr(self, name)):
                raise SettingsError(f"NoiseModel.{name} must be finite, got {getattr(self, name)}")
        if self.gain < 0 or self.read_std < 0:
            raise SettingsError(f"NoiseModel needs gain >= 0 and read_std >= 0, got {self.gain}, {self.read_std}")

    @classmethod
    def white(cls, std: float) -> NoiseModel:
        """White Gaussian noise of standard deviation ``std``."""
        return cls(0.0, float(std))

    @classmethod
    def from_camera(cls, gain: float, offset: float = 0.0, read_noise: float = 0.0) -> NoiseModel:
        """A camera's parameters: ``gain`` in image units per electron, ``offset`` (black level) in image
        units, ``read_noise`` in electrons (rms), as camera data sheets give them."""
        if gain <= 0:
            raise SettingsError(f"a camera's gain must be positive, got {gain}")
        return cls(float(gain), float(gain * read_noise), float(offset))

    @property
    def is_white(self) -> bool:
        """Whether the noise does not depend on the signal."""
        return self.gain == 0.0

    def variance(self, signal: Any) -> np.ndarray:
        """The noise variance at ``signal`` (never below zero)."""
        signal = np.asarray(signal, dtype=np.float64)
        # numpy's square: a read noise beyond 1e154 (an image in units of 1e300) gives inf, not an exception
        return np.maximum(self.gain * (signal - self.offset) + np.square(np.float64(self.read_std)), 0.0)

    def mean_std(self, image: Any) -> float:
        """The root-mean-square noise over ``image``: the level of white noise with the same power
        (what a linear filter sees)."""
        return float(math.sqrt(float(self.variance(np.asarray(image, dtype=np.float64)).mean())))

    def stabilise(self, image: Any) -> np.ndarray:
        """The generalised Anscombe transform: the noise of the result has variance about 1 wherever the
        signal is more than a few photons (float32 for a float32 input, else float64)."""
        z = np.asarray(image)
        # float32 stays float32: the engine's tiles are float32, and this runs on every one of them
        z = z.astype(np.float32 if z.dtype == np.float32 else np.float64, copy=False)
        if self.is_white:
            return (z - z.dtype.type(self.offset)) / z.dtype.type(max(self.read_std, float(np.finfo(z.dtype).tiny)))
        sigma = self.read_std / self.gain
        photons = (z - z.dtype.type(self.offset)) / z.dtype.type(self.gain)
        photons += z.dtype.type(0.375 + sigma**2)
        np.maximum(photons, 0, out=photons)
        np.sqrt(photons, out=photons)
        photons *= 2
        return photons

    def unstabilise(self, transformed: Any) -> np.ndarray:
        """The exact unbiased inverse of :meth:`stabilise`: given the *mean* of the transformed value
        it returns the mean signal, not the biased algebraic inverse (which is off by tens of percent
        below ten photons).

        Below :data:`EXACT_INVERSE_UP_TO` photons the expectation of the transform is computed
        numerically (Poisson sum and Gauss-Hermite quadrature over the read noise) and inverted by
        interpolation; above, Makitalo and Foi's closed-form approximation is exact to 1e-4 photons.
        Means below that of zero photons give zero photons. The result is float32 for a float32
        input, else float64.
        """
        d = np.asarray(transformed)
        # float32 stays float32 (a 16 Mpx output plane is mapped back in 0.15 s instead of 1.2 s)
        d = d.astype(np.float32 if d.dtype == np.float32 else np.float64, copy=False)
        if self.is_white:
            return d * self.read_std + self.offset
        sigma = self.read_std / self.gain
        photons_grid, expected = expected_transform_table(round(sigma, 6))
        root = math.sqrt(1.5)
        top = d.dtype.type(expected[-1])
        photons = np.array(np.maximum(d, top))  # an array, also for a scalar
        # 0.25 d^2 + 0.25 root / d - 1.375 / d^2 + 0.625 root / d^3 - 0.125 - sigma^2, in place (Horner in 1/d)
        inverse = np.reciprocal(photons)
        tail = inverse * (0.625 * root)
        tail -= 1.375
        tail *= inverse
        tail += 0.25 * root
        tail *= inverse
        np.square(photons, out=photons)
        photons *= 0.25
        photons += tail
        photons -= 0.125 + sigma**2
        low = d <= top
        if low.any():
            photons[low] = np.interp(d[low], expected, photons_grid)
        photons *= self.gain
        photons += self.offset
        return photons if photons.ndim else photons[()]

    def split(self, image: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, NoiseModel]:
        """Two copies of ``image`` whose noises are independent of each other ("data fission").

        ``image + z`` and ``image - z``, with ``z`` Gaussian of this model's variance at ``image``:
        for Gaussian noise the two are exactly independent, each with twice the variance; for
        photon noise nearly so above a few photons. What one copy predicts of the other's values
        scores a restoration of the first without seeing the noise it is scored on (used to choose
        a restoration's strength, :mod:`napari_nssr.methods.psf.restore`).

        Parameters
        ----------
        image : array-like
            The noisy image, in its own units.
        rng : numpy.random.Generator
            Draws ``z``.

        Returns
        -------
        tuple
            ``(first, second, model)``: float64 copies and the noise model each follows (twice the
            variance: gain doubled, read noise times sqrt 2).
        """
        z = np.asarray(image, dtype=np.float64)
        shift = rng.standard_normal(z.shape) * np.sqrt(self.variance(z))
        return z + shift, z - shift, NoiseModel(2.0 * self.gain, math.sqrt(2.0) * self.read_std, self.offset)


EXACT_INVERSE_UP_TO = 60.0  # photons: the closed-form inverse is exact above (to 1e-4 photons)


@lru_cache(maxsize=32)
def expected_transform_table(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """``E[2 sqrt(p' + 3/8 + sigma^2)]`` for ``p'`` = Poisson(``p``) plus Gaussian noise of std
    ``sigma`` (photons), on a grid of ``p`` from 0 to :data:`EXACT_INVERSE_UP_TO`: increasing in ``p``."""
    from scipy.stats import poisson

    grid = np.concatenate([np.linspace(0.0, 1.0, 101)[:-1], np.geomspace(1.0, EXACT_INVERSE_UP_TO, 300)])
    counts = np.arange(0, int(EXACT_INVERSE_UP_TO + 12 * math.sqrt(EXACT_INVERSE_UP_TO) + 30))
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)  # E over the read noise, N(0, sigma^2)
    weights = weights / weights.sum()
    inner = counts[:, None] + sigma * nodes[None, :] + 0.375 + sigma**2
    per_count = (2.0 * np.sqrt(np.maximum(inner, 0.0))) @ weights
    expected = poisson.pmf(counts[None, :], grid[:, None]) @ per_count
    return grid, np.maximum.accumulate(expected)


def estimate_noise_model(planes: Any, clipped: tuple[float, float] | None = None) -> NoiseModel:
    """Estimate Poisson-Gaussian noise from one 2D plane, or several of one image, in its own units.

    Parameters
    ----------
    planes : array-like or sequence of array-like
        A 2D image, or a list of 2D planes (a stack's planes, an RGB image's channels) whose
        statistics are pooled; each at least 32 x 32 pixels. Planes wider than :data:`MAX_SIDE`
        use a centred crop.
    clipped : tuple of float, optional
        Values at which the data were clipped (a detector's floor and saturation); places holding
        them are left out. ``None``: each plane's own minimum and maximum when more than 1% of its
        pixels sit there.

    Returns
    -------
    NoiseModel
        ``offset`` 0: a black level is not told from the image.

    Raises
    ------
    ImageError
        For planes too small, not finite, or too clipped to measure.

    Notes
    -----
    Accuracy measured on synthetic and real images (tests/core/test_noise.py): the root-mean-square
    noise within 15% for white noise and for 100 to 3000 photons with 2 photons of read noise.
    """
    plane_list = [planes] if isinstance(planes, np.ndarray) and planes.ndim == 2 else list(planes)
    if not plane_list:
        raise ImageError("the noise estimate needs at least one plane")
    crops = []
    for plane in plane_list:
        z = np.asarray(plane, dtype=np.float64)
        if z.ndim != 2 or min(z.shape) < 32:
            raise ImageError(f"the noise estimate needs 2D planes of at least 32x32 pixels, got {z.shape}")
        if not np.isfinite(z).all():
            raise ImageError("the image contains NaN or infinite values; replace them before super-resolving")
        crops.append(z[centre_window(z.shape, MAX_SIDE)])
    # statistics of squares overflow (or vanish) for values far from 1: measured in units of a power
    # of two near the largest magnitude (exact), the model is scaled back at the end
    largest = max(float(np.abs(z).max()) for z in crops)
    unit = 2.0 ** -math.floor(math.log2(largest)) if largest > 0 else 1.0
    crops = [z * unit for z in crops]
    if clipped is not None:
        clipped = (clipped[0] * unit, clipped[1] * unit)
    # 3 x 3 cells in blocks; smaller blocks where the planes are small, so that there are enough
    block = BLOCK if min(min(z.shape) for z in crops) >= 3 * BLOCK * 12 else BLOCK // 2
    pooled = [_block_statistics(z, block, clipped) for z in crops]
    block_mean = np.concatenate([m for m, _ in pooled])
    block_var = np.concatenate([v for _, v in pooled])
    if block_var.size < 2 * MIN_BLOCKS_PER_BAND:
        raise ImageError("too few unclipped places to estimate the noise; give the noise level instead")
    order = np.argsort(block_mean)
    bands = np.array_split(order, min(BANDS, block_var.size // MIN_BLOCKS_PER_BAND))
    samples = block * block
    bias = chi2.ppf(QUANTILE, samples) / samples  # a low quantile of pure-noise block variances
    means = np.array([np.median(block_mean[band]) for band in bands])
    variances = np.array([np.quantile(block_var[band], QUANTILE) / bias for band in bands])
    counts = np.array([band.size for band in bands], dtype=np.float64)
    fitted = _fit_line(means, variances, counts)
    return NoiseModel(fitted.gain / unit, fitted.read_std / unit, fitted.offset / unit)


def _block_statistics(z: np.ndarray, block: int, clipped: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Per block of ``block x block`` cells of 3 x 3 pixels: the mean, and the mean square of the
    cells' detail (:data:`STENCIL`), leaving out blocks that touch a clipped value."""
    if clipped is None:
        low, high = float(z.min()), float(z.max())
        clipped = (
            low if np.mean(z == low) > 0.01 else -math.inf,
            high if np.mean(z == high) > 0.01 else math.inf,
        )
    rows, cols = (z.shape[0] // (3 * block)) * 3 * block, (z.shape[1] // (3 * block)) * 3 * block
    cells = z[:rows, :cols].reshape(rows // 3, 3, cols // 3, 3).transpose(0, 2, 1, 3)
    detail = np.tensordot(cells, STENCIL, axes=([2, 3], [0, 1]))
    touched = (cells.min(axis=(2, 3)) <= clipped[0]) | (cells.max(axis=(2, 3)) >= clipped[1])
    shape = (rows // (3 * block), block, cols // (3 * block), block)
    usable = ~touched.reshape(shape).any(axis=(1, 3)).ravel()
    block_var = (detail**2).reshape(shape).mean(axis=(1, 3)).ravel()
    block_mean = cells.mean(axis=(2, 3)).reshape(shape).mean(axis=(1, 3)).ravel()
    return block_mean[usable], block_var[usable]


def _fit_line(means: np.ndarray, variances: np.ndarray, counts: np.ndarray) -> NoiseModel:
    """Weighted least squares of ``variance = gain * mean + intercept`` with ``gain >= 0`` and
    ``intercept >= 0``; a variance's error is proportional to itself, so each point weighs
    ``count / variance^2``.

    A negative intercept would mean a black level above zero; read from one image it is mostly the
    fit's error (aliased detail raises the bright bands), and a black level taken too high clips the
    dark parts of the image in :meth:`NoiseModel.stabilise`. So the line is held through the
    origin instead; a known black level is given with the camera's parameters.
    """
    weights = counts / np.maximum(variances, 1e-300) ** 2
    design = np.stack([means, np.ones_like(means)], axis=1)
    sqrt_w = np.sqrt(weights)[:, None]
    gain, intercept = np.linalg.lstsq(design * sqrt_w, variances * sqrt_w[:, 0], rcond=None)[0]
    if gain <= 0:  # no growth with the signal: white noise
        level = float(np.sum(weights * variances) / np.sum(weights))
        return NoiseModel.white(math.sqrt(max(level, 0.0)))
    if intercept >= 0:
        return NoiseModel(float(gain), math.sqrt(float(intercept)))
    through_origin = float(np.sum(weights * means * variances) / np.sum(weights * means * means))
    return NoiseModel(max(through_origin, 0.0), 0.0)


def parse_noise(text: str) -> str | float | NoiseModel:
    """Read a noise setting: ``"auto"`` (measure it), ``"white"`` (measure one white level),
    ``"off"``, a white-noise std (``"0.01"``), or camera parameters
    ``"gain=2.1,offset=100,read=1.6"`` (gain in image units per electron, offset in image units,
    read noise in electrons).

    Raises
    ------
    SettingsError
        For anything else, with the accepted forms.
    """
    value = str(text).strip().lower()
    if value in ("auto", "white", "off"):
        return value
    try:
        level = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(level) or level < 0:
            raise SettingsError(f"a noise level must be a finite number >= 0, got {text!r}")
        return level
    fields = {}
    for part in value.split(","):
        key, sep, number = part.partition("=")
        try:
            if not sep:
                raise ValueError
            fields[key.strip()] = float(number)
        except ValueError:
            fields = {}
            break
    if fields and set(fields) <= {"gain", "offset", "read"} and "gain" in fields:
        return NoiseModel.from_camera(fields["gain"], fields.get("offset", 0.0), fields.get("read", 0.0))
    raise SettingsError(
        f"noise must be 'auto', 'white', 'off', a level such as '0.01', or camera parameters such as "
        f"'gain=2.1,offset=100,read=1.6'; got {text!r}"
    )


def is_constant(block: np.ndarray) -> bool:
    """Whether every value of ``block`` is the same (it holds no noise): its two ends compared first,
    which ends the check at once for a noisy block (this runs on every tile of the stabilised filter).

    Examples
    --------
    >>> import numpy as np
    >>> is_constant(np.full((3, 3), 7.0)), is_constant(np.arange(9.0))
    (True, False)
    """
    if not block.size or block.flat[0] != block.flat[-1]:
        return False
    return bool((block == block.flat[0]).all())
