"""Point spread functions for the methods that deconvolve: a Gaussian, a file, or widefield optics.

PSFs are sampled on the *output* (high-resolution) pixel grid, since the methods that use them
deconvolve the bicubic-upsampled image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import SettingsError
from ..core.kernels import GallerySettings, gaussian_kernel, widefield_psf
from ..core.settings import Settings, setting
from ..io.kernel_files import load_kernels

PSF_SOURCES = ("gaussian", "file", "widefield")
# DIV2KRK's kernels have variances U[0.175 s, 2.5 s] (HR pixels squared); a round Gaussian of the
# mean variance is the typical blur of the family the bundled models and the blind method know.
TYPICAL_VARIANCE_PER_SCALE = (0.175 + 2.5) / 2


@dataclass(frozen=True)
class PSFSettings(Settings):
    """Where a PSF comes from: a round Gaussian, an image or ``.npy`` file, or a widefield microscope."""

    source: str = setting("gaussian", "gaussian, a file, or widefield optics", choices=PSF_SOURCES, label="PSF")
    sigma: float = setting(
        0.0,
        "std of the Gaussian PSF in output pixels; 0: the DIV2KRK family's typical blur at the scale",
        min=0,
        max=20,
        unit="px",
        step=0.1,
        label="PSF sigma",
    )
    path: str | None = setting(None, "image or .npy file holding the PSF (file source)", path=True, label="PSF file")
    size: int = setting(21, "side of the PSF window (odd)", min=3, max=127, unit="px", step=2, label="PSF size")
    numerical_aperture: float = setting(1.4, "objective's numerical aperture (widefield)", min=0.05, max=1.95)
    wavelength_um: float = setting(0.52, "emission wavelength (widefield)", min=0.2, max=2.0, unit="um")
    pixel_um: float = setting(0.05, "output pixel size in the sample (widefield)", min=0.001, max=10, unit="um")
    immersion_index: float = setting(1.515, "refractive index of the immersion medium (widefield)", min=1, max=2)

    def check(self) -> None:
        """An odd window, a file for the file source, NA below the immersion index."""
        if self.size % 2 == 0:
            raise SettingsError(f"PSFSettings.size must be odd, got {self.size}")
        if self.source == "file" and not self.path:
            raise SettingsError("the file PSF source needs a path")
        if self.numerical_aperture >= self.immersion_index:
            raise SettingsError("PSFSettings.numerical_aperture must be below immersion_index")


def make_psf(settings: PSFSettings, scale: float) -> np.ndarray:
    """The PSF ``settings`` describe, on the output grid of an upsampling by ``scale``.

    Parameters
    ----------
    settings : PSFSettings
        Where the PSF comes from.
    scale : float
        Geometric-mean scale factor (sets the Gaussian's automatic width).

    Returns
    -------
    numpy.ndarray
        ``(size, size)`` float64, non-negative, summing to 1.
    """
    if settings.source == "gaussian":
        sigma = settings.sigma or math.sqrt(TYPICAL_VARIANCE_PER_SCALE * scale)
        return gaussian_kernel(settings.size, sigma, sigma)
    if settings.source == "file":
        assert settings.path is not None  # PSFSettings.check requires it
        kernels = load_kernels(settings.path, size=settings.size)
        return kernels[len(kernels) // 2].astype(np.float64)  # a 3D PSF: its middle (in-focus) plane
    optics = GallerySettings(
        family="widefield",
        size=settings.size,
        numerical_aperture=settings.numerical_aperture,
        wavelength_um=settings.wavelength_um,
        pixel_um=settings.pixel_um,
        immersion_index=settings.immersion_index,
    )
    return widefield_psf(optics).astype(np.float64)
