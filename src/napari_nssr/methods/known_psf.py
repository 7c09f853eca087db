"""The ``psf`` method: a filter solved for a known PSF (microscope optics or a measured PSF).

A single image cannot tell its own smoothness from its blur (the blind method's weakness on
microscopy: oriented tissue read as anisotropic blur), but a microscopist usually knows the
optics. Given the PSF, the degradation-aware objective (``objectives/chain.py``) is solved for that
one blur, at the noise the image shows, under the image's own spectral slope (``spectrum="image"``,
instead of the textbook 1/f^2). The slope is fitted to the image's spectrum knowing the PSF and the
aliases it lets through (``psf_fit.py``); the noise is the wavelet estimate. On the real microscopy images that took the
filter close to the best linear filter of its size fitted with the ground truth
(docs/benchmarks.md, "Known optics").

With ``use="bound"`` the PSF is not applied as it is: the blind estimate is kept between the
PSF's width (the diffraction limit: no real blur is narrower) and ``1 + bound_margin`` times it
(defocus and aberrations widen it, by a stated margin).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..core.kernels import GallerySettings
from ..core.layout import Layout
from ..core.settings import setting, settings_to_dict
from ..models.model import NSSRModel
from ..objectives.chain import ChainSettings, ChainStatistics
from .base import LinearFilter, Method, MethodSettings, Prepared, register_method
from .blind.estimate import ALPHA_RANGE
from .blind.method import blind_processor
from .blind.solve import BlindSettings, blind_model, default_filter_size, quantised_noise, solve_scale, wavelet_noise
from .psf import PSFSettings, make_psf, psf_width
from .psf_fit import fit_slope_and_noise

USES = ("known", "bound")
SPECTRA = ("image", "natural")
ALPHA_STEP = 0.05


@dataclass(frozen=True)
class KnownPSFSettings(MethodSettings):
    """The ``psf`` method: a known PSF and how to use it."""

    psf: PSFSettings = setting(PSFSettings(source="widefield"), "the PSF: microscope optics or a measured PSF file")
    use: str = setting(
        "known",
        "known: the filter for this PSF; bound: the blind estimate, kept between this PSF's width and "
        "(1 + bound margin) times it",
        choices=USES,
    )
    spectrum: str = setting(
        "image",
        "the image prior: the image's own fitted spectral slope, or the natural-image 1/f^2",
        choices=SPECTRA,
    )
    noise_margin: float = setting(
        1.0,
        "solve for this many times the estimated noise (1 was best with the image's own slope on the real "
        "microscopy; larger is more cautious)",
        min=0.1,
        max=10,
        step=0.1,
    )
    bound_margin: float = setting(
        0.5, "use=bound: how much wider than the PSF the blur may be (defocus, aberrations)", min=0, max=5, step=0.1
    )
    filter_size: int | None = setting(
        None, "side of the solved filter (odd); none: 11 at x2, 15 from x3 on", min=3, max=31, unit="px", step=2
    )


@lru_cache(maxsize=64)
def _solved(psf_bytes: bytes, shape: tuple[int, int], scale: int, size: int, alpha: float, noise: float) -> Any:
    psf = np.frombuffer(psf_bytes, dtype=np.float64).reshape(shape)
    return ChainStatistics.expected(psf[None], scale, size, ChainSettings(alpha=alpha, noise=noise)).optimum()


def known_psf_model(image: Any, scale: float, rgb: bool | None, settings: KnownPSFSettings) -> NSSRModel:
    """The filter for ``settings.psf`` at ``image``'s own noise (and spectral slope).

    Parameters
    ----------
    image : array-like
        The image (its representative plane is measured).
    scale : float
        Geometric-mean factor; the filter is solved at the nearest integer in 2..8.
    rgb : bool or None
        Whether the last axis is colour.
    settings : KnownPSFSettings
        The PSF and the solve's settings.

    Returns
    -------
    NSSRModel
        A closed-form model; ``training["psf"]`` records the PSF's width, the noise and the slope used.
    """
    solve_at = solve_scale(scale)
    psf = make_psf(settings.psf, scale)
    layout = Layout.of(tuple(image.shape), rgb)
    blind = BlindSettings(noise_margin=settings.noise_margin)
    fixed = 2.0 if settings.spectrum == "natural" else None
    # the wavelet noise estimate is robust where aliased detail hides the spectrum's noise floor
    noise = wavelet_noise(image, rgb, blind.min_noise)
    if min(layout.plane_shape(tuple(image.shape))) < blind.min_side:  # too small for a spectral fit
        alpha = 2.0
    else:
        alpha, _ = fit_slope_and_noise(image, rgb, psf, solve_at, fixed, noise=noise)
    alpha = round(float(np.clip(alpha, *ALPHA_RANGE)) / ALPHA_STEP) * ALPHA_STEP
    level = quantised_noise(noise, blind)
    size = default_filter_size(solve_at) if settings.filter_size is None else settings.filter_size
    psf = np.ascontiguousarray(psf, dtype=np.float64)
    h = _solved(psf.tobytes(), psf.shape, solve_at, size, alpha, level)
    record = {
        "psf_source": settings.psf.source,
        "psf_width_hr": round(psf_width(psf), 4),
        "psf_digest": hashlib.sha1(psf.tobytes()).hexdigest()[:12],
        "noise": level,
        "alpha": alpha,
        "settings": settings_to_dict(settings),
    }
    gallery = GallerySettings(count=1, size=psf.shape[0], scale=float(solve_at))
    name = f"psf-x{solve_at} ({settings.psf.source}, width {record['psf_width_hr']:.2f} px, noise {level:.3f})"
    return NSSRModel.closed_form(h.float(), name, gallery, ChainSettings(alpha=alpha, noise=level), {"psf": record})


@register_method
class KnownPSF(Method):
    """A filter solved for a known PSF (or the blind estimate bounded by it)."""

    name = "psf"
    summary = "a filter solved for a known PSF: microscope optics or a measured PSF"
    settings_type = KnownPSFSettings

    def prepare(self, image: Any, scale: tuple[float, float], layout: Layout, settings: Any) -> Prepared:
        """Build the PSF, measure the image's noise and slope, solve (cached per PSF and level)."""
        mean_scale = math.sqrt(scale[0] * scale[1])
        if settings.use == "bound":
            width = psf_width(make_psf(settings.psf, mean_scale))
            bounds = (width, width * (1 + settings.bound_margin))
            model = blind_model(image, mean_scale, layout.rgb, BlindSettings(), bounds=bounds)
            record = model.training["blind"]
            info = {"estimate": {k: v for k, v in record.items() if k != "settings"}}
            return Prepared(self.name, settings, blind_processor(record, model.filter), model=model, info=info)
        model = known_psf_model(image, mean_scale, layout.rgb, settings)
        info = {"estimate": {k: v for k, v in model.training["psf"].items() if k != "settings"}}
        return Prepared(self.name, settings, LinearFilter(model.filter, unit_sum=True), model=model, info=info)
