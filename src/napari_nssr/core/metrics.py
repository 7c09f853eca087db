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


def _masked(values: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    return values.ravel() if valid is None else values[valid]


def ergas(reference: np.ndarray, test: np.ndarray, ratio: float, valid: np.ndarray | None = None) -> float:
    """ERGAS (Wald's relative dimensionless global error in synthesis) of bands ``(bands, rows, cols)``.

    ``100 * ratio * sqrt(mean over bands of (RMSE_b / mean_b)^2)``, with ``ratio`` the fine pixel
    size over the coarse one (1/2 for a 60 m band brought to 30 m); lower is better, 0 is exact.

    Parameters
    ----------
    reference, test : numpy.ndarray
        ``(bands, rows, cols)`` (or one 2D band).
    ratio : float
        Fine over coarse pixel size.
    valid : numpy.ndarray, optional
        ``(rows, cols)`` mask of the pixels scored.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.full((2, 4, 4), 100.0)
    >>> round(ergas(ref, ref + 1.0, 0.5), 3)
    0.5
    """
    _same_shape(reference, test)
    ref = np.asarray(reference, np.float64).reshape((-1,) + reference.shape[-2:])
    out = np.asarray(test, np.float64).reshape((-1,) + test.shape[-2:])
    terms = []
    for r, o in zip(ref, out):
        r, o = _masked(r, valid), _masked(o, valid)
        terms.append(np.mean((r - o) ** 2) / max(float(np.mean(r)) ** 2, 1e-300))
    return float(100.0 * ratio * np.sqrt(np.mean(terms)))


def spectral_angle(reference: np.ndarray, test: np.ndarray, valid: np.ndarray | None = None) -> float:
    """SAM: the mean angle, in degrees, between the reference's and the test's band vectors at each
    pixel (``(bands, rows, cols)``, two bands or more); 0 is the same spectra.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.ones((2, 3, 3))
    >>> round(spectral_angle(ref, ref * 7.0), 6)
    0.0
    """
    _same_shape(reference, test)
    if reference.ndim != 3 or reference.shape[0] < 2:
        raise ValueError(f"the spectral angle needs (bands, rows, cols) with 2 bands or more, got {reference.shape}")
    ref = np.asarray(reference, np.float64).reshape(reference.shape[0], -1)
    out = np.asarray(test, np.float64).reshape(test.shape[0], -1)
    if valid is not None:
        ref, out = ref[:, valid.ravel()], out[:, valid.ravel()]
    dot = np.sum(ref * out, axis=0)
    norms = np.linalg.norm(ref, axis=0) * np.linalg.norm(out, axis=0)
    keep = norms > 0
    cosine = np.clip(dot[keep] / norms[keep], -1.0, 1.0)
    return float(np.degrees(np.mean(np.arccos(cosine))))


def uiqi(reference: np.ndarray, test: np.ndarray, block: int = 32, valid: np.ndarray | None = None) -> float:
    """Wang and Bovik's universal image quality index of one band: correlation, luminance and contrast
    agreement in ``block x block`` windows (every ``block // 2`` pixels; with ``valid``, only windows
    wholly within it), averaged; 1 is identical.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.random.default_rng(0).random((64, 64))
    >>> round(uiqi(ref, ref), 6)
    1.0
    """
    _same_shape(reference, test)
    ref, out = np.asarray(reference, np.float64), np.asarray(test, np.float64)
    step = max(1, block // 2)
    scores = []
    for r0 in range(0, ref.shape[0] - block + 1, step):
        for c0 in range(0, ref.shape[1] - block + 1, step):
            if valid is not None and not valid[r0 : r0 + block, c0 : c0 + block].all():
                continue
            x, y = ref[r0 : r0 + block, c0 : c0 + block], out[r0 : r0 + block, c0 : c0 + block]
            mx, my = x.mean(), y.mean()
            vx, vy = x.var(), y.var()
            cov = np.mean((x - mx) * (y - my))
            denominator = (vx + vy) * (mx**2 + my**2)
            scores.append(1.0 if denominator == 0 else 4 * cov * mx * my / denominator)
    return float(np.mean(scores)) if scores else float("nan")
