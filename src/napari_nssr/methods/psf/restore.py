"""The psf method's restoration of photon-noisy images: denoise, filter for the PSF, then
Richardson-Lucy under the imaging model, as far as held-out noise says it helps.

A linear filter, however well solved, cannot use two things a microscope image has: noise that
other places of the image repeat (non-local means removes it) and a signal that is never below the
camera's black level (Richardson-Lucy keeps it positive). On the real microscopy of
``benchmarks/known_optics.py`` the best 11x11 linear filter, fitted with the ground truth, stays
below +1.5 dB over bicubic at x2 in 9 of 12 cases; this pipeline does not. Per plane:

1. the noise is stabilised (the generalised Anscombe transform of the measured or given
   Poisson-Gaussian model) and denoised (non-local means at unit noise, as the blind method does);
2. the denoised plane is upsampled and filtered by the degradation-aware filter solved for the
   known PSF (:func:`solved_for_psf`) at the noise the denoising left, measured on the denoised
   plane, times a factor, and mapped back with the unbiased inverse;
3. that is the start of Richardson-Lucy iterations for the high-resolution image under the
   imaging model ``subsample(PSF * x)`` against the denoised plane
   (:func:`~napari_nssr.core.forward_model.richardson_lucy_path`).

How cautious the filter is (the factor) and how many iterations to run cannot be read off the
image: too few leave blur, too many bring the noise back, and the best count went from 0 (nuclei
at 100 photons) to 36 (pollen at 3000). They are chosen by *data fission*
(:meth:`~napari_nssr.core.noise.NoiseModel.split`): the image is split into two copies with
independent noise, the pipeline is run on one, and each candidate is scored by how well it
predicts the other through the imaging model. No ground truth is involved; the choice is made once
per image on a centred crop of its representative plane and recorded.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ...core.denoise import denoise_unit_noise, denoise_unit_noise_tensor, iter_denoise_unit_noise
from ...core.forward_model import (
    RichardsonLucy,
    SamplingOperator,
    TensorRichardsonLucy,
    TensorSamplingOperator,
    richardson_lucy_path,
)
from ...core.noise import NoiseModel, is_constant
from ...core.progress import PrepareProgress, drain
from ...core.resample import resample_plane
from ...objectives.chain import ChainSettings, ChainStatistics, prior_lr_power
from ..base import LinearFilter, TileProcessor, process_plane, process_plane_tensor
from ..blind.estimate import estimate_blur_planes
from ..blind.solve import IMAGE_ALPHA_RANGE, BlindSettings, quantised_noise
from ..blind.stabilised import constant_plane, stabilise_tensor, unstabilise_tensor
from .spectrum import fit_psf_spectrum

#: iteration counts scored when choosing how many Richardson-Lucy iterations to run
ITERATION_CHECKPOINTS = (0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 64, 85, 113, 150)
#: the scoring stops once this many checkpoints past the best have scored worse than it (the score
#: falls, then rises as the iterations bring the noise back)
PATIENCE = 3
#: how many times the noise measured after denoising the filter is solved for (the candidates)
NOISE_FACTORS = (1.0, 1.5, 2.0, 3.0)
ALPHA_STEP = 0.05
#: Richardson-Lucy counts values from a little below the black level (this fraction of the
#: plane's range), so that a start that dips below it is not held at zero for good
FLOOR_MARGIN = 0.01
#: a plane being restored reports (and can be stopped) every this many iterations (about 1.3 s on a
#: 4096 x 4096 output on two cores)
REPORT_EVERY = 2
#: the choice is made on a centred crop of the representative plane at most this wide (LR pixels)
CHOICE_SIDE = 512


@lru_cache(maxsize=64)
def _solved(psf_bytes: bytes, shape: tuple[int, int], scale: int, size: int, alpha: float, noise: float) -> Any:
    psf = np.frombuffer(psf_bytes, dtype=np.float64).reshape(shape)
    return ChainStatistics.expected(psf[None], scale, size, ChainSettings(alpha=alpha, noise=noise)).optimum()


def solved_for_psf(psf: np.ndarray, scale: int, size: int, alpha: float, noise: float) -> torch.Tensor:
    """The degradation-aware filter (``size`` x ``size``, after bicubic upsampling by ``scale``) for
    one known ``psf`` at white noise ``noise`` (image scaled to std 0.25) under a ``1/f^alpha``
    prior; cached per PSF and parameters (a solve takes about 15 ms)."""
    psf = np.ascontiguousarray(psf, dtype=np.float64)
    return _solved(psf.tobytes(), psf.shape, int(scale), int(size), float(alpha), float(noise))


@dataclass(frozen=True)
class FilterStage:
    """The filter of step 2 for one denoised plane: the prior's slope and the noise solved for."""

    alpha: float
    noise: float
    taps: torch.Tensor

    def apply(self, denoised: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        """``denoised`` (stabilised units) upsampled and filtered, float32 (ample for a start of the
        iterations, and twice as fast)."""
        return process_plane(LinearFilter(self.taps, unit_sum=True), denoised.astype(np.float32), out_shape)


def filter_stage(
    denoised: np.ndarray, psf: np.ndarray, scale: int, size: int, factor: float, fixed_alpha: float | None = None
) -> FilterStage:
    """The filter for ``psf`` at ``factor`` times the noise left in ``denoised`` (a stabilised,
    denoised 2D plane), under its own spectral slope (or ``fixed_alpha``).

    The noise is the blind estimate's spectral floor of the denoised plane (what the denoising left
    is not white, and the wavelet estimate reads it too low); the slope is fitted knowing the PSF
    (:func:`fit_psf_spectrum`), kept within :data:`IMAGE_ALPHA_RANGE`; where the fitted signal is
    weaker at mid frequencies than the prior assumes, the noise is raised by that ratio (as the
    blind method does).
    """
    return filter_stages(denoised, psf, scale, size, (factor,), fixed_alpha)[factor]


def filter_stages(
    denoised: np.ndarray,
    psf: np.ndarray,
    scale: int,
    size: int,
    factors: tuple[float, ...],
    fixed_alpha: float | None = None,
) -> dict[float, FilterStage]:
    """:func:`filter_stage` for each of ``factors``, the plane measured once (the measurement, not the
    solve, is what takes time: about 0.06 s on a 512 x 512 crop)."""
    left = estimate_blur_planes([denoised]).noise
    fit = fit_psf_spectrum(denoised, False, psf, scale, fixed_alpha)
    alpha = round(round(float(np.clip(fit.alpha, *IMAGE_ALPHA_RANGE)) / ALPHA_STEP) * ALPHA_STEP, 2)
    prior = prior_lr_power(float(scale), scale, ChainSettings(alpha=alpha)) * scale**2  # the prior's amplitude
    if fit.amplitude > 0 and math.isfinite(fit.amplitude):
        left /= math.sqrt(min(1.0, fit.amplitude / prior))
    stages = {}
    for factor in factors:
        level = quantised_noise(factor * left, BlindSettings(noise_margin=1.0))
        stages[factor] = FilterStage(alpha, level, solved_for_psf(psf, scale, size, alpha, level))
    return stages


def denoise_plane(plane: np.ndarray, noise: NoiseModel, strength: float) -> np.ndarray:
    """Step 1: ``plane`` stabilised and denoised (stabilised units, float64)."""
    return denoise_unit_noise(noise.stabilise(plane), strength)


def richardson_lucy_floor(noise: NoiseModel, denoised: np.ndarray) -> float:
    """The value Richardson-Lucy counts from: the black level, less :data:`FLOOR_MARGIN` of the range."""
    top = float(np.max(denoised)) if denoised.size else noise.offset
    return noise.offset - FLOOR_MARGIN * max(top - noise.offset, 0.0)


@dataclass(frozen=True)
class RestorationChoice:
    """What data fission chose: the noise factor, the iteration count, and the scores (mean squared
    prediction error of the held-out copy, in the image's units squared) behind them."""

    factor: float
    iterations: int
    factor_scores: dict[float, float]
    iteration_scores: dict[int, float]

    def record(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "noise_factor": self.factor,
            "iterations": self.iterations,
            "factor_scores": {str(k): v for k, v in self.factor_scores.items()},
            "iteration_scores": {str(k): v for k, v in self.iteration_scores.items()},
        }


def iter_choose_restoration(
    plane: np.ndarray,
    noise: NoiseModel,
    psf: np.ndarray,
    scale: int,
    size: int,
    strength: float,
    max_iterations: int,
    rng: np.random.Generator,
    fixed_alpha: float | None = None,
    iterations: int | None = None,
) -> Generator[PrepareProgress, None, RestorationChoice]:
    """Choose the noise factor and the iteration count for ``plane`` by data fission (see the module
    docstring), yielding progress; ``iterations`` given: only the factor is chosen.

    Parameters
    ----------
    plane : numpy.ndarray
        2D low-resolution plane in the image's units (a centred crop is enough).
    noise : NoiseModel
        Its Poisson-Gaussian noise.
    psf : numpy.ndarray
        The PSF on the high-resolution grid.
    scale : int
        The integer factor.
    size : int
        The filter's side.
    strength : float
        Non-local means' ``h`` (units of the noise's std).
    max_iterations : int
        The most Richardson-Lucy iterations considered.
    rng : numpy.random.Generator
        Draws the split.
    fixed_alpha : float, optional
        The prior's slope, when not fitted.
    iterations : int, optional
        A fixed iteration count.

    Returns
    -------
    RestorationChoice
    """
    counts = [c for c in ITERATION_CHECKPOINTS if c <= max_iterations] if iterations is None else [iterations]
    total = 1 + len(NOISE_FACTORS) + counts[-1]
    first, second, half = noise.split(plane, rng)
    yield PrepareProgress(0, total, "splitting the noise, denoising one copy")
    denoised = denoise_plane(first, half, strength)
    operator = SamplingOperator(psf, scale, plane.shape)
    factor_scores: dict[float, float] = {}
    starts: dict[float, np.ndarray] = {}
    stages = filter_stages(denoised, psf, scale, size, NOISE_FACTORS, fixed_alpha)
    for i, factor in enumerate(NOISE_FACTORS):
        yield PrepareProgress(1 + i, total, f"scoring the filter at {factor:g}x the noise left")
        stage = stages[factor]
        starts[factor] = half.unstabilise(stage.apply(denoised, operator.hr_shape))
        factor_scores[factor] = float(np.mean((operator.forward(starts[factor]) - second) ** 2))
    factor = min(factor_scores, key=factor_scores.__getitem__)
    observed = half.unstabilise(denoised)
    floor = richardson_lucy_floor(half, observed)
    iteration_scores: dict[int, float] = {}
    done = 0
    for count, estimate in richardson_lucy_path(observed, starts[factor], operator, counts, floor):
        iteration_scores[count] = float(np.mean((operator.forward(estimate) - second) ** 2))
        if count > done:
            yield PrepareProgress(1 + len(NOISE_FACTORS) + count, total, f"scored {count} Richardson-Lucy iterations")
            done = count
        best = min(iteration_scores, key=iteration_scores.__getitem__)
        if sum(1 for c in iteration_scores if c > best) >= PATIENCE and count < counts[-1]:
            # the score has only risen since its best: more iterations bring the noise back
            yield PrepareProgress(total, total, f"stopped scoring at {count} iterations (best: {best})")
            break
    return RestorationChoice(factor, best, factor_scores, iteration_scores)


class KnownPSFRestoration(TileProcessor):
    """Whole low-resolution planes through the three steps (module docstring) with a chosen filter
    and iteration count."""

    halo = None
    from_source = True
    #: where the steps run: ``None`` with numpy and OpenCV, else in torch on this device
    device: torch.device | None = None

    def __init__(
        self, noise: NoiseModel, strength: float, taps: torch.Tensor, psf: np.ndarray, scale: int, iterations: int
    ) -> None:
        self.noise, self.strength, self.taps = noise, strength, taps
        self.psf, self.scale, self.iterations = psf, int(scale), int(iterations)

    def to(self, device: torch.device, dtype: torch.dtype = torch.float32) -> TileProcessor:
        moved = copy.copy(self)
        moved.device = torch.device(device)
        return moved

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("the restoration takes whole low-resolution planes (process_source)")

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        return drain(self.iter_process_source(plane, out_shape))

    def iter_process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> Generator[str, None, np.ndarray]:
        """The three steps, yielding before each and every :data:`REPORT_EVERY` iterations (a 2048 x
        2048 plane takes seconds per step on two cores; closing the generator stops it there)."""
        if is_constant(plane):  # a noise-free constant plane stays exactly itself
            return constant_plane(plane, out_shape)
        if self.device is not None:
            return (yield from self._iter_in_torch(plane, out_shape, self.device))
        denoised = yield from iter_denoise_unit_noise(self.noise.stabilise(plane), self.strength)
        yield "filtering for the PSF"
        operator = SamplingOperator(self.psf, self.scale, plane.shape)
        # float32 is ample for a start and maps back eight times faster than float64
        denoised = denoised.astype(np.float32)
        filtered = process_plane(LinearFilter(self.taps, unit_sum=True), denoised, operator.hr_shape)
        yield "mapping back to the image's values"
        start = self.noise.unstabilise(filtered)
        del filtered
        observed = self.noise.unstabilise(denoised)
        iterations = RichardsonLucy(observed, start, operator, richardson_lucy_floor(self.noise, observed))
        del start
        while iterations.done < self.iterations:
            last = min(iterations.done + REPORT_EVERY, self.iterations)
            which = f"iteration {last}" if last == iterations.done + 1 else f"iterations {iterations.done + 1}-{last}"
            yield f"Richardson-Lucy {which} of {self.iterations}"
            while iterations.done < last:
                iterations.step()
        restored = iterations.estimate()
        return _to_output(restored, plane.dtype, out_shape)

    def _iter_in_torch(
        self, plane: np.ndarray, out_shape: tuple[int, int], device: torch.device
    ) -> Generator[str, None, np.ndarray]:
        """The same steps in torch on ``device`` (the GPU path; equal to the CPU's to the tolerance
        tested: non-local means a level apart at a few pixels, the rest float32 rounding)."""
        yield f"denoising ({device.type})"
        values = torch.as_tensor(np.asarray(plane, dtype=np.float64), device=device)
        denoised = denoise_unit_noise_tensor(stabilise_tensor(self.noise, values), self.strength)
        yield f"filtering for the PSF ({device.type})"
        operator = TensorSamplingOperator(self.psf, self.scale, tuple(plane.shape), device)
        filtered = process_plane_tensor(LinearFilter(self.taps, unit_sum=True), denoised, operator.hr_shape)
        observed = unstabilise_tensor(self.noise, denoised)
        floor = self.noise.offset - FLOOR_MARGIN * max(float(observed.max()) - self.noise.offset, 0.0)
        iterations = TensorRichardsonLucy(observed, unstabilise_tensor(self.noise, filtered), operator, floor)
        del filtered
        while iterations.done < self.iterations:
            last = min(iterations.done + REPORT_EVERY, self.iterations)
            yield f"Richardson-Lucy to iteration {last} of {self.iterations} ({device.type})"
            while iterations.done < last:
                iterations.step()
        return _to_output(iterations.estimate().cpu().numpy(), plane.dtype, out_shape)


def _to_output(restored: np.ndarray, dtype: np.dtype, out_shape: tuple[int, int]) -> np.ndarray:
    if restored.shape != tuple(out_shape):  # the engine rounds output sizes; the model is on s x the plane
        restored = resample_plane(restored, out_shape)
    return restored.astype(dtype)
