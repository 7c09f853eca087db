"""The blind method: a filter solved for each image's own blur and noise."""

from __future__ import annotations

import math
from typing import Any

from ...core.layout import Layout
from ...core.noise import NoiseModel
from ..base import LinearFilter, Method, Prepared, TileProcessor, register_method
from ..stabilised import Stabilised
from .solve import BlindSettings, blind_model


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
    return linear if noise is None else Stabilised(linear, noise)


@register_method
class Blind(Method):
    """Measure the image's noise (Poisson-Gaussian) and blur (anisotropic Gaussian, from its power
    spectrum), then solve the degradation-aware filter for a hedged range of blurs no wider than
    the estimate, at that noise, under the image's own spectrum."""

    name = "blind"
    summary = "a filter solved for each image's own blur and noise (the default)"
    settings_type = BlindSettings

    def prepare(self, image: Any, scale: tuple[float, float], layout: Layout, settings: Any) -> Prepared:
        """Estimate and solve (about 0.1 s per Mpx for the estimates, 15 ms per solve, cached)."""
        model = blind_model(image, math.sqrt(scale[0] * scale[1]), layout.rgb, settings)
        record = model.training["blind"]
        estimate = {k: v for k, v in record.items() if k != "settings"}
        return Prepared(
            self.name, settings, blind_processor(record, model.filter), model=model, info={"estimate": estimate}
        )
