"""Making low-resolution test images: blur by a kernel, subsample, optionally add noise.

The DIV2KRK protocol (KernelGAN): the HR image is convolved with a kernel and every s-th pixel
kept, with the kernel displaced by (s - 1) / 2 pixels so that pixel-centre bicubic upsampling
of the LR image lines up with the HR image.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .kernels import div2krk_kernel
from .layout import looks_rgb


def sampling_kernel(kernel: np.ndarray, scale: int) -> np.ndarray:
    """``kernel`` (centred, odd side) displaced by ``-(s - 1) / 2`` pixels and padded, so that keeping
    every ``s``-th pixel of the convolution samples the blurred image at ``s*j + (s-1)/2``."""
    offset = (scale - 1) / 2
    k = np.pad(np.asarray(kernel, dtype=np.float64), int(np.ceil(offset)) + 1)
    # convolution output at n is sum_m x[n - m] k[m]: moving the mass to -offset centres it on n + offset
    k = ndimage.shift(k, (-offset, -offset), order=3, mode="constant")
    return k / k.sum()


def blur_subsample(hr: np.ndarray, kernel: np.ndarray, scale: int, rgb: bool | None = None) -> np.ndarray:
    """Convolve each plane of ``hr`` (float) with a *centred* ``kernel`` and keep every ``scale``-th pixel.

    The LR pixel ``j`` sits at HR position ``s*j + (s-1)/2``: the centre of the HR pixels it
    covers. Even ``s`` needs a half-pixel shift, done by shifting the kernel with cubic spline
    interpolation.
    """
    if not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    hr = np.asarray(hr, dtype=np.float64)
    if rgb is None:
        rgb = hr.ndim == 3 and looks_rgb(hr.shape)
    k = sampling_kernel(kernel, scale)
    planes = np.moveaxis(hr, -1, 0) if rgb else hr[None]
    out = [ndimage.convolve(p, k, mode="reflect")[::scale, ::scale] for p in planes]
    lr = np.stack(out, axis=0)
    return np.moveaxis(lr, 0, -1) if rgb else lr[0]


def div2krk_degrade(
    hr: np.ndarray, scale: int, rng: np.random.Generator, size: int = 21, noise: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """Degrade ``hr`` with a fresh DIV2KRK kernel for ``scale``; returns ``(lr, kernel)``."""
    kernel = div2krk_kernel(size, scale, rng, noise)
    return blur_subsample(hr, kernel, scale), kernel


def crop_to_multiple(image: np.ndarray, multiple: int, rgb: bool | None = None) -> np.ndarray:
    """Crop the two spatial axes to a multiple of ``multiple`` (keeping the top-left corner)."""
    if rgb is None:
        rgb = image.ndim == 3 and looks_rgb(image.shape)
    rows, cols = (image.shape[-3], image.shape[-2]) if rgb else image.shape[-2:]
    r, c = rows - rows % multiple, cols - cols % multiple
    return image[..., :r, :c, :] if rgb else image[..., :r, :c]


def add_noise(
    image: np.ndarray, rng: np.random.Generator, gaussian_sigma: float = 0.0, poisson_peak: float | None = None
) -> np.ndarray:
    """Add Gaussian noise (std in image units) and/or Poisson noise (``poisson_peak`` photons at 1.0)."""
    out = np.asarray(image, dtype=np.float64)
    if poisson_peak is not None:
        out = rng.poisson(np.clip(out, 0, None) * poisson_peak) / poisson_peak
    if gaussian_sigma > 0:
        out = out + rng.normal(0.0, gaussian_sigma, out.shape)
    return out


def cubic_antialias_kernel(factor: float) -> np.ndarray:
    """The kernel of shrinking by ``factor`` with anti-aliased bicubic interpolation (MATLAB's
    ``imresize``, cubic a = -0.5, stretched by ``factor``): odd side, centred, sum 1."""
    a = -0.5
    radius = int(np.ceil(2 * factor))
    x = np.abs(np.arange(-radius, radius + 1) / factor)
    k = np.where(
        x <= 1,
        (a + 2) * x**3 - (a + 3) * x**2 + 1,
        np.where(x < 2, a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a, 0.0),
    )
    k2 = np.outer(k, k)
    return k2 / k2.sum()


def downscale(plane: np.ndarray, out_shape: tuple[int, int], kernel: np.ndarray | None = None) -> np.ndarray:
    """A 2D plane blurred by ``kernel`` and sampled on the pixel-centre grid of ``out_shape``.

    Parameters
    ----------
    plane : numpy.ndarray
        2D float array.
    out_shape : tuple of int
        ``(rows, cols)``, each at most the plane's.
    kernel : numpy.ndarray, optional
        Centred blur kernel in the plane's pixels (sum 1); default the anti-aliasing bicubic kernel
        of the factor (:func:`cubic_antialias_kernel`).

    Returns
    -------
    numpy.ndarray
        In the plane's dtype.
    """
    from .resample import resample_plane

    factor = max(plane.shape[0] / out_shape[0], plane.shape[1] / out_shape[1])
    k = cubic_antialias_kernel(factor) if kernel is None else np.asarray(kernel, dtype=np.float64)
    blurred = ndimage.convolve(plane, k.astype(plane.dtype), mode="reflect")
    return resample_plane(blurred, out_shape)
