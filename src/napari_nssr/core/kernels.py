"""Blur-kernel galleries: the paper's Random Kernel Gallery and friends.

Every kernel is an odd-sized square array of non-negative weights summing to 1, used as the
*impulse response* (PSF) of the blur: ``blurred = image (*) kernel`` with true convolution.

A kernel family is one function ``(settings, rng) -> (count, size, size)`` registered with
:func:`kernel_family`; :func:`make_gallery` dispatches on ``GallerySettings.family``. The
``file`` family (your own kernels or PSF) reads files, so it is registered by
``io/kernel_files.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import SettingsError
from .settings import Settings, setting

KernelFamily = Callable[["GallerySettings", np.random.Generator], np.ndarray]
_FAMILIES: dict[str, KernelFamily] = {}
SIGMA_KINDS = ("std", "variance")


@dataclass(frozen=True)
class GallerySettings(Settings):
    """How to draw a kernel gallery.

    ``sigma_min``/``sigma_max`` bound the two principal widths of a Gaussian; ``sigma_is``
    says whether they are standard deviations (``"std"``) or variances (``"variance"``), which
    the paper leaves open. ``scale`` and ``noise`` only matter to the ``div2krk`` family,
    ``kernel_path`` only to ``file``. The optics fields only matter to ``widefield``: a widefield
    microscope's PSF (``psfmodels``' vectorial model) for the numerical aperture, emission
    wavelength and immersion index, sampled at ``pixel_um`` (the *output* pixel size in the
    sample), with the focus drawn uniformly within ``defocus_um`` of the object.

    References
    ----------
    .. [1] S. Vamsidhar and R. K. Gorthi, "NSSR-DIL", arXiv:2409.12165, 2024 (the Random Kernel
       Gallery); S. Bell-Kligler, A. Shocher and M. Irani, "Blind super-resolution kernel estimation
       using an internal-GAN", NeurIPS 2019 (the DIV2KRK kernels).

    Examples
    --------
    >>> from napari_nssr import GallerySettings
    >>> GallerySettings(count=100, sigma_is="variance").count
    100
    """

    family: str = setting("anisotropic_gaussian", "kind of blur kernels to draw", label="Kernel family")
    count: int = setting(3200, "number of kernels in the gallery", min=1, max=1_000_000, label="Kernels")
    size: int = setting(21, "side of each kernel (odd)", min=3, max=255, unit="px", step=2, label="Kernel size")
    sigma_min: float = setting(
        0.175, "smallest Gaussian width (std or variance, see sigma_is)", min=0, min_exclusive=True, step=0.025
    )
    sigma_max: float = setting(6.0, "largest Gaussian width (std or variance, see sigma_is)", min=0, step=0.25)
    sigma_is: str = setting("std", "whether the sigma range is standard deviations or variances", choices=SIGMA_KINDS)
    seed: int = setting(0, "random seed of the draw", min=0, max=2**31 - 1)
    scale: float = setting(
        2.0,
        "scale factor whose DIV2KRK kernels are drawn (div2krk family, chain objective)",
        min=1,
        max=16,
        flag="gallery-scale",
        label="Scale",
    )
    noise: float = setting(
        0.4,
        "multiplicative per-tap noise of DIV2KRK kernels",
        min=0,
        max=1,
        max_exclusive=True,
        flag="kernel-noise",
        advanced=True,
    )
    kernel_path: str | None = setting(
        None,
        "image or .npy file with your own kernel(s) or PSF (sets the file family)",
        path=True,
        label="PSF / kernel file",
        flag="kernels",
    )
    numerical_aperture: float = setting(
        1.4, "objective's numerical aperture (widefield family)", min=0.05, max=1.95, flag="na", step=0.05
    )
    wavelength_um: float = setting(
        0.52, "emission wavelength (widefield family)", min=0.2, max=2.0, unit="um", flag="wavelength", step=0.01
    )
    pixel_um: float = setting(
        0.05,
        "output pixel size in the sample (widefield family)",
        min=0.001,
        max=10.0,
        unit="um",
        flag="pixel-size",
        step=0.005,
    )
    immersion_index: float = setting(
        1.515, "refractive index of the immersion medium (widefield)", min=1.0, max=2.0, step=0.01
    )
    defocus_um: float = setting(
        0.5, "focus drawn within +- this distance (widefield family)", min=0, max=50, unit="um", flag="defocus"
    )

    def check(self) -> None:
        """Cross-field rules: a known family, an ordered sigma range, a file for ``file``, NA below the index."""
        if self.family not in _FAMILIES:
            raise SettingsError(f"unknown kernel family {self.family!r}; known: {', '.join(sorted(_FAMILIES))}")
        if self.size % 2 == 0:
            raise SettingsError(f"kernel size must be an odd integer in 3..255, got {self.size!r}")
        if self.sigma_min > self.sigma_max:
            raise SettingsError(f"need sigma_min <= sigma_max, got {self.sigma_min!r}..{self.sigma_max!r}")
        if self.family == "file" and not self.kernel_path:
            raise SettingsError("the 'file' kernel family needs a PSF or kernel file (kernel_path)")
        if self.numerical_aperture >= self.immersion_index:
            raise SettingsError(
                f"numerical_aperture must be below immersion_index={self.immersion_index:g}, "
                f"got {self.numerical_aperture!r}"
            )


def kernel_family(name: str) -> Callable[[KernelFamily], KernelFamily]:
    """Register a kernel family under ``name`` (use as a decorator).

    Parameters
    ----------
    name : str
        The family's name (``GallerySettings.family``).

    Returns
    -------
    callable
        The decorator; it registers ``func(settings, rng) -> (count, size, size)`` and returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import GallerySettings
    >>> from napari_nssr.training import kernel_family, make_gallery
    >>> @kernel_family("example-box")
    ... def box(settings, rng):
    ...     kernels = np.zeros((settings.count, settings.size, settings.size))
    ...     centre = slice(settings.size // 2 - 1, settings.size // 2 + 2)
    ...     kernels[:, centre, centre] = 1
    ...     return kernels
    >>> make_gallery(GallerySettings(family="example-box", count=4, size=9)).shape
    (4, 9, 9)
    """

    def register(func: KernelFamily) -> KernelFamily:
        _FAMILIES[name] = func
        return func

    return register


def kernel_families() -> list[str]:
    """Names of the registered kernel families.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from napari_nssr.training import kernel_families
    >>> "div2krk" in kernel_families()
    True
    """
    return sorted(_FAMILIES)


def make_gallery(settings: GallerySettings | None = None) -> np.ndarray:
    """Draw the gallery described by ``settings``.

    Parameters
    ----------
    settings : GallerySettings, optional
        The family and its parameters (the paper's Random Kernel Gallery by default).

    Returns
    -------
    numpy.ndarray
        Float32 ``(count, size, size)`` kernels, each non-negative and summing to 1.

    Examples
    --------
    >>> from napari_nssr import GallerySettings
    >>> from napari_nssr.training import make_gallery
    >>> kernels = make_gallery(GallerySettings(count=8, size=15))
    >>> kernels.shape, round(float(kernels[0].sum()), 6)
    ((8, 15, 15), 1.0)
    """
    settings = settings or GallerySettings()
    rng = np.random.default_rng(settings.seed)
    kernels = _FAMILIES[settings.family](settings, rng)
    return normalise_kernels(kernels)


def gaussian_kernel(
    size: int,
    sigma1: float,
    sigma2: float,
    theta: float = 0.0,
    centre: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Anisotropic Gaussian with standard deviations ``sigma1``/``sigma2`` rotated by ``theta``.

    ``centre`` offsets the mean (rows, cols) from the array centre, in pixels. Returns float64
    weights summing to 1.
    """
    half = size // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    y -= centre[0]
    x -= centre[1]
    c, s = math.cos(theta), math.sin(theta)
    u = c * x + s * y
    v = -s * x + c * y
    k = np.exp(-0.5 * ((u / sigma1) ** 2 + (v / sigma2) ** 2))
    return k / k.sum()


def disk_kernel(size: int, radius: float, oversample: int = 8) -> np.ndarray:
    """Uniform disk of ``radius`` pixels (defocus), anti-aliased by supersampling; sums to 1."""
    half = size // 2
    fine = (np.arange(size * oversample) + 0.5) / oversample - half - 0.5
    y, x = np.meshgrid(fine, fine, indexing="ij")
    inside = (np.hypot(y, x) <= max(radius, 0.5)).astype(np.float64)
    k = inside.reshape(size, oversample, size, oversample).mean(axis=(1, 3))
    return k / k.sum()


def motion_kernel(size: int, length: float, angle: float, width: float = 0.5) -> np.ndarray:
    """Straight motion blur of ``length`` pixels at ``angle`` (radians), slightly smoothed; sums to 1."""
    half = size // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    along = x * math.cos(angle) + y * math.sin(angle)
    across = -x * math.sin(angle) + y * math.cos(angle)
    # distance to the segment, then a narrow Gaussian profile around it
    beyond = np.maximum(np.abs(along) - length / 2, 0.0)
    k = np.exp(-0.5 * (beyond**2 + across**2) / width**2)
    return k / k.sum()


def _as_std(value: np.ndarray, sigma_is: str) -> np.ndarray:
    return np.sqrt(value) if sigma_is == "variance" else value


@kernel_family("anisotropic_gaussian")
def _anisotropic(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """The paper's RKG: sigma1, sigma2 ~ U[min, max], theta ~ U[0, pi]."""
    n = settings.count
    s1 = _as_std(rng.uniform(settings.sigma_min, settings.sigma_max, n), settings.sigma_is)
    s2 = _as_std(rng.uniform(settings.sigma_min, settings.sigma_max, n), settings.sigma_is)
    theta = rng.uniform(0.0, math.pi, n)
    return np.stack([gaussian_kernel(settings.size, *p) for p in zip(s1, s2, theta)])


@kernel_family("isotropic_gaussian")
def _isotropic(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """Round Gaussians with sigma ~ U[min, max]."""
    sig = _as_std(rng.uniform(settings.sigma_min, settings.sigma_max, settings.count), settings.sigma_is)
    return np.stack([gaussian_kernel(settings.size, s, s) for s in sig])


@kernel_family("div2krk")
def _div2krk(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """DIV2KRK's generator: variances ~ U[0.175 s, 2.5 s], per-tap noise, centred (no shift)."""
    return np.stack([div2krk_kernel(settings.size, settings.scale, rng, settings.noise) for _ in range(settings.count)])


@kernel_family("widefield")
def _widefield(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """Widefield PSFs (vectorial model, psfmodels) with the focus ~ U[-defocus, +defocus]."""
    return np.stack(
        [widefield_psf(settings, z) for z in rng.uniform(-settings.defocus_um, settings.defocus_um, settings.count)]
    )


def widefield_psf(settings: GallerySettings, defocus_um: float = 0.0) -> np.ndarray:
    """One in-plane widefield PSF at ``defocus_um`` from focus, ``settings.size`` pixels of
    ``settings.pixel_um``, summing to 1 (Aguet et al.'s vectorial model via ``psfmodels``)."""
    import psfmodels

    params = {
        "NA": settings.numerical_aperture,
        "ni": settings.immersion_index,
        "ni0": settings.immersion_index,
        "ns": settings.immersion_index,  # index-matched sample: defocus without spherical aberration
    }
    psf = psfmodels.vectorial_psf(
        zv=[float(defocus_um)], nx=settings.size, dxy=settings.pixel_um, wvl=settings.wavelength_um, params=params
    )[0]
    return psf / psf.sum()


def div2krk_kernel(
    size: int,
    scale: float,
    rng: np.random.Generator,
    noise: float = 0.4,
    centre: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """One kernel from the DIV2KRK distribution (KernelGAN's ``gen_kernel``), centred at ``centre``.

    Covariance eigenvalues (variances) ~ U[0.175 s, 2.5 s], theta ~ U[0, pi], multiplicative
    noise ``1 + U[-noise, noise]`` per tap, then the centre of mass is moved back to ``centre``
    and the kernel normalised to sum 1.
    """
    from scipy import ndimage

    var = rng.uniform(0.175 * scale, 2.5 * scale, 2)
    theta = rng.uniform(0.0, math.pi)
    k = gaussian_kernel(size, math.sqrt(var[0]), math.sqrt(var[1]), theta, centre)
    k = k * (1.0 + rng.uniform(-noise, noise, k.shape))
    half = size // 2
    com = np.array(ndimage.center_of_mass(k)) - half
    k = ndimage.shift(k, np.asarray(centre) - com, order=3, mode="constant")
    k = np.clip(k, 0.0, None)
    return k / k.sum()


def normalise_kernels(kernels: np.ndarray) -> np.ndarray:
    """Validate a 2D kernel or ``(n, h, w)`` stack and scale each to sum 1 (float32, 3D)."""
    arr = np.asarray(kernels)
    if arr.dtype.kind not in "biuf":
        raise SettingsError(f"kernels must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] == 0 or min(arr.shape[1:]) < 1:
        raise SettingsError(f"kernels must be a 2D array or a (n, h, w) stack, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise SettingsError("kernels contain NaN or infinite values")
    peak = np.abs(arr).max(axis=(1, 2), keepdims=True)
    if (arr < -0.01 * peak).any():
        raise SettingsError("kernels have large negative values; a blur kernel (PSF) must be non-negative")
    arr = np.clip(arr, 0.0, None)  # small negatives are background-subtraction noise
    sums = arr.sum(axis=(1, 2), keepdims=True)
    if (sums <= 0).any():
        raise SettingsError("a kernel sums to zero; cannot normalise it")
    return (arr / sums).astype(np.float32)


def fit_kernel_size(kernel: np.ndarray, size: int) -> np.ndarray:
    """Centre a 2D kernel on its centre of mass in a ``size x size`` array (zero-pad or crop)."""
    k = np.asarray(kernel, dtype=np.float64)
    total = k.sum()
    rows, cols = np.indices(k.shape)
    cy = int(round((rows * k).sum() / total))
    cx = int(round((cols * k).sum() / total))
    half = size // 2
    out = np.zeros((size, size))
    # copy the overlap of the two windows centred on (cy, cx) and (half, half)
    y0, x0 = max(0, cy - half), max(0, cx - half)
    y1, x1 = min(k.shape[0], cy + half + 1), min(k.shape[1], cx + half + 1)
    out[y0 - cy + half : y1 - cy + half, x0 - cx + half : x1 - cx + half] = k[y0:y1, x0:x1]
    return out
