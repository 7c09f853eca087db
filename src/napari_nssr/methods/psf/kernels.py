"""Point spread functions for the methods that know the blur: a Gaussian, a file, or microscope optics.

PSFs are sampled on the *output* (high-resolution) pixel grid, since the methods that use them work
after bicubic upsampling: optics are given with the *input* image's pixel size (what a file
records, ``PhysicalSizeX``), and sampled at that size divided by the scale. A PSF file is taken as
sampled on the output grid, or on the input grid (``sampled_at="input"``, a PSF measured with the
same camera) and then resampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import ndimage

from ...core.errors import SettingsError
from ...core.kernels import GallerySettings, fit_kernel_size, gaussian_kernel, normalise_kernels, widefield_psf
from ...core.settings import Settings, setting
from ...io.kernel_files import read_kernel_array

PSF_SOURCES = ("gaussian", "file", "widefield", "confocal")
OPTICS_SOURCES = ("widefield", "confocal")
# DIV2KRK's kernels have variances U[0.175 s, 2.5 s] (HR pixels squared); a round Gaussian of the
# mean variance is the typical blur of the family the bundled models and the blind method know.
TYPICAL_VARIANCE_PER_SCALE = (0.175 + 2.5) / 2


@dataclass(frozen=True)
class PSFSettings(Settings):
    """Where a PSF comes from: a round Gaussian, an image or ``.npy`` file, or microscope optics.

    Examples
    --------
    >>> from napari_nssr import PSFSettings
    >>> PSFSettings(source="widefield", numerical_aperture=1.4, wavelength_um=0.52, pixel_um=0.13).size
    21
    """

    source: str = setting(
        "gaussian", "a Gaussian, a PSF file, or widefield / confocal optics", choices=PSF_SOURCES, label="PSF"
    )
    sigma: float = setting(
        0.0,
        "std of the Gaussian PSF in output pixels; 0: the DIV2KRK family's typical blur at the scale",
        min=0,
        max=20,
        unit="px",
        step=0.1,
        label="PSF sigma",
    )
    path: str | None = setting(
        None, "image or .npy file holding the PSF, 2D or a 3D stack (its in-focus plane)", path=True, label="PSF file"
    )
    sampled_at: str = setting(
        "output",
        "the grid the PSF file is sampled on: the output's pixels, or the input's (resampled by the scale)",
        choices=("output", "input"),
        label="PSF file grid",
    )
    size: int = setting(21, "side of the PSF window on the output grid (odd)", min=3, max=127, unit="px", step=2)
    numerical_aperture: float = setting(1.4, "objective's numerical aperture (optics)", min=0.05, max=1.95, step=0.05)
    wavelength_um: float = setting(0.52, "emission wavelength (optics)", min=0.2, max=2.0, unit="um", step=0.01)
    excitation_um: float = setting(
        0.488, "excitation wavelength (confocal)", min=0.2, max=2.0, unit="um", step=0.01, label="Excitation"
    )
    pinhole_au: float = setting(1.0, "pinhole diameter in Airy units (confocal)", min=0.05, max=20, step=0.1)
    pixel_um: float = setting(
        0.1, "the input image's pixel size in the sample (optics)", min=0.001, max=10, unit="um", step=0.005
    )
    immersion_index: float = setting(1.515, "refractive index of the immersion medium (optics)", min=1, max=2)

    def check(self) -> None:
        """An odd window, a file for the file source, NA below the immersion index."""
        if self.size % 2 == 0:
            raise SettingsError(f"PSFSettings.size must be odd, got {self.size}")
        if self.source == "file" and not self.path:
            raise SettingsError("the file PSF source needs a path")
        if self.numerical_aperture >= self.immersion_index:
            raise SettingsError("PSFSettings.numerical_aperture must be below immersion_index")


#: the PSF settings each source uses (a form shows only these; the others do not change the PSF)
FIELDS_BY_SOURCE: dict[str, tuple[str, ...]] = {
    "gaussian": ("source", "sigma", "size"),
    "file": ("source", "path", "sampled_at", "size"),
    "widefield": ("source", "size", "numerical_aperture", "wavelength_um", "pixel_um", "immersion_index"),
    "confocal": (
        "source",
        "size",
        "numerical_aperture",
        "wavelength_um",
        "excitation_um",
        "pinhole_au",
        "pixel_um",
        "immersion_index",
    ),
}


def make_psf(settings: PSFSettings, scale: float) -> np.ndarray:
    """The PSF ``settings`` describe, on the output grid of an upsampling by ``scale``.

    Parameters
    ----------
    settings : PSFSettings
        Where the PSF comes from.
    scale : float
        Geometric-mean scale factor: the output pixel is the input's divided by it.

    Returns
    -------
    numpy.ndarray
        ``(size, size)`` float64, non-negative, summing to 1.

    Examples
    --------
    >>> from napari_nssr import PSFSettings
    >>> from napari_nssr.methods import make_psf
    >>> psf = make_psf(PSFSettings(sigma=1.5), scale=2)
    >>> psf.shape, round(float(psf.sum()), 6)
    ((21, 21), 1.0)
    """
    if settings.source == "gaussian":
        sigma = settings.sigma or math.sqrt(TYPICAL_VARIANCE_PER_SCALE * scale)
        return gaussian_kernel(settings.size, sigma, sigma)
    if settings.source == "file":
        assert settings.path is not None  # PSFSettings.check requires it
        return _file_psf(settings, scale)
    output_pixel = settings.pixel_um / scale
    if settings.source == "widefield":
        optics = GallerySettings(
            family="widefield",
            size=settings.size,
            numerical_aperture=settings.numerical_aperture,
            wavelength_um=settings.wavelength_um,
            pixel_um=output_pixel,
            immersion_index=settings.immersion_index,
        )
        return widefield_psf(optics).astype(np.float64)
    return _confocal_psf(settings, output_pixel)


def _file_psf(settings: PSFSettings, scale: float) -> np.ndarray:
    stack = np.asarray(read_kernel_array(str(settings.path)), dtype=np.float64)
    stack = stack.reshape(-1, *stack.shape[-2:]) if stack.ndim >= 2 else stack
    if stack.ndim != 3 or not np.isfinite(stack).all():
        raise SettingsError(f"{settings.path} does not hold a 2D PSF or a stack of them")
    # a 3D PSF's in-focus plane is the one with the highest peak (planes far from focus may be empty)
    plane = stack[int(np.argmax(stack.reshape(len(stack), -1).max(axis=1)))]
    if settings.sampled_at == "input" and scale != 1:
        plane = np.clip(ndimage.zoom(plane, scale, order=3), 0.0, None)
    return normalise_kernels(fit_kernel_size(plane, settings.size))[0].astype(np.float64)


def _confocal_psf(settings: PSFSettings, output_pixel: float) -> np.ndarray:
    import psfmodels

    psf = psfmodels.confocal_psf(
        z=[0.0],
        nx=settings.size,
        pinhole_au=settings.pinhole_au,
        dxy=output_pixel,
        NA=settings.numerical_aperture,
        ex_wvl=settings.excitation_um,
        em_wvl=settings.wavelength_um,
        ni=settings.immersion_index,
        ni0=settings.immersion_index,
        ns=settings.immersion_index,
    )[0]
    return np.asarray(psf / psf.sum(), dtype=np.float64)


def psf_width(psf: np.ndarray) -> float:
    """The width of a PSF's core: the standard deviation of the round Gaussian with the same peak
    (``1 / sqrt(2 pi peak)`` for a PSF summing to 1), in its pixels.

    The second moment would be dominated by a widefield PSF's Airy rings (2.6 px where the core is
    1.6 px); the peak-equivalent width is within a few percent of the Gaussian fit of Zhang et al.
    (2007), 0.21 lambda / NA.
    """
    peak = float(np.max(psf)) / float(np.sum(psf))
    return 1.0 / math.sqrt(2 * math.pi * peak)


OPTICS_FIELDS = ("numerical_aperture", "wavelength_um", "immersion_index", "pixel_um")


def with_optics(
    settings: PSFSettings, optics: dict[str, float], pixel_um: float | None, keep: frozenset[str] = frozenset()
) -> PSFSettings:
    """``settings`` with the optics a file records (objective NA, emission wavelength, immersion,
    pixel size) filled in, except the fields in ``keep`` (those the user set).

    Parameters
    ----------
    settings : PSFSettings
        The starting PSF settings (an optics source).
    optics : dict
        ``numerical_aperture``, ``wavelength_um``, ``immersion_index``: what the file records.
    pixel_um : float or None
        The file's pixel size in micrometres.
    keep : frozenset of str
        Field names not to take from the file.

    Returns
    -------
    PSFSettings
        Unchanged for a non-optics source or a file that records nothing.
    """
    if settings.source not in OPTICS_SOURCES:
        return settings
    found = dict(optics)
    if pixel_um is not None:
        found["pixel_um"] = pixel_um
    changes: dict[str, Any] = {k: v for k, v in found.items() if k in OPTICS_FIELDS and k not in keep}
    return replace(settings, **changes) if changes else settings
