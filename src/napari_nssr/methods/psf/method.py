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

With ``restore="auto"`` (the default) an image with photon noise (a Poisson-Gaussian noise model,
measured or given) of up to 4 Mpx at an integer scale is restored in three steps instead of
filtered: denoised, filtered for the PSF, then sharpened by Richardson-Lucy under the imaging
model, with the filter's caution and the iteration count chosen by data fission
(:mod:`.known_restore`). Other images get the filter alone (``restore="linear"``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.denoise import AUTO_MAX_PIXELS, DEFAULT_STRENGTH
from ...core.errors import SettingsError
from ...core.kernels import GallerySettings
from ...core.layout import Layout
from ...core.noise import NoiseModel, parse_noise
from ...core.progress import PrepareProgress, drain
from ...core.request import Plan
from ...core.settings import setting, settings_to_dict
from ...models.model import NSSRModel
from ...objectives.chain import ChainSettings
from ..base import LinearFilter, Method, MethodSettings, Prepared, register_method
from ..blind.estimate import ALPHA_RANGE
from ..blind.method import blind_processor
from ..blind.solve import (
    BlindSettings,
    blind_model,
    default_filter_size,
    image_noise,
    quantised_noise,
    solve_scale,
    wavelet_noise,
)
from .kernels import PSFSettings, make_psf, psf_width
from .restore import (
    CHOICE_SIDE,
    KnownPSFRestoration,
    denoise_plane,
    filter_stage,
    iter_choose_restoration,
    solved_for_psf,
)
from .spectrum import fit_psf_spectrum

USES = ("known", "bound")
SPECTRA = ("image", "natural")
RESTORES = ("auto", "denoise-deconvolve", "linear")
ALPHA_STEP = 0.05


@dataclass(frozen=True)
class KnownPSFSettings(MethodSettings):
    """The ``psf`` method: a known PSF and how to use it.

    References
    ----------
    .. [1] W. H. Richardson, "Bayesian-based iterative method of image restoration", J. Opt. Soc. Am.
       62(1), 55-59, 1972; L. B. Lucy, Astron. J. 79, 745-754, 1974 (the iterations).
    .. [2] J. Leiner, B. Duan, L. Wasserman and A. Ramdas, "Data fission: splitting a single data
       point", J. Am. Stat. Assoc., 2023 (the choice of the iteration count).
    .. [3] B. Zhang, J. Zerubia and J.-C. Olivo-Marin, "Gaussian approximations of fluorescence
       microscope point-spread function models", Appl. Opt. 46(10), 1819-1829, 2007 (the PSF's width).

    Examples
    --------
    >>> from napari_nssr import KnownPSFSettings, PSFSettings
    >>> settings = KnownPSFSettings(psf=PSFSettings(source="widefield", numerical_aperture=1.2))
    >>> settings.restore, settings.psf.numerical_aperture
    ('auto', 1.2)
    """

    psf: PSFSettings = setting(
        PSFSettings(source="widefield"), "the PSF: microscope optics or a measured PSF file", label="PSF"
    )
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
    restore: str = setting(
        "auto",
        "denoise-deconvolve: denoise, filter for the PSF, then Richardson-Lucy, with the filter's caution and "
        "the iteration count chosen by splitting the image's noise (photon noise only, whole planes); auto: "
        "that for images with photon noise of up to 4 Mpx at integer scales; linear: the filter alone (tiled)",
        choices=RESTORES,
    )
    noise: str = setting(
        "auto",
        "the noise the restoration works under: auto: Poisson-Gaussian, measured on the image; camera "
        "parameters such as gain=2.1,offset=100,read=1.6 (image units per electron, image units, electrons); "
        "white, off or a level: no photon noise, so the filter alone",
    )
    denoise_strength: float = setting(
        DEFAULT_STRENGTH,
        "restoration: non-local means' h, in units of the noise's std (larger smooths more)",
        min=0.05,
        max=3,
    )
    iterations: int | None = setting(
        None,
        "restoration: Richardson-Lucy iterations; none: chosen per image by splitting its noise",
        min=0,
        max=500,
    )
    max_iterations: int = setting(
        48, "restoration: the most Richardson-Lucy iterations the choice considers", min=0, max=150, advanced=True
    )
    seed: int = setting(
        0, "restoration: seed of the noise split (the same seed, the same choice)", min=0, advanced=True
    )
    noise_margin: float = setting(
        1.0,
        "linear filter: solve for this many times the estimated noise (larger is more cautious)",
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

    def check(self) -> None:
        """A noise setting that reads, an odd filter."""
        parse_noise(self.noise)
        if self.filter_size is not None and self.filter_size % 2 == 0:
            raise SettingsError(f"KnownPSFSettings.filter_size must be odd, got {self.filter_size}")


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
        alpha = fit_psf_spectrum(image, rgb, psf, solve_at, fixed, noise=noise).alpha
    alpha = round(float(np.clip(alpha, *ALPHA_RANGE)) / ALPHA_STEP) * ALPHA_STEP
    level = quantised_noise(noise, blind)
    size = default_filter_size(solve_at) if settings.filter_size is None else settings.filter_size
    psf = np.ascontiguousarray(psf, dtype=np.float64)
    h = solved_for_psf(psf, solve_at, size, alpha, level)
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


def restoration_noise(
    image: Any, scale: tuple[float, float], layout: Layout, settings: KnownPSFSettings
) -> tuple[NoiseModel | None, str]:
    """The photon-noise model the restoration will work under, or ``None`` and why the filter alone
    is used instead (``settings.restore``, the scale, the image's size, its noise)."""
    if settings.restore == "linear":
        return None, "restore=linear"
    if scale[0] != scale[1] or not float(scale[0]).is_integer() or scale[0] < 2:
        return None, "the restoration runs at equal integer scales"
    values = math.prod(int(n) for n in image.shape)
    if settings.restore == "auto" and values > AUTO_MAX_PIXELS:
        return None, f"{values / 2**20:.1f} Mpx is above restore=auto's {AUTO_MAX_PIXELS / 2**20:.0f} Mpx"
    if min(layout.plane_shape(tuple(image.shape))) < BlindSettings().min_side:
        return None, "the image is too small to measure its noise"
    planes = layout.sample_planes(image, BlindSettings().planes, CHOICE_SIDE)
    noise = image_noise(planes, layout.rgb, BlindSettings(noise=settings.noise))
    if noise is None or noise.is_white:
        return None, "no photon noise measured" if settings.noise == "auto" else f"noise={settings.noise}"
    return noise, ""


def _noise_record(noise: NoiseModel, settings: KnownPSFSettings) -> dict[str, Any]:
    source = "measured" if settings.noise == "auto" else "given"
    return {
        "kind": "poisson-gaussian",
        "source": source,
        "gain": noise.gain,
        "read_std": noise.read_std,
        "offset": noise.offset,
    }


@register_method
class KnownPSF(Method):
    """A filter solved for a known PSF, or the three-step restoration for photon-noisy images (or
    the blind estimate bounded by the PSF)."""

    name = "psf"
    summary = "a filter or restoration for a known PSF: microscope optics or a measured PSF"
    settings_type = KnownPSFSettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Build the PSF, measure the image's noise, and solve the filter or choose the restoration."""
        return drain(self.iter_prepare(image, plan))

    def iter_prepare(self, image: Any, plan: Plan) -> Generator[PrepareProgress, None, Prepared]:
        """:meth:`prepare`, yielding progress while the restoration's choice is made (a few seconds)."""
        scale, layout, settings, mean_scale = plan.scale, plan.layout, plan.settings, plan.mean_scale
        if settings.use == "bound":
            width = psf_width(make_psf(settings.psf, mean_scale))
            bounds = (width, width * (1 + settings.bound_margin))
            model = blind_model(image, mean_scale, layout.rgb, BlindSettings(), bounds=bounds)
            record = model.training["blind"]
            info = {"estimate": {k: v for k, v in record.items() if k != "settings"}}
            return Prepared(self.name, settings, blind_processor(record, model.filter), model=model, info=info)
        noise, why_linear = restoration_noise(image, scale, layout, settings)
        if noise is None:
            model = known_psf_model(image, mean_scale, layout.rgb, settings)
            estimate = {k: v for k, v in model.training["psf"].items() if k != "settings"}
            estimate["restoration"] = None
            estimate["summary"] = (
                f"PSF {settings.psf.source}, width {estimate['psf_width_hr']:.2f} HR px; the filter alone "
                f"({why_linear}) at noise {estimate['noise']:.3f} of a std-0.25 image, spectral slope "
                f"{estimate['alpha']:.2f}"
            )
            linear = LinearFilter(model.filter, unit_sum=True)
            return Prepared(self.name, settings, linear, model=model, info={"estimate": estimate})

        solve_at = int(scale[0])
        psf = np.ascontiguousarray(make_psf(settings.psf, mean_scale), dtype=np.float64)
        size = default_filter_size(solve_at) if settings.filter_size is None else settings.filter_size
        fixed = 2.0 if settings.spectrum == "natural" else None
        crop = layout.sample_planes(image, 1, CHOICE_SIDE)[0]
        if layout.rgb:  # one colour channel: the noise model is per channel, a mean would have less
            crop = crop[..., 0]
        choice = yield from iter_choose_restoration(
            crop,
            noise,
            psf,
            solve_at,
            size,
            settings.denoise_strength,
            settings.max_iterations,
            np.random.default_rng(settings.seed),
            fixed,
            settings.iterations,
        )
        strength = settings.denoise_strength
        stage = filter_stage(denoise_plane(crop, noise, strength), psf, solve_at, size, choice.factor, fixed)
        processor = KnownPSFRestoration(noise, strength, stage.taps, psf, solve_at, choice.iterations)
        width = psf_width(psf)
        noise_record = _noise_record(noise, settings)
        estimate = {
            "psf_source": settings.psf.source,
            "psf_width_hr": round(width, 4),
            "psf_digest": hashlib.sha1(psf.tobytes()).hexdigest()[:12],
            "noise": stage.noise,
            "alpha": stage.alpha,
            "noise_model": noise_record,
            "restoration": {"denoise": {"kind": "nl-means", "strength": strength}, **choice.record()},
            "summary": (
                f"PSF {settings.psf.source}, width {width:.2f} HR px; noise Poisson-Gaussian "
                f"({noise_record['source']}): gain {noise.gain:.3g}, read {noise.read_std:.3g}; denoised (nl-means, "
                f"h {strength:g}), filter at {choice.factor:g}x the noise left, "
                f"{choice.iterations} Richardson-Lucy iterations"
                + (" (chosen by splitting the noise)" if settings.iterations is None else "")
            ),
        }
        gallery = GallerySettings(count=1, size=psf.shape[0], scale=float(solve_at))
        name = f"psf-x{solve_at} ({settings.psf.source}, width {width:.2f} px, restoration filter)"
        model = NSSRModel.closed_form(
            stage.taps.float(), name, gallery, ChainSettings(alpha=stage.alpha, noise=stage.noise), {"psf": estimate}
        )
        return Prepared(self.name, settings, processor, model=model, info={"estimate": estimate})
