"""Filters as impulse responses: applying them, blending them, and solving for them with sum 1.

Convention: a filter is stored as its *impulse response* ``h`` (odd, square); applying it means
true convolution, ``y = x (*) h``. A filter whose taps sum to 1 keeps an image's mean brightness.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import SettingsError


def convolve(images: torch.Tensor, h: torch.Tensor, padding: str = "reflect") -> torch.Tensor:
    """Convolve ``(n, c, H, W)`` images with filter ``h`` (true convolution).

    Parameters
    ----------
    images : torch.Tensor
        ``(n, c, H, W)`` batch.
    h : torch.Tensor
        Filter (impulse response), 2D.
    padding : {"reflect", "zeros", "valid"}
        ``"reflect"`` mirrors image borders (same-size output, as at inference), ``"zeros"``
        zero-extends (for kernels, which are zero outside their window), ``"valid"`` pads nothing
        (the output shrinks by the filter's size minus one).

    Returns
    -------
    torch.Tensor
    """
    r0, r1 = h.shape[-2] // 2, h.shape[-1] // 2
    n, c, height, width = images.shape
    x = images.reshape(n * c, 1, height, width)
    weight = h.flip(-2, -1).reshape(1, 1, *h.shape[-2:]).to(images.dtype)
    if padding == "zeros":
        out = F.conv2d(x, weight, padding=(r0, r1))
    elif padding == "reflect":
        out = F.conv2d(F.pad(x, (r1, r1, r0, r0), mode="reflect"), weight)
    elif padding == "valid":
        out = F.conv2d(x, weight)
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return out.reshape(n, c, *out.shape[-2:])


def delta_filter(size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The identity filter of odd side ``size``."""
    if size < 1 or size % 2 == 0:
        raise SettingsError(f"filter size must be odd, got {size}")
    h = torch.zeros(size, size, dtype=dtype)
    h[size // 2, size // 2] = 1.0
    return h


def blend_with_identity(h: torch.Tensor, strength: float) -> torch.Tensor:
    """``(1 - strength) * delta + strength * h``: 0 is plain bicubic, 1 the full inverse filter.

    The DC gain stays that of ``h`` at strength 1 and 1 at strength 0, so a sum-1 filter keeps
    the image's brightness at every strength.
    """
    return (1.0 - strength) * delta_filter(h.shape[-1], h.dtype).to(h.device) + strength * h


def project_sum_to_one(h: torch.Tensor) -> torch.Tensor:
    """The closest filter (least squares) to ``h`` whose taps sum to exactly 1."""
    return h + (1.0 - h.sum()) / h.numel()


def solve_quadratic(gram: torch.Tensor, cross: torch.Tensor, unit_sum: bool) -> torch.Tensor:
    """Minimise ``w^T G w - 2 c^T w`` over vectors ``w``, optionally subject to ``sum(w) = 1``.

    The constrained case solves the Lagrange (KKT) system ``[[G, 1], [1^T, 0]] [w; mu] = [c; 1]``.

    Parameters
    ----------
    gram : torch.Tensor
        Symmetric positive (semi-)definite ``(n, n)`` matrix ``G``, float64.
    cross : torch.Tensor
        ``(n,)`` vector ``c``.
    unit_sum : bool
        Hold the sum of ``w`` at 1.

    Returns
    -------
    torch.Tensor
        ``w``, shape ``(n,)``.
    """
    if not unit_sum:
        return torch.linalg.solve(gram, cross)
    n = gram.shape[0]
    ones = torch.ones(n, 1, dtype=gram.dtype)
    zero = torch.zeros(1, 1, dtype=gram.dtype)
    lhs = torch.cat([torch.cat([gram, ones], 1), torch.cat([ones.T, zero], 1)])
    return torch.linalg.solve(lhs, torch.cat([cross, torch.ones(1, dtype=gram.dtype)]))[:n]
