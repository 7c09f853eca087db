"""Blind per-image mode: estimate the image's own blur and noise, then solve the inverse filter for them.

The estimate (``blur_estimate.py``) is an anisotropic Gaussian blur and a noise floor, fitted to
the image's own power spectrum. It is an *effective* blur and can overshoot the true one (an
image that is smooth in itself reads as blurred), and over-sharpening costs far more than
under-sharpening. So the filter is not solved for the estimate alone but with the
degradation-aware objective (``chain.py``) over a small gallery of Gaussians with the estimated
shape and orientation, scaled from ``hedge(s)[0]`` to ``hedge(s)[1]`` times the estimated widths, at
``noise_margin`` times the estimated noise. Widths are capped at the widest blur of the DIV2KRK
family for the scale (variance ``2.5 s`` HR pixels squared): wider estimates come from images
that are smooth in themselves.

Where the image cannot say what its degradation blur is, the filter is solved over the family
instead: round Gaussians from ``family_hedge_low`` to ``family_hedge_high`` times the widest blur,
at the image's own noise. That is the case when the estimate is wider than the family's widest
in *every* direction (more than ``smooth_margin`` times) or in area (more than ``area_margin``
times): the image is smooth in itself (cells under a microscope, say), its own smoothness hides
the degradation, and a filter solved for the estimate over-sharpens. It is also the case for
images under ``min_side`` pixels, too small for a spectral fit; their noise comes from a wavelet
estimate (:func:`skimage.restoration.estimate_sigma`).

The objective's statistics are exact expectations over its image prior
(:meth:`ChainStatistics.expected`), not sums over a few sampled images: a solve takes about
15 ms, is the same on every machine, and is cached per quantised estimate.

Every tuned constant is a field of :class:`BlindSettings` (with the measurement that chose it in
its help text), and each solved model records the settings and the estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from ...core.denoise import AUTO_MAX_PIXELS, DEFAULT_STRENGTH, DENOISERS, denoise_unit_noise
from ...core.errors import ImageError, SettingsError
from ...core.kernels import GallerySettings, gaussian_kernel
from ...core.layout import Layout, centre_window
from ...core.memo import ContentCache, content_key
from ...core.noise import NoiseModel, estimate_noise_model, parse_noise
from ...core.settings import setting, settings_to_dict
from ...models.model import NSSRModel
from ...objectives.chain import ChainSettings, ChainStatistics, prior_lr_power
from ..base import MethodSettings
from .estimate import ALPHA_RANGE, MAX_SIDE, BlurEstimate, estimate_blur_planes, representative_plane

# the image prior: slopes below natural images' 2 come from noise and aliasing read as detail (a
# fitted 1.0 on noisy photos), so the fitted slope is kept within these
IMAGE_ALPHA_RANGE = (2.0, ALPHA_RANGE[1])
ALPHA_STEP = 0.05
# where the image's fitted spectrum is compared with the prior's (cycles per LR pixel): mid-band,
# where the filter's decisions between signal and noise are made
AMPLITUDE_FREQUENCY = 0.25
DENOISED_ESTIMATE_SIDE = 512  # denoised planes are estimated on centred crops this wide


@dataclass(frozen=True)
class BlindSettings(MethodSettings):
    """The blind method's tuned constants (docs/method.md, section 8, has the measurements).

    References
    ----------
    .. [1] A. Foi, M. Trimeche, V. Katkovnik and K. Egiazarian, "Practical Poissonian-Gaussian noise
       modeling and fitting for single-image raw-data", IEEE Trans. Image Process. 17(10), 1737-1754,
       2008 (the noise model).
    .. [2] M. Makitalo and A. Foi, "Optimal inversion of the generalized Anscombe transformation for
       Poisson-Gaussian noise", IEEE Trans. Image Process. 22(1), 91-103, 2013 (the stabilising
       transform and its unbiased inverse).
    .. [3] A. Buades, B. Coll and J.-M. Morel, "A non-local algorithm for image denoising", CVPR 2005
       (the denoising).

    Examples
    --------
    >>> from napari_nssr import BlindSettings
    >>> BlindSettings(noise="gain=2.1,offset=100,read=1.6").noise_margin
    1.0
    """

    noise: str = setting(
        "auto",
        "auto: Poisson-Gaussian noise measured on the image, the filter run where it is stabilised; "
        "white: one white-noise level read from the spectrum; off: a clean image; a level such as 0.01 "
        "(white, image units); or camera parameters such as gain=2.1,offset=100,read=1.6 "
        "(image units per electron, image units, electrons)",
    )
    spectrum: str = setting(
        "image",
        "the image prior: the image's own fitted slope (never flatter than 1/f^2) and amplitude (only ever "
        "more cautious), or the textbook 1/f^2",
        choices=("image", "natural"),
    )
    denoise: str = setting(
        "auto",
        "nl-means: denoise each stabilised plane (non-local means at its unit noise) before the filter, which "
        "then solves for the noise left (whole planes at a time); auto: that for images of up to 4 Mpx in all, "
        "larger scenes and stacks are filtered tile by tile; none: off",
        choices=DENOISERS,
    )
    denoise_strength: float = setting(
        DEFAULT_STRENGTH,
        "nl-means: the filtering parameter h, in units of the noise's std (larger smooths more)",
        min=0.05,
        max=3,
    )
    planes: int = setting(
        5, "stacks: the blur and noise are estimated from this many planes spread over the stack", min=1, max=64
    )
    per_plane: bool = setting(
        False,
        "stacks: estimate and solve for each plane (and colour channel) on its own, for stacks whose planes "
        "differ (a time series fading, a focus series); whole planes at a time",
    )
    noise_margin: float = setting(
        1.0,
        "solve for this many times the estimated noise; larger is more cautious",
        min=0.1,
        max=10,
        step=0.1,
    )
    unknown_blur_caution: float = setting(
        1.5,
        "where the blur cannot be told (an image smooth in itself) the noise is taken this many times higher "
        "again, as such images gain most from smoothing",
        min=0.1,
        max=10,
        step=0.1,
        advanced=True,
    )
    filter_size: int | None = setting(
        None, "side of the solved filter (odd); none: 11 at x2, 15 from x3 on", min=3, max=31, unit="px", step=2
    )
    hedge_low_x2: float = setting(
        0.6,
        "narrowest gallery blur as a fraction of the estimate at x2",
        min=0.05,
        max=2,
        advanced=True,
    )
    hedge_low_x3: float = setting(
        0.7,
        "narrowest gallery blur as a fraction of the estimate at x3",
        min=0.05,
        max=2,
        advanced=True,
    )
    hedge_low_x4: float = setting(
        0.8, "narrowest gallery blur as a fraction of the estimate from x4 on", min=0.05, max=2, advanced=True
    )
    hedge_high: float = setting(
        1.0, "widest gallery blur as a fraction of the estimate", min=0.05, max=2, advanced=True
    )
    hedge_steps: int = setting(7, "number of blurs in the hedged gallery", min=1, max=64, advanced=True)
    widest_variance_per_scale: float = setting(
        2.5,
        "the DIV2KRK family's widest blur: variance this times the scale (HR pixels squared)",
        min=0.1,
        advanced=True,
    )
    kernel_size: int = setting(21, "side of the gallery's kernels (odd)", min=3, max=63, unit="px", advanced=True)
    min_std: float = setting(
        0.2, "narrowest Gaussian (narrower ones do not sample as kernels)", min=0.01, unit="px", advanced=True
    )
    min_side: int = setting(
        32, "images smaller than this get the family gallery at their wavelet noise", min=16, unit="px", advanced=True
    )
    smooth_margin: float = setting(
        1.05,
        "an estimate this much wider than the family in every direction is the image's own smoothness",
        min=1,
        advanced=True,
    )
    area_margin: float = setting(
        1.2,
        "an estimate this much wider than the family in area is the image's own smoothness",
        min=1,
        advanced=True,
    )
    family_hedge_low: float = setting(
        0.3,
        "narrowest family blur, as a fraction of the widest, when the blur is unknown",
        min=0.05,
        max=1,
        advanced=True,
    )
    family_hedge_high: float = setting(
        1.0,
        "widest family blur, as a fraction of the widest, when the blur is unknown",
        min=0.05,
        max=2,
        advanced=True,
    )
    width_step: float = setting(
        0.05,
        "estimates are rounded to this so that similar images share one solve",
        min=0.001,
        unit="px",
        advanced=True,
    )
    angle_step: float = setting(5.0, "rounding of the estimated direction", min=0.1, max=90, unit="deg", advanced=True)
    min_noise: float = setting(
        0.004, "never solve for a cleaner image than this (the chain models' own noise)", min=0, advanced=True
    )

    def check(self) -> None:
        """Odd sizes, ordered hedges, a noise setting that reads."""
        parse_noise(self.noise)
        if self.filter_size is not None and self.filter_size % 2 == 0:
            raise SettingsError(f"BlindSettings.filter_size must be odd, got {self.filter_size}")
        if self.kernel_size % 2 == 0:
            raise SettingsError(f"BlindSettings.kernel_size must be odd, got {self.kernel_size}")
        for low in (self.hedge_low_x2, self.hedge_low_x3, self.hedge_low_x4):
            if low > self.hedge_high:
                raise SettingsError(f"BlindSettings: a hedge low ({low}) is above hedge_high ({self.hedge_high})")
        if self.family_hedge_low > self.family_hedge_high:
            raise SettingsError("BlindSettings: family_hedge_low is above family_hedge_high")


DEFAULT_SETTINGS = BlindSettings()


def hedge(scale: int, settings: BlindSettings = DEFAULT_SETTINGS) -> tuple[float, float]:
    """The range of fractions of the estimated widths the gallery spans at integer ``scale``
    (above x4: the x4 entry)."""
    low = {2: settings.hedge_low_x2, 3: settings.hedge_low_x3, 4: settings.hedge_low_x4}[min(max(scale, 2), 4)]
    return low, settings.hedge_high


def solve_scale(scale: float) -> int:
    """The integer scale the chain objective is solved at (it subsamples by whole pixels)."""
    return int(min(8, max(2, round(scale))))


def default_filter_size(scale: int) -> int:
    """Side of the solved filter: 11 at x2, 15 from x3 on, where a blur spans more HR pixels."""
    return 11 if scale <= 2 else 15


def widest_blur(scale: int, settings: BlindSettings = DEFAULT_SETTINGS) -> float:
    """Std (HR pixels) of the widest blur in the DIV2KRK family at ``scale``."""
    return math.sqrt(settings.widest_variance_per_scale * scale)


def blur_unknown(scale: int, major: float, minor: float, settings: BlindSettings = DEFAULT_SETTINGS) -> bool:
    """Whether an estimate with principal widths ``major``/``minor`` (HR pixels) is wider than the
    family in every direction, or in area: the image's own smoothness, which hides its degradation blur."""
    widest = widest_blur(scale, settings)
    return minor > settings.smooth_margin * widest or math.sqrt(major * minor) > settings.area_margin * widest


def family_gallery(scale: int, settings: BlindSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Round Gaussians from ``family_hedge_low`` to ``family_hedge_high`` times the family's widest
    blur: the gallery for an image whose own degradation blur cannot be told."""
    widest = widest_blur(scale, settings)
    fractions = np.linspace(settings.family_hedge_low, settings.family_hedge_high, settings.hedge_steps)
    return np.stack([gaussian_kernel(settings.kernel_size, f * widest, f * widest, 0.0) for f in fractions])


def hedged_gallery(
    scale: int,
    major: float,
    minor: float,
    angle: float,
    settings: BlindSettings = DEFAULT_SETTINGS,
    bounds: tuple[float, float] | None = None,
) -> np.ndarray:
    """Gaussians with the estimated orientation and principal widths ``major``/``minor`` (HR pixels,
    std), scaled by :func:`hedge`.

    Without ``bounds`` the widths are capped at the DIV2KRK family's widest blur, and an unknown
    blur (:func:`blur_unknown`) gives :func:`family_gallery` instead. With ``bounds`` (known optics:
    the narrowest and widest blur they allow, HR pixels std) every width is kept between them.
    """
    low = settings.min_std
    if bounds is None:
        if blur_unknown(scale, major, minor, settings):
            return family_gallery(scale, settings)
        widest = widest_blur(scale, settings)
        major, minor = min(major, widest), min(minor, widest)
    else:
        low, high = bounds
        major, minor = float(np.clip(major, low, high)), float(np.clip(minor, low, high))
    kernels = [
        gaussian_kernel(settings.kernel_size, max(f * major, low), max(f * minor, low), angle)
        for f in np.linspace(*hedge(scale, settings), settings.hedge_steps)
    ]
    return np.stack(kernels)


def wavelet_noise(image: Any, rgb: bool | None = None, floor: float = DEFAULT_SETTINGS.min_noise) -> float:
    """Noise std of ``image``'s representative plane, in the units of an image scaled to std 0.25
    (as :class:`BlurEstimate` reports it), from the finest wavelet band (robust MAD estimate), on
    the plane's centred crop at most :data:`~.estimate.MAX_SIDE` wide."""
    from skimage.restoration import estimate_sigma  # imports PyWavelets: only for tiny images

    plane = representative_plane(image, rgb, MAX_SIDE)
    if not np.isfinite(plane).all():
        raise ImageError("the image contains NaN or infinite values; replace them before super-resolving")
    spread = float(plane.std())
    if spread <= 1e-9 * max(1.0, float(np.abs(plane).max())):
        return floor
    return float(estimate_sigma(plane, channel_axis=None)) * 0.25 / spread


@lru_cache(maxsize=64)
def solved_model(
    scale: int,
    major: float,
    minor: float,
    angle_deg: float,
    noise: float,
    filter_size: int,
    settings: BlindSettings,
    bounds: tuple[float, float] | None = None,
    alpha: float = 2.0,
) -> NSSRModel:
    """The filter for quantised widths (HR pixels; ``inf`` for an unknown blur), angle, noise and
    prior slope ``alpha``, within optics ``bounds`` (HR pixels std) when given."""
    kernels = hedged_gallery(scale, major, minor, math.radians(angle_deg), settings, bounds)
    chain = ChainSettings(noise=noise, alpha=alpha)
    h = ChainStatistics.expected(kernels, scale, filter_size, chain).optimum()
    unknown = bounds is None and blur_unknown(scale, major, minor, settings)
    if bounds is not None:
        major, minor = (float(np.clip(w, *bounds)) for w in (major, minor))
    if unknown:
        blur = f"unknown, family up to {widest_blur(scale, settings):.2f} px"
    else:
        blur = f"{major:.2f} x {minor:.2f} px at {angle_deg:.0f} deg"
    family = (settings.family_hedge_low, settings.family_hedge_high)
    record = {
        "major_hr": None if unknown else major,  # None: solved over the family (family_gallery)
        "minor_hr": None if unknown else minor,
        "angle_deg": angle_deg,
        "noise": noise,
        "alpha": alpha,
        "hedge": list(family if unknown else hedge(scale, settings)),
        "kernels": len(kernels),
        "optics_bounds_hr": None if bounds is None else list(bounds),
        "settings": settings_to_dict(settings),
    }
    gallery = GallerySettings(count=len(kernels), size=settings.kernel_size, scale=float(scale))
    name = f"blind-x{scale} (blur {blur}, noise {noise:.3f})"
    return NSSRModel.closed_form(h.float(), name, gallery, chain, {"blind": record})


def quantised(
    estimate: BlurEstimate, scale: int, settings: BlindSettings = DEFAULT_SETTINGS
) -> tuple[float, float, float, float]:
    """HR-pixel widths, angle (degrees) and noise rounded so that near-identical estimates share a solve."""
    major, minor, angle = estimate.axes
    step = settings.width_step
    major, minor = (max(settings.min_std, round(w * scale / step) * step) for w in (major, minor))
    angle_deg = round(math.degrees(angle) / settings.angle_step) * settings.angle_step % 180.0
    if math.isclose(major, minor):
        angle_deg = 0.0  # a round blur has no direction
    return round(major, 4), round(minor, 4), float(angle_deg), quantised_noise(estimate.noise, settings)


def quantised_noise(noise: float, settings: BlindSettings = DEFAULT_SETTINGS) -> float:
    """``noise_margin`` times the estimated noise, at least ``min_noise`` and at most 1, on a
    quarter-octave grid."""
    level = float(np.exp(np.round(np.log(max(settings.noise_margin * noise, 1e-6)) * 4) / 4))
    return round(min(1.0, max(settings.min_noise, level)), 5)


def image_noise(planes: list[np.ndarray], rgb: bool, settings: BlindSettings = DEFAULT_SETTINGS) -> NoiseModel | None:
    """The noise the filter is solved for, in the image's units, as ``settings.noise`` says: given,
    or measured on the image's sample ``planes`` (:meth:`Layout.sample_planes`; each colour channel
    apart). ``None`` for ``off`` and ``white`` (no model), and where the image is too small or too
    clipped to measure or shows no noise at all."""
    choice = parse_noise(settings.noise)
    if isinstance(choice, NoiseModel):
        return choice
    if isinstance(choice, float):
        return NoiseModel.white(choice) if choice > 0 else None
    if choice != "auto":
        return None
    channels = [p[..., c] for p in planes for c in range(p.shape[-1])] if rgb else planes
    try:
        model = estimate_noise_model(channels)
    except ImageError:
        return None
    spread = max(float(np.std(c)) for c in channels)
    # no measurable noise (a synthetic or heavily processed image): nothing to stabilise
    return model if model.mean_std(channels[0]) > 1e-6 * max(spread, 1e-300) else None


def _record_noise(noise: NoiseModel | None, settings: BlindSettings) -> dict[str, Any]:
    if noise is None:
        return {"kind": settings.noise if settings.noise in ("off", "white") else "white (spectrum)"}
    kind = "white" if noise.is_white else "poisson-gaussian"
    source = "measured" if settings.noise == "auto" else "given"
    # exact floats: the method rebuilds the transform from this record
    return {"kind": kind, "source": source, "gain": noise.gain, "read_std": noise.read_std, "offset": noise.offset}


def describe_estimate(record: dict[str, Any]) -> str:
    """One line a scientist reads: the blur, the noise and the prior a blind solve used."""
    if record.get("major_hr") is None:
        blur = "blur unknown (image smooth in itself): solved over the DIV2KRK family"
    else:
        blur = f"blur {record['major_hr']:.2f} x {record['minor_hr']:.2f} HR px at {record['angle_deg']:.0f} deg"
    noise = record.get("noise_model", {})
    if noise.get("kind") == "poisson-gaussian":
        text = f"noise Poisson-Gaussian ({noise['source']}): gain {noise['gain']:.3g}, read {noise['read_std']:.3g}"
        if noise["offset"]:
            text += f", offset {noise['offset']:.3g}"
    elif noise.get("kind") == "white" and "read_std" in noise:
        text = f"noise white ({noise['source']}): {noise['read_std']:.3g}"
    else:
        text = f"noise {noise.get('kind', 'white')}: level {record['noise']:.3f} of a std-0.25 image"
    if record.get("denoise"):
        text += f", denoised ({record['denoise']['kind']}, h {record['denoise']['strength']:g})"
    planes = record.get("planes", 1)
    where = f" from {planes} planes" if planes > 1 else ""
    return f"{blur}; {text}; spectral slope {record.get('alpha', 2.0):.2f}{where}"


def _denoised(plane: np.ndarray, rgb: bool, strength: float) -> np.ndarray:
    if not rgb:
        return denoise_unit_noise(plane, strength)
    return np.stack([denoise_unit_noise(plane[..., c], strength) for c in range(plane.shape[-1])], axis=-1)


#: what :func:`blind_model` measured on recent images (noise, denoised crops, blur), by their content
_EVIDENCE = ContentCache(8)


def _evidence(
    planes: list[np.ndarray], rgb: bool, settings: BlindSettings, wanted: bool
) -> tuple[NoiseModel | None, bool, list[np.ndarray]]:
    """The noise model of the sample ``planes``, whether they are denoised, and the planes the blur is
    then estimated on (stabilised, and the denoised centres when the denoising is ``wanted``)."""
    noise = image_noise(planes, rgb, settings)
    if noise is not None:
        planes = [noise.stabilise(p) for p in planes]
    denoised = noise is not None and wanted
    if denoised:  # estimate and solve for what the processor will filter: the denoised planes
        # (their centres: the estimate needs no more, and denoising five 1024 crops took 10 s)
        planes = [
            _denoised(p[centre_window(p.shape, DENOISED_ESTIMATE_SIDE)], rgb, settings.denoise_strength) for p in planes
        ]
    return noise, denoised, planes


def blind_model(
    image: Any,
    scale: float,
    rgb: bool | None = None,
    settings: BlindSettings = DEFAULT_SETTINGS,
    bounds: tuple[float, float] | None = None,
) -> NSSRModel:
    """The inverse filter for ``image``'s own estimated blur and noise at ``scale`` (cached per estimate).

    Parameters
    ----------
    image : array-like
        The image (up to ``settings.planes`` of its planes are measured).
    scale : float
        Geometric-mean scale factor; the filter is solved at the nearest integer in 2..8.
    rgb : bool or None
        Whether the last axis is colour.
    settings : BlindSettings
        The tuned constants, the noise setting and the prior.
    bounds : tuple of float, optional
        Known optics: the narrowest and widest blur (std, HR pixels) the estimate may be.

    Returns
    -------
    NSSRModel
        A closed-form model whose ``training["blind"]`` records the estimate, the noise model
        (``noise_model``: with a ``gain``, the filter works on :meth:`NoiseModel.stabilise`'d
        values), the settings and a one-line ``summary``.

    Notes
    -----
    With a noise model the image is variance-stabilised before the blur is estimated; the filter is
    solved for the noise floor the spectrum shows there (measured noise) or for unit noise there
    (given noise), times ``noise_margin``. (Unit noise from a measured model cost clean DIV2KRK
    0.1 dB: aliased detail raises a measured model a little, the spectral floor separates it.)
    With ``spectrum="image"`` the prior's slope is the image's own (within
    :data:`IMAGE_ALPHA_RANGE`) and, where the image has less
    signal at mid frequencies than the prior assumes, the noise is raised by that ratio. Images
    under ``min_side`` pixels have too few frequencies to fit a blur; their filter is solved over
    the family's blurs (:func:`family_gallery`), or between the optics ``bounds``.
    """
    layout = Layout.of(tuple(image.shape), rgb)
    solve_at = solve_scale(scale)
    size = default_filter_size(solve_at) if settings.filter_size is None else settings.filter_size
    if bounds is not None:  # quantised like the estimate, so that near-identical optics share one solve
        step = settings.width_step
        low = max(settings.min_std, round(bounds[0] / step) * step)
        bounds = (round(low, 4), round(max(low, round(bounds[1] / step) * step), 4))
    planes = layout.sample_planes(image, settings.planes, MAX_SIDE)  # read once: a lazy file stays unread
    values = math.prod(int(n) for n in image.shape)
    wanted = settings.denoise == "nl-means" or (settings.denoise == "auto" and values <= AUTO_MAX_PIXELS)
    # what is measured on the planes does not depend on the scale: kept for the image's other scales
    key = (content_key(planes), layout.rgb, settings.noise, wanted, settings.denoise_strength)
    noise, denoised, planes = _EVIDENCE.get(key, lambda: _evidence(planes, layout.rgb, settings, wanted))
    grey = [p.mean(axis=-1) if layout.rgb else p for p in planes]
    # the filter sees one channel at a time: its noise is the unit of the stabilised channels
    spread = float(np.sqrt(np.mean([np.var(p) for p in planes])))
    small = min(layout.plane_shape(tuple(image.shape))) < settings.min_side
    alpha = 2.0
    if small:
        if noise is None or spread <= 0:
            level = wavelet_noise(image, rgb, settings.min_noise)
        elif denoised:  # what the denoising left, measured on the denoised plane
            level = wavelet_noise(grey[0], False, settings.min_noise)
        else:
            level = 0.25 / spread
        if parse_noise(settings.noise) == "off":
            level = 0.0
        widest = math.inf if bounds is None else bounds[1]
        found: tuple[float, float, float, float] = (widest, widest, 0.0, quantised_noise(level, settings))
    else:
        estimate = _EVIDENCE.get(("blur",) + key, lambda: estimate_blur_planes(grey))
        major, minor, angle, _ = quantised(estimate, solve_at, settings)
        choice = parse_noise(settings.noise)
        if isinstance(choice, (float, NoiseModel)) and noise is not None and spread > 0 and not denoised:
            level = 0.25 / spread  # given: unit noise in the stabilised domain, as the user says
        elif choice == "off":
            level = 0.0
        else:
            level = estimate.noise
        if settings.spectrum == "image":
            alpha = round(float(np.clip(estimate.alpha, *IMAGE_ALPHA_RANGE)) / ALPHA_STEP) * ALPHA_STEP
            fitted = estimate.signal_power(AMPLITUDE_FREQUENCY)
            prior = prior_lr_power(AMPLITUDE_FREQUENCY, solve_at, ChainSettings(alpha=alpha))
            if math.isfinite(fitted) and fitted > 0:
                level /= math.sqrt(min(1.0, fitted / prior))  # less signal than the prior: more caution
        if blur_unknown(solve_at, major, minor, settings):
            level *= settings.unknown_blur_caution
        found = (major, minor, angle, quantised_noise(level, settings))
    model = solved_model(solve_at, *found, size, settings, bounds, round(alpha, 2))
    record = dict(model.training["blind"])
    record["noise_model"] = _record_noise(noise, settings)
    record["planes"] = len(planes)
    record["denoise"] = {"kind": "nl-means", "strength": settings.denoise_strength} if denoised else None
    record["summary"] = describe_estimate(record)
    return replace(model, training={**model.training, "blind": record})
