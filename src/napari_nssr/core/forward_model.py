"""The imaging model ``y = subsample_s(K * x)`` as an operator, and Richardson-Lucy under it.

:func:`~napari_nssr.core.degrade.blur_subsample` makes test images with this model;
:class:`SamplingOperator` applies it (and its adjoint) fast, by FFT, for restoring them: the
low-resolution pixel ``j`` samples the blurred high-resolution image at ``s*j + (s-1)/2``, as
there. :func:`richardson_lucy_path` runs Richardson-Lucy iterations for the high-resolution image
under this model (the maximum-likelihood iteration for Poisson counts, which keeps the image
positive), from a given start, handing back the iterates asked for: how many iterations to keep
is the regularisation, chosen by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .degrade import sampling_kernel
from .errors import SettingsError


class SamplingOperator:
    """``x -> subsample_s(K * x)`` for a centred PSF ``K`` on the high-resolution grid, and its adjoint
    (OpenCV's filter2D: 10 times faster than an FFT convolution for PSFs of this size).

    Parameters
    ----------
    psf : numpy.ndarray
        Odd-sided, centred, summing to 1, on the high-resolution grid.
    scale : int
        The integer factor between the grids.
    lr_shape : tuple of int
        The low-resolution plane's ``(rows, cols)``.

    Notes
    -----
    The blur mirrors the image at its borders (as ``blur_subsample`` does, by SciPy's
    ``reflect``: OpenCV's ``BORDER_REFLECT``); the adjoint pads with zeros, so that it is the exact
    transpose away from the borders.
    """

    def __init__(self, psf: np.ndarray, scale: int, lr_shape: tuple[int, int]) -> None:
        if int(scale) != scale or scale < 1:
            raise SettingsError(f"the sampling operator needs a positive integer scale, got {scale}")
        self.scale = int(scale)
        self.kernel = sampling_kernel(psf, self.scale)
        # filter2D correlates: the reversed kernel makes it the convolution
        self.flipped = np.ascontiguousarray(self.kernel[::-1, ::-1])
        self.lr_shape = (int(lr_shape[0]), int(lr_shape[1]))
        self.hr_shape = (self.lr_shape[0] * self.scale, self.lr_shape[1] * self.scale)
        # the adjoint of a plane of ones: Richardson-Lucy's normaliser
        self.norm = np.maximum(self.adjoint(np.ones(self.lr_shape)), 1e-12)

    def forward(self, hr: np.ndarray) -> np.ndarray:
        """``subsample_s(K * hr)``: the low-resolution plane ``hr`` makes (float64)."""
        import cv2  # imported here, as the CPU engine does: not needed to define methods

        hr = np.ascontiguousarray(hr, dtype=np.float64)
        blurred = cv2.filter2D(hr, -1, self.flipped, borderType=cv2.BORDER_REFLECT)
        return blurred[:: self.scale, :: self.scale]

    def adjoint(self, lr: np.ndarray) -> np.ndarray:
        """The transpose of :meth:`forward`: ``lr`` placed on the high-resolution grid, blurred by ``K``
        reversed (float64)."""
        import cv2

        spread = np.zeros(self.hr_shape)
        spread[:: self.scale, :: self.scale] = lr
        return cv2.filter2D(spread, -1, self.kernel, borderType=cv2.BORDER_CONSTANT)


def richardson_lucy_path(
    observed: np.ndarray,
    start: np.ndarray,
    operator: SamplingOperator,
    keep: Iterable[int],
    floor: float = 0.0,
) -> Iterator[tuple[int, np.ndarray]]:
    """Richardson-Lucy iterates for the high-resolution image behind ``observed``.

    Parameters
    ----------
    observed : numpy.ndarray
        The low-resolution plane (``operator.lr_shape``).
    start : numpy.ndarray
        The first estimate, on the high-resolution grid.
    operator : SamplingOperator
        The imaging model.
    keep : iterable of int
        Iteration counts whose iterates are yielded (0: ``start`` itself, clipped at ``floor``).
    floor : float
        The value of zero signal (a camera's black level): values are counted from it, and nothing
        comes out below it.

    Yields
    ------
    tuple of (int, numpy.ndarray)
        The iteration count and the estimate after it (float64), in increasing order of count.
    """
    wanted = sorted({int(k) for k in keep})
    if not wanted or wanted[0] < 0:
        raise SettingsError(f"iteration counts must be 0 or more, got {wanted}")
    data = np.maximum(np.asarray(observed, dtype=np.float64) - floor, 1e-12)
    estimate = np.maximum(np.asarray(start, dtype=np.float64) - floor, 1e-12)
    for done in range(wanted[-1] + 1):
        if done in wanted:
            yield done, estimate + floor
        if done == wanted[-1]:
            return
        ratio = data / np.maximum(operator.forward(estimate), 1e-12)
        # FFT round-off can leave a zero a hair below it
        estimate = np.maximum(estimate * operator.adjoint(ratio) / operator.norm, 0.0)
