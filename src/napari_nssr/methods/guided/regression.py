"""The fits of the guided method: a small round filter per guide fitted once for the whole band, then
gains fitted locally, both at the coarse resolution.

The first fit says how each guide's fine detail maps onto the target's: one gain per guide (plain
high-pass injection) cannot say that two bands differ in sharpness, a filter of a few rings can
(on the Landsat scene the blue band must be softened and the red one sharpened to predict the
green one). It is fitted through the footprint ``D``: ``target ~ c + sum_k D(h_k * guide_k)``, linear
in the filters' ring weights, so the coarse data alone decide it. The filters are round (one weight
per ring of taps): a free filter would fit the patterns ``D`` cannot see (a checkerboard averages
to zero) and inject them.

The second fit lets the relation vary over the scene (water, vegetation, soil, clouds): in each
window of coarse pixels, a ridge regression of the target on the features (the filtered guide
sum and the guides themselves), shrunk toward zero slope, then averaged over the windows that hold
each pixel (the guided filter of He et al.). Where a guide does not explain the target, its
slopes stay near zero and nothing is injected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...core.parallel import map_in_threads
from .lowpass import ESTIMATE_SIDE, SIGMA_CANDIDATES, Lowpass, centred_sample, sample_step


def ring_kernels(radius: int) -> list[np.ndarray]:
    """The rings of a ``(2r+1)``-sided round filter: each the mean of the taps at one distance
    pattern ``(|dy|, |dx|)`` (six for radius 2; one, the identity, for radius 0).

    Examples
    --------
    >>> [k.shape for k in ring_kernels(1)]
    [(3, 3), (3, 3), (3, 3)]
    """
    side = 2 * radius + 1
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            key = (min(abs(dy), abs(dx)), max(abs(dy), abs(dx)))
            groups.setdefault(key, []).append((dy, dx))
    kernels = []
    for key in sorted(groups):
        kernel = np.zeros((side, side), np.float32)
        for dy, dx in groups[key]:
            kernel[dy + radius, dx + radius] = 1.0 / len(groups[key])
        kernels.append(kernel)
    return kernels


def filtered(plane: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``plane`` convolved with a symmetric ``kernel`` (mirrored borders)."""
    import cv2

    if kernel.shape == (1, 1):
        return plane * np.float32(kernel[0, 0])
    return cv2.filter2D(plane, -1, kernel, borderType=cv2.BORDER_REFLECT)


def fit_round_filters(
    target: np.ndarray,
    guides: Sequence[np.ndarray],
    lowpass: Lowpass,
    radius: int,
    ridge: float,
    weight: np.ndarray | None = None,
) -> tuple[float, list[np.ndarray]]:
    """``c`` and the round filters ``h_k`` that best give ``target ~ c + sum_k D(h_k * guide_k)``.

    Parameters
    ----------
    target : numpy.ndarray
        The coarse plane (float32).
    guides : sequence of numpy.ndarray
        Fine planes (float32), ``lowpass.scale`` times the target's shape.
    lowpass : Lowpass
        The target's footprint on the fine grid.
    radius : int
        The filters' radius in fine pixels (0: one gain per guide).
    ridge : float
        Ridge weight on the standardised ring weights (keeps near-collinear guides stable).
    weight : numpy.ndarray, optional
        1 where the fit may look (the target and every guide have data).

    Returns
    -------
    tuple of (float, list of numpy.ndarray)
        The offset and one ``(2r+1)``-sided filter per guide.
    """
    rings = ring_kernels(radius)
    rows, cols = centred_sample(target.shape, 2 * ESTIMATE_SIDE)
    s = lowpass.scale
    fine = (slice(rows.start * s, rows.stop * s), slice(cols.start * s, cols.stop * s))
    # the equations: a wide window holds the filters steady across a scene, a dense one adds little
    # to a dozen weights: every step-th coarse pixel, keeping at least ESTIMATE_SIDE**2 of them
    step = max(1, math.isqrt((rows.stop - rows.start) * (cols.stop - cols.start) // ESTIMATE_SIDE**2))
    y = target[rows, cols][::step, ::step].astype(np.float64).ravel()
    w = np.ones_like(y) if weight is None else weight[rows, cols][::step, ::step].astype(np.float64).ravel()
    columns = [np.ones_like(y)]
    # each ring weight is penalised by what it injects on the fine grid, not by what the coarse grid
    # sees of it: a ring mix that averages away (a checkerboard) is costly, not free
    fine_spread = [1.0]
    fine_weight = None if weight is None else np.repeat(np.repeat(weight[rows, cols], s, axis=0), s, axis=1)
    parts = [np.ascontiguousarray(guide[fine], dtype=np.float32) for guide in guides]

    def ring_column(job: tuple[int, np.ndarray]) -> tuple[float, np.ndarray]:
        ringed = filtered(parts[job[0]], job[1])
        known = ringed[::2, ::2] if fine_weight is None else ringed[::2, ::2][fine_weight[::2, ::2] > 0]
        return (float(known.std(dtype=np.float64)) if known.size else 1.0), lowpass.down(ringed)[::step, ::step].ravel()

    for spread_k, column in map_in_threads(ring_column, [(k, ring) for k in range(len(guides)) for ring in rings]):
        fine_spread.append(spread_k)
        columns.append(column.astype(np.float64))
    design = np.stack(columns, axis=1)
    spread = np.array(fine_spread)
    spread[spread == 0] = 1.0
    scaled = design / spread * w[:, None]
    gram = scaled.T @ scaled
    penalty = np.eye(len(spread)) * ridge * float(w.sum())
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(gram + penalty, scaled.T @ (y * w)) / spread
    filters = []
    for k in range(len(guides)):
        weights = coef[1 + k * len(rings) : 1 + (k + 1) * len(rings)]
        filters.append(sum((float(c) * ring for c, ring in zip(weights, rings)), np.zeros_like(rings[0])))
    return float(coef[0]), filters


def apply_round_filters(guides: Sequence[np.ndarray], offset: float, filters: Sequence[np.ndarray]) -> np.ndarray:
    """``offset + sum_k h_k * guide_k`` on the fine grid (float32)."""
    import cv2

    first = np.asarray(guides[0], dtype=np.float32)
    total: np.ndarray = cv2.filter2D(
        first, -1, filters[0].astype(np.float32), delta=offset, borderType=cv2.BORDER_REFLECT
    )
    if len(guides) > 1:
        part = np.empty_like(total)
        for guide, kernel in zip(guides[1:], filters[1:]):
            cv2.filter2D(
                np.asarray(guide, dtype=np.float32),
                -1,
                kernel.astype(np.float32),
                dst=part,
                borderType=cv2.BORDER_REFLECT,
            )
            total += part
    return total


def solve_small(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Per-pixel solutions of small symmetric positive-definite systems, by elimination over the whole
    plane at once (``matrix``: ``(n, n, H, W)``, ``vector``: ``(n, H, W)``; both are overwritten)."""
    n = vector.shape[0]
    for i in range(n):
        pivot = matrix[i, i]
        for j in range(i + 1, n):
            factor = matrix[j, i] / pivot
            matrix[j, i:] -= factor * matrix[i, i:]
            vector[j] -= factor * vector[i]
    out = np.empty_like(vector)
    for i in reversed(range(n)):
        total = vector[i].copy()
        for j in range(i + 1, n):
            total -= matrix[i, j] * out[j]
        out[i] = total / matrix[i, i]
    return out


#: rows of coarse pixels fitted at a time (small planes stay in the caches and are reused)
STRIP_ROWS = 128


def local_gains(
    target: np.ndarray,
    features: Sequence[np.ndarray],
    window: int,
    shrink: float,
    weight: np.ndarray | None = None,
    fine_variances: Sequence[float] | None = None,
) -> np.ndarray:
    """Per-pixel slopes of the target on ``features`` in windows of ``2 * window + 1`` coarse pixels
    (with a free offset), shrunk toward zero slope, averaged over the windows holding each pixel.

    Parameters
    ----------
    target : numpy.ndarray
        The coarse plane (float32).
    features : sequence of numpy.ndarray
        Coarse planes of the same shape (float32).
    window : int
        The windows' radius in coarse pixels (at least 1).
    shrink : float
        Ridge weight, as a fraction of each feature's variance (see ``fine_variances``).
    weight : numpy.ndarray, optional
        1 where the fit may look.
    fine_variances : sequence of float, optional
        Each feature's variance on the fine grid, where its slope is applied: the shrinkage is a
        fraction of it (a feature whose fine detail the coarse grid hardly sees is shrunk hard);
        default the coarse variances.

    Returns
    -------
    numpy.ndarray
        Slopes ``(n, H, W)``, float32, in the units of target per feature.
    """
    w = None if weight is None else np.ascontiguousarray(weight, dtype=np.float32)
    # the moments are taken of centred, unit-variance planes: in float32, raw values of 1e4 square
    # to 1e8 and their local variances lose the digits that tell near-collinear features apart
    planes = [target, *features]
    stats = [_centre_and_spread(p, w) for p in planes]
    ridge = []
    for i, (_, spread) in enumerate(stats[1:]):
        ratio = 1.0 if fine_variances is None else float(fine_variances[i]) / spread**2
        ridge.append(np.float32(shrink * ratio + 1e-6))
    n, rows = len(features), target.shape[0]
    slopes = np.empty((n,) + target.shape, np.float32)
    reach = 2 * window  # the windows' moments, then the mean over the windows

    def strip(r0: int) -> None:
        r1 = min(rows, r0 + STRIP_ROWS)
        a, b = max(0, r0 - reach), min(rows, r1 + reach)
        block = [(p[a:b] - np.float32(centre)) * np.float32(1.0 / spread) for p, (centre, spread) in zip(planes, stats)]
        part = _block_slopes(block[0], block[1:], window, ridge, None if w is None else w[a:b])
        slopes[:, r0:r1] = part[:, r0 - a : r1 - a]

    map_in_threads(strip, range(0, rows, STRIP_ROWS))
    for i in range(n):
        slopes[i] *= np.float32(stats[0][1] / stats[i + 1][1])
    return slopes


def _centre_and_spread(plane: np.ndarray, weight: np.ndarray | None) -> tuple[float, float]:
    # from a sample (every 4th row and column, or sparser): the standardisation needs the scale, not
    # its last digit
    step = sample_step(plane.shape)
    plane = plane[::step, ::step]
    known = plane if weight is None else plane[weight[::step, ::step] > 0]
    if known.size == 0:
        return 0.0, 1.0
    centre, spread = float(known.mean(dtype=np.float64)), float(known.std(dtype=np.float64))
    return centre, spread if spread > 0 else 1.0


def _block_slopes(
    y: np.ndarray, unit: Sequence[np.ndarray], window: int, ridge: Sequence[np.float32], w: np.ndarray | None
) -> np.ndarray:
    """:func:`local_gains` on one block of standardised planes (mirrored at the block's edges)."""
    import cv2

    size = (2 * window + 1, 2 * window + 1)
    count = (
        None
        if w is None
        else np.maximum(cv2.boxFilter(w, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT), np.float32(1e-3))
    )

    def mean(plane: np.ndarray) -> np.ndarray:
        if w is None or count is None:
            return cv2.boxFilter(plane, -1, size, normalize=True, borderType=cv2.BORDER_REFLECT)
        return cv2.boxFilter(plane * w, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT) / count

    n = len(unit)
    means = [mean(f) for f in unit]
    target_mean = mean(y)
    matrix = np.empty((n, n) + y.shape, np.float32)
    vector = np.empty((n,) + y.shape, np.float32)
    for i in range(n):
        vector[i] = mean(unit[i] * y) - means[i] * target_mean
        for j in range(i, n):
            matrix[i, j] = mean(unit[i] * unit[j]) - means[i] * means[j]
            matrix[j, i] = matrix[i, j]
        matrix[i, i] += ridge[i]
    slopes = solve_small(matrix, vector)
    # each pixel's slopes: the mean over the windows that hold it
    return np.stack([mean(s) for s in slopes])


def estimate_lowpass(
    target: np.ndarray, guides: Sequence[np.ndarray], scale: int, weight: np.ndarray | None = None
) -> tuple[Lowpass, dict[str, float]]:
    """The footprint under which the guides best explain the target: for each candidate optics blur,
    the target's residual after :func:`local_gains` on the low-passed guides (windows of 5 coarse
    pixels, the local offset removed), the smallest wins.

    A global fit would do worse: one gain per guide for the whole scene leaves the bands' differences
    across the scene in its residual, and a blurred guide hides some of them (it chose optics of a
    quarter pixel on Landsat crops made by pure averaging and lost up to 3 dB); locally those
    differences are fitted away and what remains is the footprint's mismatch.

    Parameters
    ----------
    target : numpy.ndarray
        The coarse plane (float32).
    guides : sequence of numpy.ndarray
        Fine planes, ``scale`` times the target's shape.
    scale : int
        The integer factor.
    weight : numpy.ndarray, optional
        1 where the target and every guide have data (coarse grid), else 0.

    Returns
    -------
    tuple of (Lowpass, dict)
        The chosen footprint, and each candidate's residual relative to the best (by ``sigma`` in
        coarse pixels).
    """
    import cv2

    rows, cols = centred_sample(target.shape, ESTIMATE_SIDE)
    fine = (slice(rows.start * scale, rows.stop * scale), slice(cols.start * scale, cols.stop * scale))
    band = np.ascontiguousarray(target[rows, cols], dtype=np.float32)
    w = None if weight is None else np.ascontiguousarray(weight[rows, cols], dtype=np.float32)
    residuals: dict[float, float] = {}
    for sigma in SIGMA_CANDIDATES:
        lowpass = Lowpass(scale, sigma * scale)
        features = [lowpass.down(np.ascontiguousarray(g[fine])) for g in guides]
        slopes = local_gains(band, features, 2, 1e-3, w)
        left = band - sum(a * f for a, f in zip(slopes, features))
        left -= cv2.boxFilter(left, -1, (5, 5), borderType=cv2.BORDER_REFLECT)
        squares = left**2 if w is None else left**2 * w
        residuals[sigma] = float(np.mean(squares[2:-2, 2:-2], dtype=np.float64))
    best = min(residuals, key=lambda k: residuals[k])
    floor = max(residuals[best], 1e-30)
    return Lowpass(scale, best * scale), {f"{k:g}": round(v / floor, 4) for k, v in residuals.items()}
