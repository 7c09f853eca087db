"""Image quality metrics as in the super-resolution literature (scikit-image underneath)."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def luminance(image: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma Y in [16, 235] for an RGB or grey image with values in [0, 1]."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] < 3:
        raise ValueError(f"expected a 2D grey or (H, W, 3) RGB image, got shape {img.shape}")
    return rgb2ycbcr(np.clip(img[..., :3], 0.0, 1.0))[..., 0]


def _shave(image: np.ndarray, border: int) -> np.ndarray:
    return image[border:-border, border:-border] if border > 0 else image


def psnr_y(reference: np.ndarray, test: np.ndarray, shave: int = 0) -> float:
    """PSNR on luma (data range 255), ignoring ``shave`` pixels at each border; images in [0, 1]."""
    _same_shape(reference, test)
    ref, out = _shave(luminance(reference), shave), _shave(luminance(test), shave)
    return float(peak_signal_noise_ratio(ref, out, data_range=255.0))


def ssim_y(reference: np.ndarray, test: np.ndarray, shave: int = 0) -> float:
    """SSIM on luma (Gaussian window, sigma 1.5, as Wang et al.), ignoring ``shave`` border pixels."""
    _same_shape(reference, test)
    ref, out = _shave(luminance(reference), shave), _shave(luminance(test), shave)
    return float(
        structural_similarity(ref, out, data_range=255.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    )


def _same_shape(a: np.ndarray, b: np.ndarray) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"images differ in shape: {np.shape(a)} vs {np.shape(b)}")


def compare_to_reference(reference: np.ndarray, test: np.ndarray, rgb: bool = False) -> tuple[float, float]:
    """``(PSNR, SSIM)`` of ``test`` against ``reference`` for images of any intensity range.

    RGB images are scored on luma (after scaling integer data to [0, 1] by its dtype); grey
    images and stacks plane by plane with the reference's own data range, and averaged. Both
    arrays must have the same shape.
    """
    _same_shape(reference, test)
    ref, out = np.asarray(reference), np.asarray(test)
    if rgb:
        unit = float(np.iinfo(ref.dtype).max) if ref.dtype.kind in "ui" else 1.0
        planes_ref = ref.reshape(-1, *ref.shape[-3:]).astype(np.float64) / unit
        planes_out = out.reshape(-1, *out.shape[-3:]).astype(np.float64) / unit
        scores = [(psnr_y(r, o), ssim_y(r, o)) for r, o in zip(planes_ref, planes_out)]
    else:
        ref64, out64 = ref.astype(np.float64), out.astype(np.float64)
        data_range = float(ref64.max() - ref64.min()) or 1.0
        scores = []
        for r, o in zip(ref64.reshape(-1, *ref.shape[-2:]), out64.reshape(-1, *out.shape[-2:])):
            psnr = float(peak_signal_noise_ratio(r, o, data_range=data_range))
            ssim = float(
                structural_similarity(
                    r, o, data_range=data_range, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
                )
            )
            scores.append((psnr, ssim))
    psnrs, ssims = zip(*scores)
    return float(np.mean(psnrs)), float(np.mean(ssims))
