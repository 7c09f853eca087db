"""Deep Identity Learning: the paper's loss and its closed-form optimum over one filter.

For a filter ``h`` (impulse response) and a blur kernel ``K`` summing to 1, ``f(K) = K (*) h``
cropped to the kernel's window (the network's output on the zero-extended kernel). The loss is

    mean_K ||f(K) - delta||^2 + a * |1 - sum f(K)| + b * |1 - f(K)[centre]|

with ``a = 0.8``, ``b = 0.2`` in the paper. It does not hold ``sum(h) = 1`` and its optimum has
a DC gain of about 1.11, which brightens every image; ``hold_sum_at_one`` projects ``h`` onto
``sum(h) = 1`` exactly (an orthogonal projection, so the optimum is the constrained one).

``ridge`` (default 0, the paper's loss) adds ``ridge * ||h||^2``: the error that white noise of
variance ``ridge`` in the upsampled image would add. Without it, a gallery of one or a few kernels
(a measured PSF) has an exact inverse with huge taps that would amplify any noise.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from ..core.errors import SettingsError
from ..core.filters import convolve, project_sum_to_one, solve_quadratic
from ..core.progress import drain
from ..core.settings import Settings, setting


@dataclass(frozen=True)
class DILLossSettings(Settings):
    """Weights of the Deep Identity Learning loss and whether ``sum(h)`` is held at 1."""

    sum_weight: float = setting(0.8, "weight of |1 - sum f(K)| (the paper: 0.8)", min=0, advanced=True)
    centre_weight: float = setting(0.2, "weight of |1 - f(K)[centre]| (the paper: 0.2)", min=0, advanced=True)
    hold_sum_at_one: bool = setting(
        True,
        "hold the filter's taps at a sum of exactly 1, so brightness never shifts",
        label="Hold filter sum at 1",
        flag="hold-sum",
    )
    ridge: float = setting(
        0.0, "noise regulariser ridge * ||h||^2 (try 1e-3 for one measured PSF)", min=0, step=1e-4, advanced=True
    )


def dil_loss(h: torch.Tensor, kernels: torch.Tensor, settings: DILLossSettings) -> torch.Tensor:
    """Mean Deep Identity Learning loss of filter ``h`` over ``kernels`` ``(n, k, k)``.

    ``h`` is used as given: apply :func:`project_sum_to_one` first for the held-sum variant.
    """
    out = convolve(kernels[:, None], h, padding="zeros")[:, 0]
    c0, c1 = out.shape[-2] // 2, out.shape[-1] // 2
    target = torch.zeros_like(out[0])
    target[c0, c1] = 1.0
    identity = ((out - target) ** 2).sum(dim=(-2, -1))
    dc = (1.0 - out.sum(dim=(-2, -1))).abs()
    centre = (1.0 - out[:, c0, c1]).abs()
    ridge = settings.ridge * (h**2).sum()
    return (identity + settings.sum_weight * dc + settings.centre_weight * centre).mean() + ridge


def _linear_map(kernels: torch.Tensor, size: int) -> torch.Tensor:
    """Matrices ``A_k`` with ``f(K_k).ravel() = A_k @ h.ravel()``: shape ``(n, k*k, size*size)``."""
    basis = torch.eye(size * size, dtype=kernels.dtype).reshape(size * size, 1, size, size)
    # conv2d correlates; flipping the basis turns it into convolution with each unit filter
    cols = torch.nn.functional.conv2d(kernels[:, None], basis.flip(-2, -1), padding=size // 2)
    return cols.flatten(2).transpose(1, 2)


@dataclass
class DILStatistics:
    """Everything :func:`dil_loss` needs about a gallery, for filters of side ``size``.

    With ``A_k`` the linear map ``h -> f(K_k)``: ``gram = mean A_k^T A_k``, ``sum_rows[k] =
    1^T A_k`` and ``centre_rows[k] = A_k[centre]``. The loss of any filter is then exact and
    costs ``O(n * size**2)`` instead of a convolution of the whole gallery.
    """

    size: int
    gram: torch.Tensor
    sum_rows: torch.Tensor
    centre_rows: torch.Tensor

    @classmethod
    def from_kernels(cls, kernels: np.ndarray | torch.Tensor, size: int, batch: int = 256) -> DILStatistics:
        """Accumulate the statistics of ``kernels`` ``(n, k, k)`` in float64, in batches."""
        return drain(cls.iter_from_kernels(kernels, size, batch))

    @classmethod
    def iter_from_kernels(
        cls, kernels: np.ndarray | torch.Tensor, size: int, batch: int = 256
    ) -> Generator[tuple[int, int], None, DILStatistics]:
        """Like :meth:`from_kernels`, yielding ``(kernels done, total)`` after each batch (a gallery of
        3,200 takes about 5 s: long enough to want progress and a way to stop)."""
        k = torch.as_tensor(np.asarray(kernels), dtype=torch.float64)
        validate_kernel_tensor(k)
        n_taps = size * size
        gram = torch.zeros(n_taps, n_taps, dtype=torch.float64)
        sums, centres = [], []
        for start in range(0, k.shape[0], batch):
            a = _linear_map(k[start : start + batch], size)
            gram += torch.einsum("npi,npj->ij", a, a)
            sums.append(a.sum(dim=1))
            # a copy: a view of one row would keep the whole batch's map (100 MB) alive
            centres.append(a[:, a.shape[1] // 2].clone())
            yield min(start + batch, k.shape[0]), k.shape[0]
        return cls(size, gram / k.shape[0], torch.cat(sums), torch.cat(centres))

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float64) -> DILStatistics:
        """The same statistics on another device/dtype."""
        move = lambda t: t.to(device=device, dtype=dtype)  # noqa: E731
        return DILStatistics(self.size, move(self.gram), move(self.sum_rows), move(self.centre_rows))

    def loss(self, h: torch.Tensor, settings: DILLossSettings) -> torch.Tensor:
        """:func:`dil_loss` of filter ``h`` (used as given), differentiable."""
        w = h.reshape(-1).to(self.gram.dtype)
        # ||A w - delta||^2 = w^T A^T A w - 2 (A^T delta) . w + 1, and A^T delta is the centre row
        identity = w @ self.gram @ w - 2 * (self.centre_rows @ w).mean() + 1.0
        dc = (1.0 - self.sum_rows @ w).abs().mean()
        centre = (1.0 - self.centre_rows @ w).abs().mean()
        ridge = settings.ridge * (w @ w)
        return identity + settings.sum_weight * dc + settings.centre_weight * centre + ridge


def closed_form_filter(
    stats: DILStatistics,
    settings: DILLossSettings | None = None,
    iterations: int = 60,
) -> torch.Tensor:
    """Global minimiser of the DIL loss over filters of side ``stats.size`` (float64).

    The loss is a convex quadratic plus absolute values of linear terms (one pair per kernel).
    Iteratively reweighted least squares replaces each ``|r|`` by ``r^2 / |r_prev|``, so every
    step is one closed-form linear solve of size ``size**2`` (plus a Lagrange multiplier when
    the sum is held at 1); it converges to the convex optimum in a few dozen solves. The best
    iterate is returned: with tiny residuals the reweighting can become ill-conditioned and jump.
    """
    settings = settings or DILLossSettings()
    stats = stats.to("cpu")
    n_taps = stats.size**2
    s_rows, c_rows = stats.sum_rows, stats.centre_rows
    n = s_rows.shape[0]
    target = c_rows.mean(dim=0)
    w = torch.zeros(n_taps, dtype=torch.float64)
    w[n_taps // 2] = 1.0
    # IRLS can jump once a residual is ~0 and its weight explodes: keep the best iterate seen
    best, best_loss = w, float(stats.loss(w.reshape(stats.size, stats.size), settings))
    for it in range(iterations):
        # smoothing shrinks geometrically so early steps stay well conditioned
        eps = max(1e-10, 1e-2 * 0.7**it)
        u = settings.sum_weight / (2 * n) / (1.0 - s_rows @ w).abs().clamp_min(eps)
        v = settings.centre_weight / (2 * n) / (1.0 - c_rows @ w).abs().clamp_min(eps)
        lhs = stats.gram + (s_rows.T * u) @ s_rows + (c_rows.T * v) @ c_rows
        lhs = lhs + settings.ridge * torch.eye(n_taps, dtype=torch.float64)
        rhs = target + (s_rows.T @ u) + (c_rows.T @ v)
        w = solve_quadratic(lhs, rhs, settings.hold_sum_at_one)
        candidate = w.reshape(stats.size, stats.size)
        if settings.hold_sum_at_one:
            candidate = project_sum_to_one(candidate)
        loss = float(stats.loss(candidate, settings))
        if loss < best_loss:
            best, best_loss = w, loss
    h = best.reshape(stats.size, stats.size)
    if settings.hold_sum_at_one:
        h = project_sum_to_one(h)  # remove the solver's round-off from the constraint
    return h


def validate_kernel_tensor(kernels: torch.Tensor) -> None:
    """Raise a clear error unless ``kernels`` is a finite ``(n, k, k)`` stack."""
    if kernels.ndim != 3 or kernels.shape[0] == 0:
        raise SettingsError(f"kernels must be a non-empty (n, k, k) stack, got shape {tuple(kernels.shape)}")
    if not torch.isfinite(kernels).all():
        raise SettingsError("kernels contain NaN or infinite values")


@dataclass
class DILObjective:
    """The paper's identity objective as an :class:`~napari_nssr.objectives.base.Objective`."""

    stats: DILStatistics
    settings: DILLossSettings

    @property
    def size(self) -> int:
        """Side of the filters scored."""
        return self.stats.size

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        """:func:`dil_loss` of ``h`` from the gallery's statistics."""
        return self.stats.loss(h, self.settings)

    def optimum(self) -> torch.Tensor:
        """:func:`closed_form_filter` of the gallery."""
        return closed_form_filter(self.stats, self.settings)

    def to(self, device: torch.device | str) -> DILObjective:
        """The same objective on ``device``."""
        return DILObjective(self.stats.to(device), self.settings)
