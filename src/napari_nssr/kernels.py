"""Blur-kernel galleries: the paper's Random Kernel Gallery and friends.

Every kernel is an odd-sized square array of non-negative weights summing to 1, used as the
*impulse response* (PSF) of the blur: ``blurred = image (*) kernel`` with true convolution.

A kernel family is one function ``(settings, rng) -> (count, size, size)`` registered with
:func:`kernel_family`; :func:`make_gallery` dispatches on ``GallerySettings.family``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._config import SettingsError

KernelFamily = Callable[["GallerySettings", np.random.Generator], np.ndarray]
_FAMILIES: dict[str, KernelFamily] = {}


@dataclass
class GallerySettings:
    """How to draw a kernel gallery.

    ``sigma_min``/``sigma_max`` bound the two principal widths of a Gaussian; ``sigma_is``
    says whether they are standard deviations (``"std"``) or variances (``"variance"``), which
    the paper leaves open. ``scale`` and ``noise`` only matter to the ``div2krk`` family,
    ``kernel_path`` only to ``file``. The optics fields only matter to ``widefield``: a widefield
    microscope's PSF (``psfmodels``' vectorial model) for the numerical aperture, emission
    wavelength and immersion index, sampled at ``pixel_um`` (the *output* pixel size in the
    sample), with the focus drawn uniformly within ``defocus_um`` of the object.
    """

    family: str = "anisotropic_gaussian"
    count: int = 3200
    size: int = 21
    sigma_min: float = 0.175
    sigma_max: float = 6.0
    sigma_is: str = "std"
    seed: int = 0
    scale: float = 2.0
    noise: float = 0.4
    kernel_path: str | None = None
    numerical_aperture: float = 1.4
    wavelength_um: float = 0.52
    pixel_um: float = 0.05
    immersion_index: float = 1.515
    defocus_um: float = 0.5

    def validate(self) -> None:
        """Raise :class:`SettingsError` if any value is unusable."""
        if self.family not in _FAMILIES:
            raise SettingsError(f"unknown kernel family {self.family!r}; known: {', '.join(sorted(_FAMILIES))}")
        if not isinstance(self.count, int) or not 1 <= self.count <= 1_000_000:
            raise SettingsError(f"gallery count must be an integer in 1..1e6, got {self.count!r}")
        if not isinstance(self.size, int) or self.size < 3 or self.size % 2 == 0 or self.size > 255:
            raise SettingsError(f"kernel size must be an odd integer in 3..255, got {self.size!r}")
        if not (0 < self.sigma_min <= self.sigma_max) or not math.isfinite(self.sigma_max):
            raise SettingsError(f"need 0 < sigma_min <= sigma_max, got {self.sigma_min!r}..{self.sigma_max!r}")
        if self.sigma_is not in ("std", "variance"):
            raise SettingsError(f"sigma_is must be 'std' or 'variance', got {self.sigma_is!r}")
        if not (1 <= self.scale <= 16):
            raise SettingsError(f"scale must be in 1..16, got {self.scale!r}")
        if not (0 <= self.noise < 1):
            raise SettingsError(f"noise must be in [0, 1), got {self.noise!r}")
        if self.family == "file" and not self.kernel_path:
            raise SettingsError("the 'file' kernel family needs kernel_path")
        if not (1.0 <= self.immersion_index <= 2.0):
            raise SettingsError(f"immersion_index must be in [1, 2], got {self.immersion_index!r}")
        if not (0 < self.numerical_aperture < self.immersion_index):
            raise SettingsError(
                f"numerical_aperture must be in (0, immersion_index={self.immersion_index:g}), "
                f"got {self.numerical_aperture!r}"
            )
        if not (0.2 <= self.wavelength_um <= 2.0):
            raise SettingsError(f"wavelength_um must be in [0.2, 2] (microns), got {self.wavelength_um!r}")
        if not (0.001 <= self.pixel_um <= 10.0):
            raise SettingsError(f"pixel_um must be in [0.001, 10] (microns), got {self.pixel_um!r}")
        if not (0 <= self.defocus_um <= 50):
            raise SettingsError(f"defocus_um must be in [0, 50] (microns), got {self.defocus_um!r}")


def kernel_family(name: str) -> Callable[[KernelFamily], KernelFamily]:
    """Register a kernel family under ``name`` (use as a decorator)."""

    def register(func: KernelFamily) -> KernelFamily:
        _FAMILIES[name] = func
        return func

    return register


def kernel_families() -> list[str]:
    """Names of the registered kernel families."""
    return sorted(_FAMILIES)


def make_gallery(settings: GallerySettings | None = None) -> np.ndarray:
    """Draw the gallery described by ``settings`` as a float32 ``(count, size, size)`` array."""
    settings = settings or GallerySettings()
    settings.validate()
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


@kernel_family("file")
def _from_file(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """Kernel(s) from an image or ``.npy`` file: one 2D kernel or a ``(n, h, w)`` stack."""
    return load_kernels(settings.kernel_path, size=settings.size)  # type: ignore[arg-type]


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
        raise ValueError(f"kernels must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] == 0 or min(arr.shape[1:]) < 1:
        raise ValueError(f"kernels must be a 2D array or a (n, h, w) stack, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("kernels contain NaN or infinite values")
    peak = np.abs(arr).max(axis=(1, 2), keepdims=True)
    if (arr < -0.01 * peak).any():
        raise ValueError("kernels have large negative values; a blur kernel (PSF) must be non-negative")
    arr = np.clip(arr, 0.0, None)  # small negatives are background-subtraction noise
    sums = arr.sum(axis=(1, 2), keepdims=True)
    if (sums <= 0).any():
        raise ValueError("a kernel sums to zero; cannot normalise it")
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


def load_kernels(source: str | Path | np.ndarray, size: int | None = None) -> np.ndarray:
    """Load user kernels/PSFs from an array, ``.npy`` or image file, validated and normalised.

    A 2D input is one kernel; 3D is a stack. With ``size`` each kernel is re-centred on its
    centre of mass in a ``size x size`` window (odd), so measured PSFs of any shape fit.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"kernel file not found: {path}")
        if path.suffix.lower() == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            from .image_io import read_image

            arr = read_image(path)
            if arr.ndim == 3 and arr.shape[-1] in (3, 4):
                arr = arr[..., :3].astype(np.float64).mean(axis=-1)
    else:
        arr = np.asarray(source)
    kernels = normalise_kernels(arr)
    if size is not None:
        if size < 1 or size % 2 == 0:
            raise ValueError(f"kernel size must be odd, got {size}")
        kernels = normalise_kernels(np.stack([fit_kernel_size(k, size) for k in kernels]))
    return kernels
