"""The imaging model ``y = subsample_s(K * x)`` as an operator, and Richardson-Lucy under it.

:func:`~napari_nssr.core.degrade.blur_subsample` makes test images with this model;
:class:`SamplingOperator` applies it (and its adjoint) fast, in float32, for restoring them: the
low-resolution pixel ``j`` samples the blurred high-resolution image at ``s*j + (s-1)/2``, as
there. :class:`RichardsonLucy` iterates for the high-resolution image under this model (the
maximum-likelihood iteration for Poisson counts, which keeps the image positive) from a given
start; :func:`richardson_lucy_path` hands back the iterates asked for: how many iterations to keep
is the regularisation, chosen by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np
import torch

from .degrade import sampling_kernel
from .errors import SettingsError

#: a kernel whose second singular value is below this fraction of its first is applied as one row
#: and one column filter (a round or axis-aligned Gaussian: exact to float32)
SEPARABLE_TOLERANCE = 1e-7
#: no value Richardson-Lucy divides by or multiplies is smaller than this fraction of the data's
#: largest (zero signal is held just above zero); also the normaliser's floor
TINY = 1e-12


class SamplingOperator:
    """``x -> subsample_s(K * x)`` for a centred PSF ``K`` on the high-resolution grid, and its adjoint,
    in float32.

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
    transpose away from the borders. A separable kernel (a Gaussian) is applied as a column and a
    row filter, the forward one only at the rows it keeps: about three times faster than OpenCV's
    2D filter (which uses the DFT for kernels of this size). float32 is ample here (the
    iterations' relative error stays near 1e-6) and halves the memory traffic that dominates the
    cost; one spread plane is kept and reused, so an operator is not for use by two threads at
    once.
    """

    def __init__(self, psf: np.ndarray, scale: int, lr_shape: tuple[int, int]) -> None:
        if int(scale) != scale or scale < 1:
            raise SettingsError(f"the sampling operator needs a positive integer scale, got {scale}")
        self.scale, self.psf = int(scale), psf
        self.kernel = sampling_kernel(psf, self.scale)
        self.lr_shape = (int(lr_shape[0]), int(lr_shape[1]))
        self.hr_shape = (self.lr_shape[0] * self.scale, self.lr_shape[1] * self.scale)
        kernel = self.kernel.astype(np.float32)
        # filter2D correlates: the reversed kernel makes it the convolution
        self._flipped = np.ascontiguousarray(kernel[::-1, ::-1])
        self._kernel = np.ascontiguousarray(kernel)
        left, values, right = np.linalg.svd(self.kernel)
        self.separable = bool(values[1] <= SEPARABLE_TOLERANCE * values[0])
        if self.separable:
            sign = 1.0 if left[:, 0].sum() >= 0 else -1.0
            self._column = (sign * math.sqrt(values[0]) * left[:, 0]).astype(np.float32)
            self._row = (sign * math.sqrt(values[0]) * right[0]).astype(np.float32)
            self._column_flipped, self._row_flipped = self._column[::-1].copy(), self._row[::-1].copy()
            self._columns_spread = np.zeros((self.lr_shape[0], self.hr_shape[1]), np.float32)
        self._one = np.ones(1, np.float32)
        # only the sampled places are written: the rest stays zero from call to call
        self._spread = np.zeros(self.hr_shape, np.float32)
        self.norm = np.maximum(self._normaliser(), TINY)

    def forward(self, hr: np.ndarray) -> np.ndarray:
        """``subsample_s(K * hr)``: the low-resolution plane ``hr`` makes (float32)."""
        import cv2  # imported here, as the CPU engine does: not needed to define methods

        hr = np.ascontiguousarray(hr, dtype=np.float32)
        s = self.scale
        if not self.separable:
            blurred = cv2.filter2D(hr, -1, self._flipped, borderType=cv2.BORDER_REFLECT)
            return blurred[::s, ::s]
        # the rows first, then the columns only of the rows kept
        across = cv2.sepFilter2D(hr, -1, self._row_flipped, self._one, borderType=cv2.BORDER_REFLECT)
        kept = np.ascontiguousarray(across[:, ::s])
        down = cv2.sepFilter2D(kept, -1, self._one, self._column_flipped, borderType=cv2.BORDER_REFLECT)
        return down[::s]

    def adjoint(self, lr: np.ndarray) -> np.ndarray:
        """The transpose of :meth:`forward`: ``lr`` placed on the high-resolution grid, blurred by ``K``
        reversed (float32)."""
        import cv2

        s = self.scale
        if not self.separable:
            self._spread[::s, ::s] = lr
            return cv2.filter2D(self._spread, -1, self._kernel, borderType=cv2.BORDER_CONSTANT)
        self._columns_spread[:, ::s] = lr
        across = cv2.sepFilter2D(self._columns_spread, -1, self._row, self._one, borderType=cv2.BORDER_CONSTANT)
        self._spread[::s] = across
        return cv2.sepFilter2D(self._spread, -1, self._one, self._column, borderType=cv2.BORDER_CONSTANT)

    def _normaliser(self) -> np.ndarray:
        """The adjoint of a plane of ones (Richardson-Lucy's normaliser), from a small plane.

        Away from the borders it repeats with the period of the scale; within the kernel's reach of
        a border it depends only on the distance to it. So it is computed on a plane just wide
        enough to hold both borders and one period between them, and spread out by indexing.
        """
        margin = -(-(self.kernel.shape[0] // 2) // self.scale) + 1  # LR pixels a border reaches
        small = tuple(min(n, 2 * margin + 1) for n in self.lr_shape)
        if small == self.lr_shape:
            return self.adjoint(np.ones(self.lr_shape, np.float32)).copy()
        ones = SamplingOperator(self.psf, self.scale, small).norm  # computed whole: small is its own shape
        rows = _fold(self.lr_shape[0], small[0], margin, self.scale)
        cols = _fold(self.lr_shape[1], small[1], margin, self.scale)
        return ones[np.ix_(rows, cols)]


def _fold(n: int, small: int, margin: int, scale: int) -> np.ndarray:
    """For each high-resolution index of an ``n``-pixel side, the index of the ``small``-pixel side
    whose normaliser equals it: the same offset from the near border, or the same phase between."""
    index = np.arange(n * scale)
    near_top = index < margin * scale
    near_bottom = index >= (n - margin) * scale
    return np.where(near_top, index, np.where(near_bottom, index - (n - small) * scale, margin * scale + index % scale))


class RichardsonLucy:
    """Richardson-Lucy iterations for the high-resolution image behind ``observed``, one step at a time,
    in float32 and in place.

    Parameters
    ----------
    observed : numpy.ndarray
        The low-resolution plane (``operator.lr_shape``).
    start : numpy.ndarray
        The first estimate, on the high-resolution grid.
    operator : SamplingOperator
        The imaging model.
    floor : float
        The value of zero signal (a camera's black level): values are counted from it, and nothing
        comes out below it.
    """

    def __init__(self, observed: np.ndarray, start: np.ndarray, operator: SamplingOperator, floor: float = 0.0) -> None:
        self.operator, self.floor, self.done = operator, float(floor), 0
        data = np.asarray(observed, dtype=np.float32) - np.float32(floor)
        # zero signal is held this far above zero: relative to the data, so that an image in units of
        # 1e-20 is restored as the same image in units of 1
        self.tiny = np.float32(max(float(np.abs(data).max()) * TINY if data.size else 0.0, 1e-37))
        self._data = np.maximum(data, self.tiny)
        self._estimate = np.maximum(np.asarray(start, dtype=np.float32) - np.float32(floor), self.tiny)
        self._inverse_norm = np.reciprocal(operator.norm)

    def step(self) -> None:
        """One iteration."""
        predicted = self.operator.forward(self._estimate)
        np.maximum(predicted, self.tiny, out=predicted)
        np.divide(self._data, predicted, out=predicted)
        correction = self.operator.adjoint(predicted)
        correction *= self._inverse_norm
        correction *= self._estimate
        # the filter's round-off can leave a zero a hair below it
        np.maximum(correction, 0.0, out=correction)
        self._estimate = correction
        self.done += 1

    def estimate(self) -> np.ndarray:
        """The current estimate in the image's units (a new float32 array)."""
        return self._estimate + np.float32(self.floor)


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
        As for :class:`RichardsonLucy`.

    Yields
    ------
    tuple of (int, numpy.ndarray)
        The iteration count and the estimate after it (float32), in increasing order of count.
    """
    wanted = sorted({int(k) for k in keep})
    if not wanted or wanted[0] < 0:
        raise SettingsError(f"iteration counts must be 0 or more, got {wanted}")
    iterations = RichardsonLucy(observed, start, operator, floor)
    for done in range(wanted[-1] + 1):
        if done in wanted:
            yield done, iterations.estimate()
        if done == wanted[-1]:
            return
        iterations.step()


def _mirrored(n: int, radius: int) -> torch.Tensor:
    """Indices ``-radius .. n + radius - 1`` mirrored into the plane with the edge repeated (OpenCV's
    ``BORDER_REFLECT``, which torch's padding modes lack)."""
    index = np.arange(-radius, n + radius) % (2 * n)
    return torch.as_tensor(np.where(index < n, index, 2 * n - 1 - index))


class TensorSamplingOperator:
    """:class:`SamplingOperator` in torch on a device (the GPU path): the same model, borders and
    normaliser, by ``conv2d`` (the forward one strided: only the samples kept are computed).

    Parameters
    ----------
    psf, scale, lr_shape
        As for :class:`SamplingOperator`.
    device : torch.device
        Where to compute (float32).
    """

    def __init__(self, psf: np.ndarray, scale: int, lr_shape: tuple[int, int], device: torch.device) -> None:
        if int(scale) != scale or scale < 1:
            raise SettingsError(f"the sampling operator needs a positive integer scale, got {scale}")
        self.scale, self.device = int(scale), device
        kernel = torch.as_tensor(sampling_kernel(psf, self.scale), dtype=torch.float32, device=device)
        self.radius = kernel.shape[0] // 2
        self._kernel, self._flipped = kernel[None, None], kernel.flip(0, 1)[None, None]
        self.lr_shape = (int(lr_shape[0]), int(lr_shape[1]))
        self.hr_shape = (self.lr_shape[0] * self.scale, self.lr_shape[1] * self.scale)
        self._rows = _mirrored(self.hr_shape[0], self.radius).to(device)
        self._cols = _mirrored(self.hr_shape[1], self.radius).to(device)
        ones = torch.ones(self.lr_shape, dtype=torch.float32, device=device)
        self.norm = torch.clamp(self.adjoint(ones), min=TINY)

    def forward(self, hr: torch.Tensor) -> torch.Tensor:
        """``subsample_s(K * hr)`` (float32)."""
        padded = hr.to(torch.float32)[self._rows][:, self._cols]
        return torch.nn.functional.conv2d(padded[None, None], self._flipped, stride=self.scale)[0, 0]

    def adjoint(self, lr: torch.Tensor) -> torch.Tensor:
        """The transpose of :meth:`forward` (float32)."""
        spread = torch.zeros(self.hr_shape, dtype=torch.float32, device=self.device)
        spread[:: self.scale, :: self.scale] = lr
        return torch.nn.functional.conv2d(spread[None, None], self._kernel, padding=self.radius)[0, 0]


class TensorRichardsonLucy:
    """:class:`RichardsonLucy` in torch, under a :class:`TensorSamplingOperator`, on its device."""

    def __init__(
        self, observed: torch.Tensor, start: torch.Tensor, operator: TensorSamplingOperator, floor: float = 0.0
    ) -> None:
        self.operator, self.floor, self.done = operator, float(floor), 0
        data = observed.to(torch.float32) - floor
        self.tiny = max(float(data.abs().max()) * TINY if data.numel() else 0.0, 1e-37)  # as RichardsonLucy
        self._data = torch.clamp(data, min=self.tiny)
        self._estimate = torch.clamp(start.to(torch.float32) - floor, min=self.tiny)
        self._inverse_norm = torch.reciprocal(operator.norm)

    def step(self) -> None:
        """One iteration."""
        ratio = self._data / torch.clamp(self.operator.forward(self._estimate), min=self.tiny)
        correction = self.operator.adjoint(ratio)
        correction.mul_(self._inverse_norm).mul_(self._estimate).clamp_(min=0.0)
        self._estimate = correction
        self.done += 1

    def estimate(self) -> torch.Tensor:
        """The current estimate in the image's units (a new float32 tensor)."""
        return self._estimate + self.floor
