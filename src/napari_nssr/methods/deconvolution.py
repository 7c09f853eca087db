"""Classical baselines: bicubic upsampling followed by deconvolution with a known PSF.

Both come from :mod:`skimage.restoration` and share one base, :class:`Deconvolution`: the PSF is
built for the scale, and each whole upsampled plane (Wiener works in the Fourier domain,
Richardson-Lucy iterates) is reflect-padded by one PSF width so that their periodic or zero
boundaries do not show at the image's edges, deconvolved, and cropped back.

References
----------
.. [1] N. Wiener, *Extrapolation, Interpolation, and Smoothing of Stationary Time Series*, MIT
   Press, 1949; F. Orieux, J.-F. Giovannelli and T. Rodet, "Bayesian estimation of regularization
   and point spread function parameters for Wiener-Hunt deconvolution", J. Opt. Soc. Am. A 27(7),
   1593-1607, 2010 (scikit-image's ``wiener``).
.. [2] W. H. Richardson, "Bayesian-based iterative method of image restoration", J. Opt. Soc. Am.
   62(1), 55-59, 1972; L. B. Lucy, "An iterative technique for the rectification of observed
   distributions", Astron. J. 79, 745-754, 1974.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.request import Plan
from ..core.settings import setting
from .base import Method, MethodSettings, PlaneFunction, Prepared, register_method
from .psf.kernels import PSFSettings, make_psf


def _padded(function: Any, plane: np.ndarray, pad: int) -> np.ndarray:
    """``function`` of ``plane`` mirrored by ``pad`` pixels on each side, cropped back."""
    padded = np.pad(plane, pad, mode="reflect") if min(plane.shape) > pad else np.pad(plane, pad, mode="symmetric")
    return function(padded)[pad:-pad, pad:-pad]


class Deconvolution(Method):
    """Bicubic, then a deconvolution of each whole upsampled plane by the settings' PSF (the base of
    Wiener and Richardson-Lucy)."""

    @abstractmethod
    def deconvolve(self, plane: np.ndarray, psf: np.ndarray, settings: Any) -> np.ndarray:
        """One padded plane (float64) deconvolved by ``psf`` (same shape)."""

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Build the PSF on the output grid; the deconvolution runs per plane."""
        settings = plan.settings
        psf = make_psf(settings.psf, plan.mean_scale)

        def deconvolve(plane: np.ndarray) -> np.ndarray:
            return self.deconvolve(plane, psf, settings)

        process = PlaneFunction(lambda plane: _padded(deconvolve, plane, psf.shape[0]))
        return Prepared(self.name, settings, process, info={"psf_size": psf.shape[0]})


@dataclass(frozen=True)
class WienerSettings(MethodSettings):
    """Wiener-Hunt deconvolution (:func:`skimage.restoration.wiener`) after bicubic upsampling."""

    psf: PSFSettings = setting(PSFSettings(), "the PSF to deconvolve, on the output grid")
    balance: float = setting(
        0.02,
        "regularisation: larger is smoother and less noisy (skimage's balance, Laplacian regulariser)",
        min=0,
        max=100,
        min_exclusive=True,
        step=0.01,
    )


@register_method
class Wiener(Deconvolution):
    """Bicubic, then Wiener-Hunt deconvolution by a known PSF (classical baseline) [1]_."""

    name = "wiener"
    summary = "bicubic, then Wiener deconvolution with a PSF (classical baseline)"
    settings_type = WienerSettings

    def deconvolve(self, plane: np.ndarray, psf: np.ndarray, settings: Any) -> np.ndarray:
        """scikit-image's Wiener-Hunt filter with the settings' balance."""
        from skimage.restoration import wiener

        return wiener(plane, psf, settings.balance, clip=False)


@dataclass(frozen=True)
class RichardsonLucySettings(MethodSettings):
    """Richardson-Lucy deconvolution (:func:`skimage.restoration.richardson_lucy`) after bicubic upsampling."""

    psf: PSFSettings = setting(PSFSettings(), "the PSF to deconvolve, on the output grid")
    iterations: int = setting(20, "Richardson-Lucy iterations: more is sharper, noisier and slower", min=1, max=500)


@register_method
class RichardsonLucy(Deconvolution):
    """Bicubic, then Richardson-Lucy deconvolution by a known PSF (classical baseline) [2]_."""

    name = "richardson-lucy"
    summary = "bicubic, then Richardson-Lucy deconvolution with a PSF (classical baseline)"
    settings_type = RichardsonLucySettings

    def deconvolve(self, plane: np.ndarray, psf: np.ndarray, settings: Any) -> np.ndarray:
        """scikit-image's Richardson-Lucy on the plane shifted to positive values and back."""
        from skimage.restoration import richardson_lucy

        # Richardson-Lucy is multiplicative and needs positive data: shift the plane's minimum
        # to a small positive level and back (bicubic overshoot can dip below zero)
        low = float(plane.min())
        spread = float(plane.max()) - low or 1.0
        offset = low - 0.01 * spread
        return richardson_lucy(plane - offset, psf, num_iter=settings.iterations, clip=False) + offset
