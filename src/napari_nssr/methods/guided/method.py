"""The ``guided`` method: a coarse band super-resolved with sharper bands of the same scene as guides.

Remote-sensing products carry bands at several resolutions (Landsat's 15 m panchromatic band
beside its 30 m bands, Sentinel-2's 10, 20 and 60 m bands, a sharp panchromatic band beside
coarser colour bands). The guides are those finer bands, on the result's grid
(``Request.guides``); the method fits, on the coarse grid only, how the guides' detail maps onto
the band (``fusion.py``), and injects it, falling back toward bicubic where the guides do not
explain the band, and ends with the exact consistency step: the result, degraded back by the
band's footprint, is the band. Nothing is trained on other images: it is null-shot like the
project's other methods.

References
----------
.. [1] B. Aiazzi, L. Alparone, S. Baronti, A. Garzelli and M. Selva, "MTF-tailored multiscale fusion
   of high-resolution MS and Pan imagery", Photogramm. Eng. Remote Sens. 72(5), 591-596, 2006.
.. [2] G. Vivone et al., "A critical comparison among pansharpening algorithms", IEEE Trans. Geosci.
   Remote Sens. 53(5), 2565-2586, 2015.
.. [3] K. He, J. Sun and X. Tang, "Guided image filtering", IEEE Trans. Pattern Anal. Mach. Intell.
   35(6), 1397-1409, 2013 (the local gains).
.. [4] L. Wald, T. Ranchin and M. Mangolini, "Fusion of satellite images of different spatial
   resolutions: assessing the quality of resulting images", Photogramm. Eng. Remote Sens. 63(6),
   691-699, 1997 (one level down: the safeguard's test).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...core.errors import ImageError, SettingsError
from ...core.layout import centre_window
from ...core.request import Plan
from ...core.settings import setting
from ..base import Method, MethodSettings, Prepared, TileProcessor, register_method
from .fusion import FusionSettings, RowSink, coarse_validity, fuse
from .lowpass import ESTIMATE_SIDE, sigma_from_mtf
from .regression import estimate_lowpass

LOWPASSES = ("estimate", "average", "mtf")


@dataclass(frozen=True)
class GuidedSettings(MethodSettings):
    """The ``guided`` method's settings.

    Examples
    --------
    >>> from napari_nssr.methods import GuidedSettings
    >>> GuidedSettings().lowpass, round(GuidedSettings(lowpass="mtf", mtf=0.3).fusion().lowpass_sigma, 3)
    ('estimate', 0.494)
    """

    lowpass: str = setting(
        "estimate",
        "the band's footprint on the guides' grid: estimate (from how well the guides explain the band, among "
        "pixel averages with optics of 0 to 1 coarse pixel); average: each coarse pixel the mean of its fine "
        "pixels (a product made by averaging); mtf: that with Gaussian optics of the given MTF",
        choices=LOWPASSES,
    )
    mtf: float = setting(
        0.3, "lowpass=mtf: the band's MTF at its Nyquist frequency (sensor documents give it)", min=0.01, max=0.99
    )
    window: int = setting(
        1,
        "radius of the windows the guides' gains are fitted in, in coarse pixels (0: one gain for the scene)",
        min=0,
        max=8,
        unit="px",
    )
    filter_radius: int = setting(
        3,
        "radius of the round filter fitted per guide, in fine pixels (0: one gain per guide, as plain injection)",
        min=0,
        max=4,
        unit="px",
        advanced=True,
    )
    shrink: float = setting(
        0.003,
        "shrinkage of the local gains toward zero (a fraction of each guide's variance)",
        min=0,
        max=10,
        advanced=True,
    )
    ridge: float = setting(
        1e-5,
        "ridge weight of the round filters' fit (keeps near-collinear guides stable)",
        min=0,
        max=1,
        advanced=True,
    )
    safeguard: bool = setting(
        True,
        "fall back toward bicubic where the guides do not explain the band (tested one level down: the band "
        "predicted from its own degraded copy)",
    )
    consistent: bool = setting(
        True, "end with the exact consistency step: the result, degraded back by the footprint, equals the band"
    )

    def fusion(self, sigma: float | None = None) -> FusionSettings:
        """The fusion's settings; ``sigma`` (coarse pixels) fixes the footprint an estimate chose."""
        if sigma is None:
            sigma = {"average": 0.0, "mtf": sigma_from_mtf(self.mtf), "estimate": None}[self.lowpass]
        return FusionSettings(
            lowpass_sigma=sigma,
            filter_radius=self.filter_radius,
            ridge=self.ridge,
            window=self.window,
            shrink=self.shrink,
            safeguard=self.safeguard,
            consistent=self.consistent,
        )


def guide_planes(guides: Sequence[Any], shape: tuple[int, int], nodata: float | None) -> list[np.ndarray]:
    """The guides as planes of the result's ``shape`` (rows, cols): float32 with pixels without data
    as NaN, or, for integer bands with every pixel holding data, the bands themselves (not copied:
    the fusion reads them a strip at a time, and a float32 copy of a large guide costs more than its
    fusion).

    Parameters
    ----------
    guides : sequence of array-like
        2D planes, or ``(bands, rows, cols)`` stacks (each band a guide); numpy, dask or torch.
    shape : tuple of int
        The result's plane.
    nodata : float or None
        Guide pixels equal to it have no data (as NaN does in float guides).

    Returns
    -------
    list of numpy.ndarray

    Raises
    ------
    ImageError
        For a guide that is not on the result's grid, not numbers, or has no data at all.
    """
    planes: list[np.ndarray] = []
    for k, guide in enumerate(guides, start=1):
        array = _as_numpy(guide)
        if array.dtype.kind not in "uif" or array.ndim not in (2, 3):
            raise ImageError(
                f"guide {k} must be a 2D plane or a (bands, rows, cols) stack of numbers, got "
                f"{array.dtype} of shape {array.shape}"
            )
        if tuple(array.shape[-2:]) != tuple(shape):
            raise ImageError(
                f"guide {k} is {array.shape[-2]} x {array.shape[-1]} pixels but the result is {shape[0]} x "
                f"{shape[1]}: a guide must lie on the result's grid (files are checked and brought there by "
                "their georeference)"
            )
        for band in array.reshape((-1,) + array.shape[-2:]):
            planes.append(_guide_plane(band, nodata, k))
    return planes


def _guide_plane(band: np.ndarray, nodata: float | None, k: int) -> np.ndarray:
    missing = None if nodata is None or math.isnan(nodata) else band == nodata
    if missing is not None and not missing.any():
        missing = None
    if band.dtype.kind in "ui" and missing is None and band.dtype.itemsize <= 2:
        return band  # exact in float32, converted strip by strip where it is read
    infinite = np.isinf(band) if band.dtype.kind == "f" else None
    if infinite is not None and not infinite.any():
        infinite = None
    if band.dtype == np.float32 and missing is None and infinite is None:
        plane = band
    else:
        plane = band.astype(np.float32)
        for holes in (missing, infinite):
            if holes is not None:
                plane[holes] = np.nan
    if not np.isfinite(plane).any():
        raise ImageError(f"guide {k} has no pixels with data")
    return plane


def _as_numpy(guide: Any) -> np.ndarray:
    try:
        import torch

        if isinstance(guide, torch.Tensor):
            return guide.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return np.asarray(guide)


def filled_guides(planes: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The guides with their pixels without data filled by the nearest pixel with data (so no filter
    reads a fill value), and where all of them have data (``None``: everywhere)."""
    floats = [p for p in planes if p.dtype.kind == "f"]
    valid = np.logical_and.reduce([np.isfinite(p) for p in floats]) if floats else None
    if valid is None or valid.all():
        return list(planes), None
    from scipy import ndimage

    filled = []
    for plane in planes:
        known = np.isfinite(plane) if plane.dtype.kind == "f" else np.ones(plane.shape, bool)
        if known.all():
            filled.append(plane)
            continue
        index = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
        filled.append(np.ascontiguousarray(plane[tuple(index)]))
    return filled, valid


class GuidedProcessor(TileProcessor):
    """Each whole coarse plane fused with the guides (``fusion.fuse``), its own pixels without data
    kept out of the fits (:meth:`with_validity`)."""

    halo = None
    from_source = True

    def __init__(
        self,
        guides: Sequence[np.ndarray],
        guide_valid: np.ndarray | None,
        settings: FusionSettings,
        scale: int,
        valid: np.ndarray | None = None,
    ) -> None:
        self.guides, self.guide_valid, self.settings, self.scale, self.valid = (
            guides,
            guide_valid,
            settings,
            scale,
            valid,
        )

    def __call__(self, block: Any) -> Any:
        raise NotImplementedError("the guided method takes whole coarse planes (process_source)")

    def with_validity(self, valid: np.ndarray | None) -> TileProcessor:
        return GuidedProcessor(self.guides, self.guide_valid, self.settings, self.scale, valid)

    streams_rows = True

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        fused = self._fused(plane, out_shape, None)
        assert fused is not None
        return fused

    def iter_source_rows(
        self, plane: np.ndarray, out_shape: tuple[int, int], rows: RowSink
    ) -> Generator[str, None, None]:
        self._fused(plane, out_shape, rows)
        return
        yield  # pragma: no cover - makes this a generator

    def _fused(self, plane: np.ndarray, out_shape: tuple[int, int], rows: RowSink | None) -> np.ndarray | None:
        if tuple(out_shape) != tuple(self.guides[0].shape):
            raise ImageError(f"the guides are {self.guides[0].shape} but this plane's result is {out_shape}")
        if rows is None:
            fused, _ = fuse(plane, self.guides, self.scale, self.settings, self.valid, self.guide_valid)
            assert fused is not None
            return fused.astype(plane.dtype, copy=False)
        fuse(plane, self.guides, self.scale, self.settings, self.valid, self.guide_valid, store=rows)
        return None


@register_method
class Guided(Method):
    """High-pass injection of guide bands with round filters fitted through the band's footprint,
    gains fitted locally, a safeguard tested one level down, and the exact consistency step."""

    name = "guided"
    summary = "a coarse band brought to the grid of sharper bands of the same scene (guides; pan-sharpening)"
    settings_type = GuidedSettings
    takes_guides = True

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Read the guides, check them against the result's grid, and choose the band's footprint on
        the middle plane (an estimate holds for the band, not for one plane)."""
        settings: GuidedSettings = plan.settings
        scale = _integer_scale(plan.scale)
        if not plan.request.guides:
            raise SettingsError("the guided method needs guide images (guide=... ; --guide FILE; a guide layer)")
        out_plane = plan.plane_shapes[1]
        guides, guide_valid = filled_guides(guide_planes(plan.request.guides, out_plane, plan.request.nodata))
        fusion = settings.fusion()
        info: dict[str, Any] = {"guides": len(guides)}
        if fusion.lowpass_sigma is None:
            # the middle plane's centred window that the estimate looks at (the engine's view of the
            # plane has any nodata filled), and the guides' window over it
            plane = np.asarray(plan.layout.sample_planes(image, 1, ESTIMATE_SIDE)[0], dtype=np.float32)
            if plane.ndim == 3:  # colour: the footprint is the sensor's, one for all channels
                plane = np.ascontiguousarray(plane.mean(axis=-1))
            rows, cols = centre_window(plan.plane_shapes[0], ESTIMATE_SIDE)
            fine = (
                slice(rows.start * scale, rows.start * scale + plane.shape[0] * scale),
                slice(cols.start * scale, cols.start * scale + plane.shape[1] * scale),
            )
            window_valid = None if guide_valid is None else guide_valid[fine]
            window_guides = [g[fine] for g in guides]
            lowpass, candidates = estimate_lowpass(plane, window_guides, scale, coarse_validity(window_valid, scale))
            fusion = replace(fusion, lowpass_sigma=lowpass.sigma / scale)
            info["lowpass_candidates"] = candidates
        info["lowpass_sigma_coarse_px"] = round(float(fusion.lowpass_sigma or 0.0), 4)
        info["estimate"] = {
            "summary": f"{len(guides)} guide band(s); footprint: pixel average"
            + (f" with optics of {fusion.lowpass_sigma:.2f} coarse px" if fusion.lowpass_sigma else "")
        }
        return Prepared(self.name, settings, GuidedProcessor(guides, guide_valid, fusion, scale), info=info)


def _integer_scale(scale: tuple[float, float]) -> int:
    if scale[0] != scale[1] or not float(scale[0]).is_integer() or scale[0] < 2:
        raise SettingsError(
            f"the guided method needs the same integer scale (2 or more) on both axes, as the grids of one scene "
            f"nest; got {scale[0]:g} x {scale[1]:g}"
        )
    return int(scale[0])
