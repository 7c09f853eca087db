"""Kernels and PSFs from files: the ``file`` gallery family and :func:`load_kernels`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import SettingsError
from ..core.kernels import GallerySettings, fit_kernel_size, kernel_family, normalise_kernels
from ..core.layout import looks_rgb
from .images import read_image


def read_kernel_array(path: str | os.PathLike[str]) -> np.ndarray:
    """The raw array of a kernel or PSF file (``.npy`` or an image; colour averaged to grey).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    numpy.ndarray
        As stored: 2D, or a 3D stack.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"kernel file not found: {path}")
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False)
    arr = read_image(path)
    if looks_rgb(arr.shape) and arr.ndim == 3:
        arr = arr[..., :3].astype(np.float64).mean(axis=-1)
    return arr


def load_kernels(source: str | os.PathLike[str] | np.ndarray, size: int | None = None) -> np.ndarray:
    """Load user kernels/PSFs from an array, ``.npy`` or image file, validated and normalised.

    Parameters
    ----------
    source : str, os.PathLike or numpy.ndarray
        A 2D kernel, a ``(n, h, w)`` stack, or a file holding one (``.npy``, TIFF, PNG).
    size : int, optional
        Re-centre each kernel on its centre of mass in a ``size x size`` window (odd), so that
        measured PSFs of any shape fit.

    Returns
    -------
    numpy.ndarray
        ``(n, k, k)`` float32 kernels, each non-negative and summing to 1.
    """
    arr = read_kernel_array(source) if isinstance(source, (str, os.PathLike)) else np.asarray(source)
    kernels = normalise_kernels(arr)
    if size is not None:
        if size < 1 or size % 2 == 0:
            raise SettingsError(f"kernel size must be odd, got {size}")
        kernels = normalise_kernels(np.stack([fit_kernel_size(k, size) for k in kernels]))
    return kernels


@kernel_family("file")
def _from_file(settings: GallerySettings, rng: np.random.Generator) -> np.ndarray:
    """Kernel(s) from an image or ``.npy`` file: one 2D kernel or a ``(n, h, w)`` stack."""
    assert settings.kernel_path is not None  # GallerySettings.check requires it for this family
    return load_kernels(settings.kernel_path, size=settings.size)
