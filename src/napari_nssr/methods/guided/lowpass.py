"""How a coarse band sees the fine grid: ``D(x) = average_s(Gaussian_sigma * x)``, its estimate, and the
exact consistency step.

A coarse pixel integrates the scene over its footprint (``s x s`` fine pixels: the pixel average,
as a publisher makes its 60 m products from 30 m ones, and as a detector does) after the optics'
blur (a Gaussian of ``sigma`` fine pixels; a sensor's MTF at Nyquist gives it). The guided method
low-passes its guides with this ``D``, so that the guides' coarse images are what the target band
would show of them; ``regression.estimate_lowpass`` picks ``sigma`` by how well the guides explain the
target through each candidate. :meth:`Lowpass.project` is the consistency step: the nearest image
to a result that, degraded by ``D``, equals the input exactly (the orthogonal projection onto that
set, which holds the truth when ``D`` is right, so it brings any result closer to it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...core.parallel import map_in_threads

#: candidate optics blurs, in coarse pixels (times the scale: fine pixels)
SIGMA_CANDIDATES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: the estimate looks at a centred sample of at most this many coarse pixels a side
ESTIMATE_SIDE = 512
#: fine rows converted at a time when :meth:`Lowpass.down` reads a plane that is not float32
DOWN_STRIP_ROWS = 256
#: coarse rows of the pixel average's consistency step at a time
PROJECT_ROWS = 64
#: corrections of the consistency solve for a Gaussian footprint at the borders (a pixel average needs none)
PROJECTION_STEPS = 6


def sigma_from_mtf(mtf_at_nyquist: float) -> float:
    """The std (coarse pixels) of the Gaussian whose MTF at the coarse grid's Nyquist frequency is
    ``mtf_at_nyquist`` (what sensor documents quote: about 0.3 for Sentinel-2 and Landsat 8).

    Examples
    --------
    >>> round(sigma_from_mtf(0.3), 3)
    0.494
    """
    if not 0 < mtf_at_nyquist < 1:
        raise ValueError(f"an MTF at Nyquist lies in (0, 1), got {mtf_at_nyquist}")
    return math.sqrt(-2.0 * math.log(mtf_at_nyquist)) / math.pi


def _gaussian(plane: np.ndarray, sigma: float) -> np.ndarray:
    import cv2  # the CPU library of the engine, imported where used

    if sigma <= 0:
        return plane
    return cv2.GaussianBlur(plane, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def average_down(plane: np.ndarray, scale: int) -> np.ndarray:
    """Each ``scale x scale`` block's mean (the plane's sides are multiples of ``scale``)."""
    import cv2

    rows, cols = plane.shape[0] // scale, plane.shape[1] // scale
    # OpenCV's area interpolation at an integer factor is the block mean, and multi-threaded
    return cv2.resize(plane[: rows * scale, : cols * scale], (cols, rows), interpolation=cv2.INTER_AREA)


def repeat_up(plane: np.ndarray, scale: int) -> np.ndarray:
    """Each pixel repeated over its ``scale x scale`` block (the adjoint of :func:`average_down`, times ``s**2``)."""
    import cv2

    rows, cols = plane.shape
    return cv2.resize(plane, (cols * scale, rows * scale), interpolation=cv2.INTER_NEAREST)


@dataclass(frozen=True)
class Lowpass:
    """``D``: the optics (a Gaussian of ``sigma`` fine pixels), then each coarse pixel's average.

    Attributes
    ----------
    scale : int
        Fine pixels per coarse pixel, along each axis.
    sigma : float
        The optics' std in fine pixels (0: the pixel average alone).

    Examples
    --------
    >>> import numpy as np
    >>> fine = np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> Lowpass(2, 0.0).down(fine)
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """

    scale: int
    sigma: float = 0.0

    def down(self, fine: np.ndarray) -> np.ndarray:
        """``D(fine)``: the coarse plane a fine plane makes (float32; a plane of another dtype is
        converted a strip at a time, as it is read)."""
        if fine.dtype == np.float32 or fine.shape[0] <= 2 * DOWN_STRIP_ROWS:
            return average_down(_gaussian(np.ascontiguousarray(fine, dtype=np.float32), self.sigma), self.scale)
        s = self.scale
        # the optics' kernel reaches 4 std (OpenCV's size for float planes); whole coarse rows around
        halo = s * math.ceil((4 * self.sigma + 1) / s) if self.sigma > 0 else 0
        rows = fine.shape[0] - fine.shape[0] % s
        coarse = np.empty((rows // s, fine.shape[1] // s), np.float32)
        step = max(s, DOWN_STRIP_ROWS - DOWN_STRIP_ROWS % s)

        def strip(y0: int) -> None:
            y1 = min(rows, y0 + step)
            a, b = max(0, y0 - halo), min(fine.shape[0], y1 + halo)
            block = _gaussian(np.ascontiguousarray(fine[a:b], dtype=np.float32), self.sigma)
            coarse[y0 // s : y1 // s] = average_down(block[y0 - a : y1 - a], s)

        map_in_threads(strip, range(0, rows, step))
        return coarse

    def adjoint(self, coarse: np.ndarray) -> np.ndarray:
        """The transpose of :meth:`down` (exact away from the borders, where the blur mirrors)."""
        spread = repeat_up(np.ascontiguousarray(coarse, dtype=np.float32), self.scale) / np.float32(self.scale**2)
        return _gaussian(spread, self.sigma)

    def project(self, fine: np.ndarray, coarse: np.ndarray) -> np.ndarray:
        """``fine`` moved the least distance that makes ``D(fine) == coarse``.

        For the pixel average the step is exact in one move (each block shifted by its error); with
        optics, ``D D^T`` is solved on the coarse grid (Fourier domain, then corrected at the
        borders: to 1e-6 of the largest correction).

        Parameters
        ----------
        fine : numpy.ndarray
            A fine plane (float32); with the pixel average it is changed in place when writable.
        coarse : numpy.ndarray
            The coarse plane it must reproduce.

        Returns
        -------
        numpy.ndarray
            The float32 plane.
        """
        residual = np.asarray(coarse, dtype=np.float32) - self.down(fine)
        if self.sigma <= 0:
            s = self.scale
            out = fine.copy() if not fine.flags.writeable or not fine.flags.c_contiguous else fine
            rows, cols = residual.shape
            if out.shape != (rows * s, cols * s):
                return out + repeat_up(residual, s)
            # each block shifted by its error, a band of rows at a time: a repeated band is small, and
            # adding it is several times faster than a broadcast over a (rows, s, cols, s) view
            for r0 in range(0, rows, PROJECT_ROWS):
                band = out[r0 * s : (r0 + PROJECT_ROWS) * s]
                band += repeat_up(np.ascontiguousarray(residual[r0 : r0 + PROJECT_ROWS]), s)
            return out
        return fine + self.adjoint(self._solve_normal(residual))

    def _solve_normal(self, residual: np.ndarray) -> np.ndarray:
        """``x`` with ``D D^T x = residual``.

        Every step of ``D D^T`` is separable and mirrors at the borders (half-sample symmetry), so it
        is a symmetric convolution that the type-II discrete cosine transform diagonalises exactly:
        one forward and one inverse transform solve it; a correction or two take the float32
        rounding (and a kernel wider than the plane) out.
        """
        from scipy import fft

        eigen = self._normal_eigenvalues(residual.shape)
        scale = max(float(np.abs(residual).max()), 1e-30)

        def solve(r: np.ndarray) -> np.ndarray:
            return fft.idctn(fft.dctn(r, type=2, norm="ortho", workers=-1) / eigen, type=2, norm="ortho", workers=-1)

        x = solve(residual).astype(np.float32)
        for _ in range(PROJECTION_STEPS):
            left = residual - self.down(self.adjoint(x))
            if float(np.abs(left).max()) <= 1e-6 * scale:
                break
            x += solve(left).astype(np.float32)
        return x

    def _normal_eigenvalues(self, shape: tuple[int, int]) -> np.ndarray:
        """``D D^T``'s eigenvalues on the cosine basis of a plane of ``shape``."""
        reach = int(np.ceil(3 * self.sigma / self.scale)) + 2
        impulse = np.zeros((2 * reach + 1, 2 * reach + 1), np.float32)
        impulse[reach, reach] = 1.0
        kernel = self.down(self.adjoint(impulse)).astype(np.float64)
        offsets = np.arange(-reach, reach + 1)
        rows = np.cos(np.pi * np.outer(np.arange(shape[0]), offsets) / shape[0])
        cols = np.cos(np.pi * np.outer(np.arange(shape[1]), offsets) / shape[1])
        return np.maximum(rows @ kernel @ cols.T, 1e-12)


def centred_sample(shape: tuple[int, int], side: int) -> tuple[slice, slice]:
    """The centred window of at most ``side`` coarse pixels a side (the estimates' sample)."""
    out = []
    for n in shape:
        take = min(n, side)
        start = (n - take) // 2
        out.append(slice(start, start + take))
    return out[0], out[1]


def sample_step(shape: tuple[int, ...]) -> int:
    """Every how many rows and columns a plane's centre or spread is taken: every 4th, or sparser so
    that about a million pixels are read (a shrinkage's scale or a centre, not a result).

    Examples
    --------
    >>> sample_step((1024, 1024)), sample_step((8192, 8192))
    (4, 8)
    """
    return max(4, math.isqrt(int(np.prod(shape)) // 1_000_000))
