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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core.parallel import map_in_threads
from .lowpass import Lowpass, average_down, sample_step
from .regression import apply_round_filters, estimate_lowpass, fit_round_filters, local_gains

#: takes finished rows of the result: their range and their float32 values
RowSink = Callable[[slice, np.ndarray], None]
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
    store: RowSink | None = None,
) -> np.ndarray | None:
    """Steps 2 and 3: the guided fine plane; with ``project`` and the pixel average, the consistency
    step too (it is local: done strip by strip). With ``store``, each finished strip is handed to it
    instead and nothing is returned, unless a Gaussian footprint's global step must follow.

    ``trust`` (coarse, in [0, 1]) scales the local slopes: at 0 the result is the band's bicubic
    upsampling, at 1 the guided one (the safeguard's weight, applied where it is cheap: on the
    coarse coefficients, not on two fine results).

    The result is ``bicubic(target) + sum_j slope_j * (fine_j - bicubic(coarse_j))``: each feature's
    fine detail (what its coarse image's bicubic upsampling lacks) injected with its local slope.
    The coarse parts are summed before one upsampling, ``bicubic(target - sum_j slope_j * coarse_j)``,
    with the features centred (then the slopes' smoothness makes the difference nil).
    """
    import cv2

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
        variances = [prediction_variance] + [_variance(g, weight) for g in guides]
        slopes = local_gains(target, coarse_features, settings.window, settings.shrink, weight, variances)
    if trust is not None:
        slopes *= trust[None]  # drawn toward zero slope: toward the band's bicubic upsampling
    centres = [_centre(c, weight) for c in coarse_features]
    rest = _Rest(target, slopes, coarse_features, centres)
    local_projection = project and lowpass.sigma <= 0
    result = None if store is not None and (local_projection or not project) else np.empty(fine_shape, np.float32)
    step = strip_rows(s)

    def strip(y0: int) -> None:
        y1 = min(fine_shape[0], y0 + step)
        start = rest.upsampled(y0, y1, s)  # a view of a strip of its own
        out = start if result is None else result[y0:y1]
        if result is not None:
            np.copyto(out, start)
        features = strips.features(y0, y1, centres, with_guides=settings.window > 0)
        for slope, feature in zip(slopes, features):
            cv2.accumulateProduct(feature, _rows_upsampled(slope, y0, y1, s, cubic=False), out)
        if local_projection:
            out = lowpass.project(out, target[y0 // s : y1 // s])
        if result is None and store is not None:
            store(slice(y0, y1), out)

    map_in_threads(strip, range(0, fine_shape[0], step))
    return result


def strip_rows(scale: int) -> int:
    """Fine rows computed at a time: about :data:`STRIP_ROWS`, a multiple of ``scale`` (a strip holds
    whole coarse rows, so the consistency step is local to it)."""
    return max(scale, STRIP_ROWS - STRIP_ROWS % scale)


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

    def _blocks(self, y0: int, y1: int) -> tuple[int, list[np.ndarray]]:
        a, b = max(0, y0 - self.reach), min(self.shape[0], y1 + self.reach)
        return a, [np.ascontiguousarray(g[a:b], dtype=np.float32) for g in self.guides]

    def prediction(self, y0: int, y1: int) -> np.ndarray:
        """Rows ``y0:y1`` of ``offset + sum_k h_k * guide_k`` (mirrored at the plane's top and bottom)."""
        a, blocks = self._blocks(y0, y1)
        return apply_round_filters(blocks, self.offset, self.filters)[y0 - a : y1 - a]

    def features(self, y0: int, y1: int, centres: Sequence[float], with_guides: bool) -> list[np.ndarray]:
        """Rows ``y0:y1`` of the prediction and, ``with_guides``, of each guide, less their
        ``centres`` (float32; an integer guide's rows are converted once for both)."""
        a, blocks = self._blocks(y0, y1)
        rows = [apply_round_filters(blocks, self.offset - centres[0], self.filters)[y0 - a : y1 - a]]
        if with_guides:
            for guide, block, centre in zip(self.guides, blocks, centres[1:]):
                part = block[y0 - a : y1 - a]
                if np.may_share_memory(part, guide):
                    rows.append(np.subtract(part, np.float32(centre)))
                else:
                    part -= np.float32(centre)
                    rows.append(part)
        return rows

    def coarse_prediction(self, lowpass: Lowpass) -> tuple[np.ndarray, float]:
        """``D(prediction)`` and the prediction's variance (every 4th row and column), from strips
        (whole for a Gaussian footprint, whose blur reaches across strips)."""
        if lowpass.sigma > 0:
            whole = self.prediction(0, self.shape[0])
            return lowpass.down(whole), float(np.var(whole[::4, ::4], dtype=np.float64))
        s, step = self.scale, strip_rows(self.scale)
        coarse = np.empty((self.shape[0] // s, self.shape[1] // s), np.float32)

        def strip(y0: int) -> np.ndarray:
            y1 = min(self.shape[0], y0 + step)
            rows = self.prediction(y0, y1)
            coarse[y0 // s : y1 // s] = lowpass.down(rows)
            return rows[(-y0) % 4 :: 4, ::4].copy()

        samples = map_in_threads(strip, range(0, self.shape[0], step))
        return coarse, float(np.var(np.concatenate(samples), dtype=np.float64))


class _Rest:
    """What the features leave unexplained on the coarse grid, ``target - sum_j slope_j * (coarse_j -
    centre_j)``, computed for the rows a strip's bicubic upsampling reads (not held whole: a coarse
    plane is tens of MB, and each fresh one costs its page faults)."""

    def __init__(
        self, target: np.ndarray, slopes: np.ndarray, coarse: Sequence[np.ndarray], centres: Sequence[float]
    ) -> None:
        self.target, self.slopes, self.coarse, self.centres = target, slopes, coarse, centres

    def upsampled(self, y0: int, y1: int, scale: int) -> np.ndarray:
        """Fine rows ``y0:y1`` of its bicubic upsampling (as :func:`_rows_upsampled` of the whole)."""
        a, b = _coarse_rows(y0, y1, scale, self.target.shape[0])
        rows = self.target[a:b].copy()
        term = np.empty_like(rows)
        for slope, coarse, centre in zip(self.slopes, self.coarse, self.centres):
            np.subtract(coarse[a:b], np.float32(centre), out=term)
            term *= slope[a:b]
            rows -= term
        up = _resize(rows, ((b - a) * scale, rows.shape[1] * scale), True)
        return up[y0 - a * scale : y1 - a * scale]


def _coarse_rows(y0: int, y1: int, scale: int, rows: int) -> tuple[int, int]:
    """The coarse rows the interpolation of fine rows ``y0:y1`` reads."""
    c0, c1 = y0 // scale, -(-y1 // scale)
    return max(0, c0 - INTERPOLATION_HALO), min(rows, c1 + INTERPOLATION_HALO)


def _rows_upsampled(coarse: np.ndarray, y0: int, y1: int, scale: int, cubic: bool) -> np.ndarray:
    """Fine rows ``y0:y1`` of the pixel-centre upsampling of ``coarse`` (bicubic or linear), from the
    coarse rows they read: equal to those rows of the whole upsampling."""
    a, b = _coarse_rows(y0, y1, scale, coarse.shape[0])
    block = np.ascontiguousarray(coarse[a:b])
    up = _resize(block, ((b - a) * scale, coarse.shape[1] * scale), cubic)
    return up[y0 - a * scale : y1 - a * scale]


def _sampled(plane: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Where a plane has data, every :func:`sample_step`-th row and column (``weight`` is on the
    same grid or on the grid ``plane`` is an integer multiple of)."""
    step = sample_step(plane.shape)
    values = plane[::step, ::step]
    if weight is None:
        return values
    s = plane.shape[0] // weight.shape[0]
    rows, cols = np.arange(0, plane.shape[0], step) // s, np.arange(0, plane.shape[1], step) // s
    return values[weight[rows[:, None], cols[None, :]] > 0]


def _variance(plane: np.ndarray, weight: np.ndarray | None) -> float:
    """A plane's variance where it has data (from :func:`_sampled`)."""
    values = _sampled(plane, weight)
    return float(np.var(values, dtype=np.float64)) if values.size else 1.0


def _centre(plane: np.ndarray, weight: np.ndarray | None) -> float:
    values = _sampled(plane, weight)
    return float(np.mean(values, dtype=np.float64)) if values.size else 0.0


def _trust_moments(
    target: np.ndarray,
    guided: np.ndarray,
    unguided: np.ndarray,
    weight: np.ndarray | None,
    along: np.ndarray,
    power: np.ndarray,
) -> None:
    """Rows of the two products the safeguard's windows sum: ``along`` = the guided correction
    ``guided - unguided`` (zero without data) times the miss ``target - unguided``, ``power`` = the
    correction squared (``guided`` and ``unguided`` are overwritten)."""
    change = np.subtract(guided, unguided, out=guided)
    miss = np.subtract(target, unguided, out=unguided)
    if weight is not None:
        change *= weight
    np.multiply(miss, change, out=along)
    np.multiply(change, change, out=power)


def _trust(along: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Per coarse pixel, the least-squares weight of the guided correction in explaining the miss
    over the safeguard's windows (from :func:`_trust_moments`), less the chance margin, in [0, 1]
    (both planes are overwritten)."""
    import cv2

    size = (2 * SAFEGUARD_WINDOW + 1, 2 * SAFEGUARD_WINDOW + 1)
    cv2.boxFilter(along, -1, size, dst=along, borderType=cv2.BORDER_REFLECT)
    cv2.boxFilter(power, -1, size, dst=power, borderType=cv2.BORDER_REFLECT)

    def weight(r0: int) -> None:
        part, total = along[r0 : r0 + STRIP_ROWS], power[r0 : r0 + STRIP_ROWS]
        np.maximum(total, np.float32(1e-20), out=total)
        part /= total
        part -= np.float32(TRUST_MARGIN)
        part *= np.float32(1.0 / (1.0 - TRUST_MARGIN))
        np.clip(part, 0.0, 1.0, out=part)

    map_in_threads(weight, range(0, along.shape[0], STRIP_ROWS))
    return along


def safeguard_weight(
    target: np.ndarray,
    coarse_guides: Sequence[np.ndarray],
    lowpass: Lowpass,
    settings: FusionSettings,
    weight: np.ndarray | None,
) -> np.ndarray | None:
    """Step 4: how far to trust the guides at each coarse pixel, from predicting the band itself one
    level down; ``None`` when the band is too small to go down a level (then it is trusted).

    With the pixel average (or without the consistency step) the prediction one level down is never
    held whole: each of its strips, as it is finished, adds to the windows' sums."""
    s = lowpass.scale
    rows, cols = (n - n % s for n in target.shape)
    if min(rows, cols) // s < MIN_VALIDATION_SIDE:
        return None
    band = np.ascontiguousarray(target[:rows, :cols])
    guides = [np.ascontiguousarray(g[:rows, :cols]) for g in coarse_guides]
    part_weight = None if weight is None else weight[:rows, :cols]
    lower = lowpass.down(band)
    lower_weight = coarse_validity(part_weight, s)
    along, power = np.empty(band.shape, np.float32), np.empty(band.shape, np.float32)

    def moments(part: slice, guided: np.ndarray) -> None:
        unguided = _rows_upsampled(lower, part.start, part.stop, s, cubic=True)
        if settings.consistent:  # the guided strip is projected already: the step is local
            unguided = lowpass.project(unguided, lower[part.start // s : part.stop // s])
        here = None if part_weight is None else part_weight[part]
        _trust_moments(band[part], guided, unguided, here, along[part], power[part])

    if settings.consistent and lowpass.sigma > 0:  # a Gaussian footprint's step is global
        guided = guided_prediction(lower, guides, lowpass, settings, lower_weight)
        assert guided is not None
        unguided = bicubic(lower, s)
        guided, unguided = lowpass.project(guided, lower), lowpass.project(unguided, lower)
        _trust_moments(band, guided, unguided, part_weight, along, power)
    else:
        guided_prediction(lower, guides, lowpass, settings, lower_weight, project=settings.consistent, store=moments)
    if (rows, cols) == target.shape:
        return _trust(along, power)
    trust = np.ones(target.shape, np.float32)
    trust[:rows, :cols] = _trust(along, power)
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
    store: RowSink | None = None,
) -> tuple[np.ndarray | None, FusionRecord]:
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
    store : callable, optional
        Takes the result's rows as they are finished (``store(rows, values)``, from worker threads,
        disjoint rows); then no whole float32 plane is held and ``None`` is returned in its place.

    Returns
    -------
    tuple of (numpy.ndarray or None, FusionRecord)
        The fine plane (float32; ``None`` with ``store``) and what was chosen.
    """
    import cv2

    target = np.ascontiguousarray(target, dtype=np.float32)
    if target_valid is not None and not target_valid.all():
        target = _nearest_filled(target, target_valid)  # one level down, bicubic would spread any fill
    guides = [_readable(g) for g in guides]
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
        target, guides, lowpass, settings, weight, trust, coarse_guides, record, settings.consistent, store
    )
    if result is not None and settings.consistent and lowpass.sigma > 0:  # a Gaussian footprint's step is global
        result = lowpass.project(result, target)
    if result is not None and store is not None:
        step = strip_rows(scale)
        for y0 in range(0, result.shape[0], step):
            store(slice(y0, min(result.shape[0], y0 + step)), result[y0 : y0 + step])
        return None, record
    return result, record


def _readable(guide: np.ndarray) -> np.ndarray:
    """A guide as the steps read it: float32, or an integer plane that float32 holds exactly (its
    strips are converted as they are read: a large guide is not copied whole)."""
    if guide.dtype == np.float32 or (guide.dtype.kind in "ui" and guide.dtype.itemsize <= 2):
        return np.ascontiguousarray(guide)
    return np.ascontiguousarray(guide, dtype=np.float32)


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
