"""One coarse plane and its fine guides to one fine plane: the guided method's steps.

1. the footprint ``D`` (``lowpass.py``): given, or estimated from how well the guides explain the band;
2. round filters per guide fitted once for the band (``regression.py``), giving one fine
   prediction ``P = c + sum_k h_k * guide_k``;
3. local gains on ``P`` and the guides, fitted in small windows of coarse pixels; the fine result
   is those gains (linearly interpolated) applied to the fine features, plus the bicubic
   upsampling of what they leave unexplained on the coarse grid;
4. the safeguard: the same steps one level down (the band degraded by ``D`` once more, guided by
   the guides' coarse images) predict the band itself; where that prediction does not beat plain
   bicubic, the result is drawn back toward bicubic by the local least-squares weight of the
   guided correction (0 where the guide does not help, 1 where it does);
5. the consistency step: the nearest image whose ``D`` equals the band exactly.

Pixels without data (the band's or any guide's) stay out of every fit; where a guide has none the
result is the unguided one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .lowpass import Lowpass, average_down, repeat_up
from .regression import apply_round_filters, estimate_lowpass, fit_round_filters, local_gains

#: the safeguard's windows: their radius in coarse pixels
SAFEGUARD_WINDOW = 10
#: a least-squares weight below this is read as chance (a guide of pure noise reaches it by luck in
#: a few windows); weights from it to 1 map onto [0, 1]
TRUST_MARGIN = 0.2
#: one level down needs at least this many coarse pixels a side
MIN_VALIDATION_SIDE = 24


@dataclass(frozen=True)
class FusionSettings:
    """What :func:`fuse` does (the method's settings, checked there).

    Attributes
    ----------
    lowpass_sigma : float or None
        The optics' std in coarse pixels; ``None``: estimated.
    filter_radius : int
        Radius of the round filters in fine pixels (0: one gain per guide, as plain injection).
    ridge : float
        Ridge weight of the round filters' fit.
    window : int
        Radius of the local gains' windows in coarse pixels (0: global gains only).
    shrink : float
        Local gains' shrinkage toward zero slope.
    safeguard : bool
        Draw back toward bicubic where one level down says the guides do not help.
    consistent : bool
        End with the exact consistency step.
    """

    lowpass_sigma: float | None = None
    filter_radius: int = 3
    ridge: float = 1e-5
    window: int = 1
    shrink: float = 0.003
    safeguard: bool = True
    consistent: bool = True


@dataclass
class FusionRecord:
    """What :func:`fuse` chose and saw on one plane (for the layer's and the file's metadata)."""

    lowpass_sigma: float = 0.0
    candidates: dict[str, float] = field(default_factory=dict)
    guide_gains: list[float] = field(default_factory=list)
    guided_fraction: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "lowpass_sigma_coarse_px": round(self.lowpass_sigma, 4),
            "lowpass_candidates": self.candidates,
            "guide_gains": [round(g, 4) for g in self.guide_gains],
            "guided_fraction": round(self.guided_fraction, 4),
        }


def _resize(plane: np.ndarray, shape: tuple[int, int], cubic: bool, out: np.ndarray | None = None) -> np.ndarray:
    import cv2

    # OpenCV's resize is pixel-centre aligned, as the engine's bicubic (a = -0.75, edges repeated);
    # writing into a kept plane spares the page faults of a fresh one (they cost more than the work)
    mode = cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR
    return cv2.resize(plane, (shape[1], shape[0]), dst=out, interpolation=mode)


def bicubic(plane: np.ndarray, scale: int, out: np.ndarray | None = None) -> np.ndarray:
    """Pixel-centre bicubic upsampling by an integer ``scale`` (float32)."""
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    return _resize(plane, (plane.shape[0] * scale, plane.shape[1] * scale), True, out)


def coarse_validity(valid: np.ndarray | None, scale: int) -> np.ndarray | None:
    """A fine validity mask on the coarse grid: a coarse pixel is valid when all its fine pixels are."""
    if valid is None:
        return None
    return average_down(valid.astype(np.float32), scale) > 0.999


#: fine rows computed at a time (a multiple of every scale up to 16): the temporaries stay small and
#: are reused, so only the result is a plane-sized allocation
STRIP_ROWS = 240
#: coarse rows read beyond a strip for the bicubic and linear interpolation
INTERPOLATION_HALO = 2


def guided_prediction(
    target: np.ndarray,
    guides: Sequence[np.ndarray],
    lowpass: Lowpass,
    settings: FusionSettings,
    weight: np.ndarray | None,
    trust: np.ndarray | None = None,
    coarse_guides: Sequence[np.ndarray] | None = None,
    record: FusionRecord | None = None,
    project: bool = False,
) -> np.ndarray:
    """Steps 2 and 3: the guided fine plane; with ``project`` and the pixel average, the consistency
    step too (it is local: done strip by strip).

    ``trust`` (coarse, in [0, 1]) scales the local slopes: at 0 the result is the band's bicubic
    upsampling, at 1 the guided one (the safeguard's weight, applied where it is cheap: on the
    coarse coefficients, not on two fine results).

    The result is ``bicubic(target) + sum_j slope_j * (fine_j - bicubic(coarse_j))``: each feature's
    fine detail (what its coarse image's bicubic upsampling lacks) injected with its local slope.
    The coarse parts are summed before one upsampling, ``bicubic(target - sum_j slope_j * coarse_j)``,
    with the features centred (then the slopes' smoothness makes the difference nil).
    """
    offset, filters = fit_round_filters(target, guides, lowpass, settings.filter_radius, settings.ridge, weight)
    if record is not None:
        record.guide_gains = [float(h.sum()) for h in filters]
    s = lowpass.scale
    fine_shape = (target.shape[0] * s, target.shape[1] * s)
    strips = _Strips(guides, offset, filters, fine_shape, s)
    coarse_prediction, prediction_variance = strips.coarse_prediction(lowpass)
    if settings.window == 0:
        coarse_features: list[np.ndarray] = [coarse_prediction]
        slopes = np.ones((1,) + target.shape, np.float32)
    else:
        if coarse_guides is None:
            coarse_guides = [lowpass.down(g) for g in guides]
        coarse_features = [coarse_prediction, *coarse_guides]
        fine_weight = None if weight is None else repeat_up(weight.astype(np.float32), s)
        variances = [prediction_variance] + [_variance(g, fine_weight) for g in guides]
        slopes = local_gains(target, coarse_features, settings.window, settings.shrink, weight, variances)
    if trust is not None:
        slopes *= trust[None]  # drawn toward zero slope: toward the band's bicubic upsampling
    centres = [_centre(c, weight) for c in coarse_features]
    rest = target.copy()
    for slope, coarse, centre in zip(slopes, coarse_features, centres):
        rest -= slope * (coarse - np.float32(centre))
    result = np.empty(fine_shape, np.float32)
    local_projection = project and lowpass.sigma <= 0
    for y0 in range(0, fine_shape[0], STRIP_ROWS):
        y1 = min(fine_shape[0], y0 + STRIP_ROWS)
        out = result[y0:y1]
        out[:] = _rows_upsampled(rest, y0, y1, s, cubic=True)
        features = strips.features(y0, y1, with_guides=settings.window > 0)
        for slope, feature, centre in zip(slopes, features, centres):
            feature -= np.float32(centre)
            feature *= _rows_upsampled(slope, y0, y1, s, cubic=False)
            out += feature
        if local_projection:
            out[:] = lowpass.project(out, target[y0 // s : y1 // s])
    return result


class _Strips:
    """The fine features (the round-filtered prediction and the guides) a strip of rows at a time."""

    def __init__(
        self,
        guides: Sequence[np.ndarray],
        offset: float,
        filters: Sequence[np.ndarray],
        shape: tuple[int, int],
        scale: int,
    ) -> None:
        self.guides, self.offset, self.filters, self.shape, self.scale = guides, offset, filters, shape, scale
        self.reach = max(f.shape[0] // 2 for f in filters)

    def prediction(self, y0: int, y1: int) -> np.ndarray:
        """Rows ``y0:y1`` of ``offset + sum_k h_k * guide_k`` (mirrored at the plane's top and bottom)."""
        a, b = max(0, y0 - self.reach), min(self.shape[0], y1 + self.reach)
        block = [np.ascontiguousarray(g[a:b]) for g in self.guides]
        return apply_round_filters(block, self.offset, self.filters)[y0 - a : y1 - a]

    def features(self, y0: int, y1: int, with_guides: bool) -> list[np.ndarray]:
        rows = [self.prediction(y0, y1)]
        if with_guides:
            rows += [g[y0:y1].astype(np.float32, copy=True) for g in self.guides]
        return rows

    def coarse_prediction(self, lowpass: Lowpass) -> tuple[np.ndarray, float]:
        """``D(prediction)`` and the prediction's variance (every 4th row and column), from strips
        (whole for a Gaussian footprint, whose blur reaches across strips)."""
        if lowpass.sigma > 0:
            whole = self.prediction(0, self.shape[0])
            return lowpass.down(whole), float(np.var(whole[::4, ::4], dtype=np.float64))
        s = self.scale
        coarse = np.empty((self.shape[0] // s, self.shape[1] // s), np.float32)
        samples = []
        for y0 in range(0, self.shape[0], STRIP_ROWS):
            y1 = min(self.shape[0], y0 + STRIP_ROWS)
            rows = self.prediction(y0, y1)
            coarse[y0 // s : y1 // s] = lowpass.down(rows)
            samples.append(rows[(-y0) % 4 :: 4, ::4])
        return coarse, float(np.var(np.concatenate(samples), dtype=np.float64))


def _rows_upsampled(coarse: np.ndarray, y0: int, y1: int, scale: int, cubic: bool) -> np.ndarray:
    """Fine rows ``y0:y1`` of the pixel-centre upsampling of ``coarse`` (bicubic or linear), from the
    coarse rows they read: equal to those rows of the whole upsampling."""
    c0, c1 = y0 // scale, -(-y1 // scale)
    a, b = max(0, c0 - INTERPOLATION_HALO), min(coarse.shape[0], c1 + INTERPOLATION_HALO)
    block = np.ascontiguousarray(coarse[a:b])
    up = _resize(block, ((b - a) * scale, coarse.shape[1] * scale), cubic)
    return up[y0 - a * scale : y1 - a * scale]


def _variance(plane: np.ndarray, weight: np.ndarray | None) -> float:
    """A plane's variance where it has data, from every 4th row and column (a shrinkage's scale, not a
    result)."""
    values = plane[::4, ::4] if weight is None else plane[::4, ::4][weight[::4, ::4] > 0]
    return float(np.var(values, dtype=np.float64)) if values.size else 1.0


def _centre(plane: np.ndarray, weight: np.ndarray | None) -> float:
    values = plane[::4, ::4] if weight is None else plane[::4, ::4][weight[::4, ::4] > 0]
    return float(np.mean(values, dtype=np.float64)) if values.size else 0.0


def _trust(target: np.ndarray, guided: np.ndarray, unguided: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Per coarse pixel, the least-squares weight of the guided correction ``guided - unguided`` in
    explaining ``target - unguided`` over the safeguard's windows, less the chance margin, in [0, 1]
    (``unguided`` is overwritten)."""
    import cv2

    size = (2 * SAFEGUARD_WINDOW + 1, 2 * SAFEGUARD_WINDOW + 1)
    change = guided - unguided
    miss = np.subtract(target, unguided, out=unguided)
    if weight is not None:
        change *= weight
    miss *= change
    along = cv2.boxFilter(miss, -1, size, borderType=cv2.BORDER_REFLECT)
    np.multiply(change, change, out=change)
    power = cv2.boxFilter(change, -1, size, borderType=cv2.BORDER_REFLECT)
    np.maximum(power, np.float32(1e-20), out=power)
    along /= power
    along -= np.float32(TRUST_MARGIN)
    along *= np.float32(1.0 / (1.0 - TRUST_MARGIN))
    return np.clip(along, 0.0, 1.0, out=along)


def safeguard_weight(
    target: np.ndarray,
    coarse_guides: Sequence[np.ndarray],
    lowpass: Lowpass,
    settings: FusionSettings,
    weight: np.ndarray | None,
) -> np.ndarray | None:
    """Step 4: how far to trust the guides at each coarse pixel, from predicting the band itself one
    level down; ``None`` when the band is too small to go down a level (then it is trusted)."""
    s = lowpass.scale
    rows, cols = (n - n % s for n in target.shape)
    if min(rows, cols) // s < MIN_VALIDATION_SIDE:
        return None
    band = np.ascontiguousarray(target[:rows, :cols])
    guides = [np.ascontiguousarray(g[:rows, :cols]) for g in coarse_guides]
    part_weight = None if weight is None else weight[:rows, :cols]
    lower = lowpass.down(band)
    guided = guided_prediction(lower, guides, lowpass, settings, coarse_validity(part_weight, s))
    unguided = bicubic(lower, s)
    if settings.consistent:
        guided, unguided = lowpass.project(guided, lower), lowpass.project(unguided, lower)
    trust = np.ones(target.shape, np.float32)
    trust[:rows, :cols] = _trust(band, guided, unguided, part_weight)
    if rows < target.shape[0]:
        trust[rows:] = trust[rows - 1 : rows]
    if cols < target.shape[1]:
        trust[:, cols:] = trust[:, cols - 1 : cols]
    return trust


def fuse(
    target: np.ndarray,
    guides: Sequence[np.ndarray],
    scale: int,
    settings: FusionSettings,
    target_valid: np.ndarray | None = None,
    guide_valid: np.ndarray | None = None,
) -> tuple[np.ndarray, FusionRecord]:
    """The fine plane of ``target`` guided by ``guides``.

    Parameters
    ----------
    target : numpy.ndarray
        The coarse plane (float32; its pixels without data may hold any value).
    guides : sequence of numpy.ndarray
        Fine planes of ``scale`` times the target's shape (float32), their pixels without data
        filled from their neighbours (as :func:`~.method.filled_guides` does: a filter reads them).
    scale : int
        The integer factor.
    settings : FusionSettings
        What to do.
    target_valid : numpy.ndarray, optional
        Where the target has data (coarse grid).
    guide_valid : numpy.ndarray, optional
        Where every guide has data (fine grid).

    Returns
    -------
    tuple of (numpy.ndarray, FusionRecord)
        The fine plane (float32) and what was chosen.
    """
    import cv2

    target = np.ascontiguousarray(target, dtype=np.float32)
    if target_valid is not None and not target_valid.all():
        target = _nearest_filled(target, target_valid)  # one level down, bicubic would spread any fill
    guides = [np.ascontiguousarray(g, dtype=np.float32) for g in guides]
    if guide_valid is not None and settings.filter_radius:
        # a coarse pixel whose guide pixels a round filter reads from a hole is out of the fits too
        reach = 2 * settings.filter_radius + 1
        guide_valid = cv2.erode(guide_valid.astype(np.uint8), np.ones((reach, reach), np.uint8)) > 0
    weight = _weight(target_valid, coarse_validity(guide_valid, scale))
    record = FusionRecord()
    if settings.lowpass_sigma is None:
        lowpass, record.candidates = estimate_lowpass(target, guides, scale, weight)
    else:
        lowpass = Lowpass(scale, settings.lowpass_sigma * scale)
    record.lowpass_sigma = lowpass.sigma / scale
    coarse_guides = [lowpass.down(g) for g in guides]
    trust = safeguard_weight(target, coarse_guides, lowpass, settings, weight) if settings.safeguard else None
    if weight is not None:  # where a guide or the band has no data: the unguided result
        trust = weight.astype(np.float32) if trust is None else trust * weight
    if trust is not None:
        record.guided_fraction = float(np.mean(trust))
    result = guided_prediction(
        target, guides, lowpass, settings, weight, trust, coarse_guides, record, project=settings.consistent
    )
    if settings.consistent and lowpass.sigma > 0:  # a Gaussian footprint's step is global
        result = lowpass.project(result, target)
    return result, record


def _nearest_filled(plane: np.ndarray, valid: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    if not valid.any():
        return plane
    index = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return np.ascontiguousarray(plane[tuple(index)])


def _weight(target_valid: np.ndarray | None, guides_valid: np.ndarray | None) -> np.ndarray | None:
    if target_valid is None:
        return guides_valid
    if guides_valid is None:
        return target_valid
    return target_valid & guides_valid
