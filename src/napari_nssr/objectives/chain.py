"""Degradation-aware objective: score the whole chain, still without any image data.

The identity target of the paper asks ``h`` to undo the blur at every frequency, ignoring what
sits between blur and filter. Here the filter is scored on the chain a real image goes through:

    x  --blur by K-->  --subsample by s-->  --add noise-->  --bicubic x s-->  u  --h-->  z

with ``E ||z - x||^2`` averaged over the gallery's kernels and over *synthetic* images ``x``:
stationary Gaussian random fields whose power spectrum falls as ``1/f^alpha`` (``alpha = 2`` is
the textbook statistic of natural images). The objective is quadratic in ``h``, so a few
sufficient statistics (``R = E[A^T A]``, ``b = E[A^T x]``) give its exact optimum and make each
training step cheap. The pipeline used is the library's own (``blur_subsample``,
``bicubic_plane``), so the filter is tuned to exactly the upsampler it is applied after.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..core.degrade import blur_subsample, sampling_kernel
from ..core.errors import SettingsError
from ..core.filters import project_sum_to_one, solve_quadratic
from ..core.progress import drain
from ..core.resample import bicubic_plane
from ..core.settings import Settings, setting


@dataclass(frozen=True)
class ChainSettings(Settings):
    """The synthetic-image prior and noise of the degradation-aware objective.

    Images have mean 0.5 and standard deviation 0.25 (a [0, 1] image); ``noise`` is the standard
    deviation of Gaussian noise added to the low-resolution image in those units. ``ridge`` adds
    ``ridge * ||h||^2``: it only pins the frequencies the bicubic upsampler never passes.
    """

    alpha: float = setting(2.0, "image power spectrum falls as 1/f^alpha (2 is natural images)", min=0, max=4)
    noise: float = setting(0.004, "noise std on the low-resolution image, in [0, 1] image units", min=0, max=1)
    image_size: int = setting(
        96,
        "side of the synthetic images (sampled statistics)",
        min=48,
        max=1024,
        unit="px",
        flag="chain-image-size",
        advanced=True,
    )
    ridge: float = setting(
        1e-5, "ridge * ||h||^2: pins frequencies the upsampler never passes", min=0, flag="chain-ridge", advanced=True
    )
    seed: int = setting(
        0, "seed of the synthetic images (sampled statistics)", min=0, max=2**31 - 1, flag="chain-seed", advanced=True
    )


EXPECTED_GRID = 240  # periodic grid of ChainStatistics.expected: a multiple of 2..6 and 8


def _integer_scale(scale: float) -> int:
    """``scale`` as an int, or a :class:`SettingsError` if it is not a whole number in 2..8."""
    if float(scale) != int(scale) or not 2 <= int(scale) <= 8:
        raise SettingsError(f"the degradation-aware objective needs an integer scale in 2..8, got {scale!r}")
    return int(scale)


def _prior_amplitude(fy: np.ndarray, fx: np.ndarray, size: int, alpha: float) -> np.ndarray:
    # the 1/size floor keeps the DC term finite
    return (fy**2 + fx**2 + (1.0 / size) ** 2) ** (-alpha / 4)


def _prior_power(n: int, settings: ChainSettings) -> np.ndarray:
    """Power per frequency on an ``n x n`` grid of the prior of :func:`random_natural_image`
    (scaled as on its own ``image_size`` grid: variance 0.0625 there), without the mean."""
    size = settings.image_size
    own = _prior_amplitude(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :], size, settings.alpha) ** 2
    own[0, 0] = 0.0
    power = _prior_amplitude(np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :], size, settings.alpha) ** 2
    power[0, 0] = 0.0
    return power * (0.0625 / own.mean())


def prior_lr_power(frequency: float, scale: int, settings: ChainSettings) -> float:
    """The prior's power at ``frequency`` (cycles per *low-resolution* pixel) once subsampled by
    ``scale``, before any blur and aliasing: ``c (f / s)^-alpha / s^2``. An image's own fitted
    spectrum at the same frequency, over this, says how much more (or less) signal it has there
    than the prior assumes at a given noise level."""
    size = settings.image_size
    own = _prior_amplitude(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :], size, settings.alpha) ** 2
    own[0, 0] = 0.0
    amplitude = 0.0625 / own.mean()
    return float(amplitude * (frequency / scale) ** (-settings.alpha) / scale**2)


def _on_grid(kernel: np.ndarray, n: int) -> np.ndarray:
    """An odd-sided centred ``kernel`` placed on an ``n x n`` periodic grid with its centre at (0, 0)."""
    grid = np.zeros((n, n))
    c0, c1 = kernel.shape[0] // 2, kernel.shape[1] // 2
    rows = (np.arange(kernel.shape[0]) - c0) % n
    cols = (np.arange(kernel.shape[1]) - c1) % n
    grid[np.ix_(rows, cols)] = kernel
    return grid


def _upsampler_response(scale: int) -> np.ndarray:
    """The bicubic upsampler's output for one low-resolution pixel ``j``, centred on HR pixel ``s*j``
    (odd side), where :func:`blur_subsample` takes that pixel's sample."""
    side = 9  # bicubic reaches 2 LR pixels each way: the delta's response stays clear of the borders
    delta = np.zeros((side, side), dtype=np.float32)
    delta[side // 2, side // 2] = 1.0
    up = bicubic_plane(delta, float(scale)).astype(np.float64)
    centre = scale * (side // 2)
    reach = 3 * scale
    return up[centre - reach : centre + reach + 1, centre - reach : centre + reach + 1]


def random_natural_image(size: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """A ``size x size`` Gaussian random field with power spectrum ``~ 1/f^alpha``, mean 0.5, std 0.25."""
    amplitude = _prior_amplitude(np.fft.fftfreq(size)[:, None], np.fft.fftfreq(size)[None, :], size, alpha)
    field = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amplitude))
    return 0.5 + 0.25 * (field - field.mean()) / field.std()


@dataclass
class ChainStatistics:
    """Sufficient statistics of the chain objective for filters of side ``size``.

    With ``A`` the matrix of ``size x size`` patches of the upsampled image (correlation order)
    and ``x`` the true pixels: ``gram = E[A^T A] / n``, ``cross = E[A^T x] / n``,
    ``energy = E[x^T x] / n`` (per pixel).
    """

    size: int
    gram: torch.Tensor
    cross: torch.Tensor
    energy: float
    hold_sum: bool = True
    ridge: float = 0.0

    @classmethod
    def from_kernels(
        cls, kernels: np.ndarray, scale: float, size: int, settings: ChainSettings, hold_sum: bool = True
    ) -> ChainStatistics:
        """Simulate one synthetic image per kernel through the chain and accumulate statistics."""
        return drain(cls.iter_from_kernels(kernels, scale, size, settings, hold_sum))

    @classmethod
    def iter_from_kernels(
        cls, kernels: np.ndarray, scale: float, size: int, settings: ChainSettings, hold_sum: bool = True
    ) -> Generator[tuple[int, int], None, ChainStatistics]:
        """Like :meth:`from_kernels`, yielding ``(kernels done, total)`` every 25 kernels (300 take
        about 3 s)."""
        scale = _integer_scale(scale)
        rng = np.random.default_rng(settings.seed)
        n = settings.image_size - settings.image_size % scale
        margin = max(12, 2 * scale)  # skip pixels whose blur or upsampling saw the border
        valid = n - size + 1
        if valid - 2 * margin < 8:
            raise SettingsError(f"image_size {settings.image_size} is too small for a {size}x{size} filter")
        taps = size * size
        gram = torch.zeros(taps, taps, dtype=torch.float64)
        cross = torch.zeros(taps, dtype=torch.float64)
        energy, count = 0.0, 0
        r = size // 2
        kernel_array = np.asarray(kernels, dtype=np.float64)
        for done, kernel in enumerate(kernel_array, start=1):
            x = random_natural_image(n, settings.alpha, rng)
            lr = blur_subsample(x, kernel, scale)
            if settings.noise > 0:
                lr = lr + rng.normal(0.0, settings.noise, lr.shape)
            up = torch.from_numpy(bicubic_plane(lr.astype(np.float32), float(scale)).astype(np.float64))
            patches = F.unfold(up[None, None], size)[0].reshape(taps, valid, valid)
            patches = patches[:, margin:-margin, margin:-margin].reshape(taps, -1)
            target = torch.from_numpy(x[r : r + valid, r : r + valid][margin:-margin, margin:-margin]).reshape(-1)
            gram += patches @ patches.T
            cross += patches @ target
            energy += float(target @ target)
            count += target.numel()
            if done % 25 == 0 or done == len(kernel_array):
                yield done, len(kernel_array)
        return cls(size, gram / count, cross / count, energy / count, hold_sum, settings.ridge)

    @classmethod
    def expected(
        cls, kernels: np.ndarray, scale: float, size: int, settings: ChainSettings, hold_sum: bool = True
    ) -> ChainStatistics:
        """The statistics as exact expectations over the prior (no sampled images), on a periodic grid.

        :meth:`from_kernels` draws one image per kernel, so a small gallery gives a filter that
        varies with the seed. Here the spectrum of the upsampled image is summed over the
        subsampling aliases instead: ``S_u = |B|^2 (sum_m |K(f_m)|^2 P(f_m) / s^4 + noise^2 / s^2)``
        and ``S_ux = B K P / s^2``, with ``B`` the upsampler's response to one low-resolution
        pixel. Border effects are left out; away from borders the two agree (tested).
        """
        scale = _integer_scale(scale)
        kernels = np.asarray(kernels, dtype=np.float64)
        if kernels.ndim != 3 or len(kernels) == 0 or kernels.shape[1] % 2 == 0 or kernels.shape[2] % 2 == 0:
            raise SettingsError(f"expected a non-empty stack of odd-sided kernels, got shape {kernels.shape}")
        n = EXPECTED_GRID - EXPECTED_GRID % scale
        power = _prior_power(n, settings)
        upsampler = np.fft.fft2(_on_grid(_upsampler_response(scale), n))
        spectrum = np.zeros((n, n))
        cross = np.zeros((n, n), dtype=complex)
        period = n // scale
        for kernel in kernels:
            blur = np.fft.fft2(_on_grid(sampling_kernel(kernel, scale), n))
            blurred = np.abs(blur) ** 2 * power
            # subsampling folds every frequency f onto f + m/s (m on the s x s alias grid)
            folded = blurred.reshape(scale, period, scale, period).sum(axis=(0, 2))
            spectrum += np.tile(folded, (scale, scale)) / scale**4
            cross += blur * power / scale**2
        count = len(kernels)
        spectrum = np.abs(upsampler) ** 2 * (spectrum / count + settings.noise**2 / scale**2)
        autocorrelation = np.real(np.fft.ifft2(spectrum))
        cross_correlation = np.real(np.fft.ifft2(upsampler * cross / count))
        energy = float(power.mean())
        # the images' mean 0.5 passes the chain unchanged (kernels and upsampler sum to 1)
        offsets = np.stack(np.meshgrid(np.arange(size), np.arange(size), indexing="ij"), -1).reshape(-1, 2)
        lags = offsets[:, None, :] - offsets[None, :, :]
        gram = autocorrelation[lags[..., 0] % n, lags[..., 1] % n] + 0.25
        r = size // 2
        cross_vector = cross_correlation[(offsets[:, 0] - r) % n, (offsets[:, 1] - r) % n] + 0.25
        return cls(
            size,
            torch.from_numpy(gram),
            torch.from_numpy(cross_vector),
            energy + 0.25,
            hold_sum,
            settings.ridge,
        )

    def to(self, device: torch.device | str) -> ChainStatistics:
        """The same statistics on another device."""
        return ChainStatistics(
            self.size, self.gram.to(device), self.cross.to(device), self.energy, self.hold_sum, self.ridge
        )

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        """Mean squared error per pixel of the chain with filter ``h`` (impulse response), plus the ridge."""
        g = h.flip(-2, -1).reshape(-1).to(self.gram.dtype)  # convolution by h = correlation by its flip
        return g @ self.gram @ g - 2 * (self.cross @ g) + self.energy + self.ridge * (g @ g)

    def optimum(self) -> torch.Tensor:
        """The exact minimiser of :meth:`loss` (with ``sum(h) = 1`` when ``hold_sum``), float64."""
        taps = self.size**2
        gram = self.gram.cpu() + self.ridge * torch.eye(taps, dtype=torch.float64)
        g = solve_quadratic(gram, self.cross.cpu(), self.hold_sum)
        h = g.reshape(self.size, self.size).flip(-2, -1)
        return project_sum_to_one(h) if self.hold_sum else h
