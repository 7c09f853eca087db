"""Classical baselines: bicubic upsampling followed by deconvolution with a known PSF.

Both come from :mod:`skimage.restoration`. They work on whole planes (Wiener in the Fourier
domain, Richardson-Lucy by iterating), so the engine gives them whole planes, reflect-padded by
one PSF width so that their periodic or zero boundaries do not show at the image's edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.layout import Layout
from ..core.settings import setting
from .base import Method, MethodSettings, PlaneFunction, Prepared, register_method
from .psf import PSFSettings, make_psf


def _padded(function: Any, plane: np.ndarray, pad: int) -> np.ndarray:
    """``function`` of ``plane`` mirrored by ``pad`` pixels on each side, cropped back."""
    padded = np.pad(plane, pad, mode="reflect") if min(plane.shape) > pad else np.pad(plane, pad, mode="symmetric")
    return function(padded)[pad:-pad, pad:-pad]


@dataclass(frozen=True)
class WienerSettings(MethodSettings):
    """Wiener-Hunt deconvolution (:func:`skimage.restoration.wiener`) after bicubic upsampling."""

    psf: PSFSettings = setting(PSFSettings(), "the PSF to deconvolve, on the output grid")
    balance: float = setting(
        0.02,
        "regularisation: larger is smoother and less noisy (skimage's balance, Laplacian regulariser; 0.02 was "
        "the best compromise of x2 and x4 on the benchmark's photos)",
        min=0,
        max=100,
        min_exclusive=True,
        step=0.01,
    )


@register_method
class Wiener(Method):
    """Bicubic, then Wiener-Hunt deconvolution by a known PSF (classical baseline)."""

    name = "wiener"
    summary = "bicubic, then Wiener deconvolution with a PSF (classical baseline)"
    settings_type = WienerSettings

    def prepare(self, image: Any, scale: tuple[float, float], layout: Layout, settings: Any) -> Prepared:
        """Build the PSF; the deconvolution runs per plane."""
        from skimage.restoration import wiener

        psf = make_psf(settings.psf, math.sqrt(scale[0] * scale[1]))

        def deconvolve(plane: np.ndarray) -> np.ndarray:
            return wiener(plane, psf, settings.balance, clip=False)

        process = PlaneFunction(lambda plane: _padded(deconvolve, plane, psf.shape[0]))
        return Prepared(self.name, settings, process, info={"psf_size": psf.shape[0]})


@dataclass(frozen=True)
class RichardsonLucySettings(MethodSettings):
    """Richardson-Lucy deconvolution (:func:`skimage.restoration.richardson_lucy`) after bicubic upsampling."""

    psf: PSFSettings = setting(PSFSettings(), "the PSF to deconvolve, on the output grid")
    iterations: int = setting(
        20,
        "Richardson-Lucy iterations: more is sharper and noisier, and slower (20 was the best compromise of "
        "x2 and x4 on the benchmark's photos)",
        min=1,
        max=500,
    )


@register_method
class RichardsonLucy(Method):
    """Bicubic, then Richardson-Lucy deconvolution by a known PSF (classical baseline)."""

    name = "richardson-lucy"
    summary = "bicubic, then Richardson-Lucy deconvolution with a PSF (classical baseline)"
    settings_type = RichardsonLucySettings

    def prepare(self, image: Any, scale: tuple[float, float], layout: Layout, settings: Any) -> Prepared:
        """Build the PSF; the iterations run per plane."""
        from skimage.restoration import richardson_lucy

        psf = make_psf(settings.psf, math.sqrt(scale[0] * scale[1]))

        def deconvolve(plane: np.ndarray) -> np.ndarray:
            # Richardson-Lucy is multiplicative and needs positive data: shift the plane's minimum
            # to a small positive level and back (bicubic overshoot can dip below zero)
            low = float(plane.min())
            spread = float(plane.max()) - low or 1.0
            offset = low - 0.01 * spread
            out = richardson_lucy(plane - offset, psf, num_iter=settings.iterations, clip=False)
            return out + offset

        process = PlaneFunction(lambda plane: _padded(deconvolve, plane, psf.shape[0]))
        return Prepared(self.name, settings, process, info={"psf_size": psf.shape[0]})
