"""The blind method: a filter solved for each image's own blur and noise."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ...core.noise import NoiseModel
from ...core.request import Plan
from ..base import LinearFilter, Method, Prepared, TileProcessor, process_plane, register_method
from .solve import BlindSettings, blind_model
from .stabilised import DenoisedStabilised, Stabilised


def noise_of(record: dict[str, Any]) -> NoiseModel | None:
    """The noise model a blind (or bounded) solve's record says its filter works under, if any."""
    noise = record.get("noise_model", {})
    if "read_std" not in noise:
        return None
    return NoiseModel(noise["gain"], noise["read_std"], noise["offset"])


def blind_processor(record: dict[str, Any], filter_taps: Any) -> TileProcessor:
    """The solved filter, run in the variance-stabilised domain when the solve used a noise model."""
    linear = LinearFilter(filter_taps, unit_sum=True)  # solved with the sum held at 1
    noise = noise_of(record)
    if noise is None:
        return linear
    if record.get("denoise"):
        return DenoisedStabilised(linear, noise, record["denoise"]["strength"])
    return Stabilised(linear, noise)


class PerPlane(TileProcessor):
    """Each whole low-resolution plane estimated and solved on its own (``per_plane=True``)."""

    halo = None
    from_source = True

    def __init__(self, settings: BlindSettings) -> None:
        self.settings = replace(settings, per_plane=False, planes=1)

    def __call__(self, block: Any) -> Any:
        raise NotImplementedError("per-plane estimates take whole low-resolution planes (process_source)")

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        scale = (out_shape[0] / plane.shape[0], out_shape[1] / plane.shape[1])
        model = blind_model(plane, math.sqrt(scale[0] * scale[1]), False, self.settings)
        return process_plane(blind_processor(model.training["blind"], model.filter), plane, out_shape)


@register_method
class Blind(Method):
    """Measure the image's noise (Poisson-Gaussian) and blur (anisotropic Gaussian, from its power
    spectrum), then solve the degradation-aware filter for a hedged range of blurs no wider than
    the estimate, at that noise, under the image's own spectrum."""

    name = "blind"
    summary = "a filter solved for each image's own blur and noise (the default)"
    settings_type = BlindSettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Estimate and solve (about 0.1 s per Mpx for the estimates, 15 ms per solve, cached)."""
        settings = plan.settings
        model = blind_model(image, plan.mean_scale, plan.layout.rgb, settings)
        record = model.training["blind"]
        estimate = {k: v for k, v in record.items() if k != "settings"}
        if settings.per_plane:
            # what the representative planes showed is recorded; each plane gets its own solve
            estimate["per_plane"] = True
            estimate["summary"] = f"estimated per plane (the middle planes: {record['summary']})"
            return Prepared(self.name, settings, PerPlane(settings), info={"estimate": estimate})
        processor = blind_processor(record, model.filter)
        return Prepared(self.name, settings, processor, model=model, info={"estimate": estimate})
