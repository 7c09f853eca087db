"""The blind method: a filter solved for each image's own estimated blur and noise."""

from __future__ import annotations

import math
from typing import Any

from ...core.layout import Layout
from ..base import LinearFilter, Method, Prepared, register_method
from .solve import BlindSettings, blind_model


@register_method
class Blind(Method):
    """Estimate the image's blur (anisotropic Gaussian) and noise from its power spectrum, then
    solve the degradation-aware filter for a hedged range of blurs no wider than the estimate."""

    name = "blind"
    summary = "a filter solved for each image's own blur and noise (the default)"
    settings_type = BlindSettings

    def prepare(self, image: Any, scale: tuple[float, float], layout: Layout, settings: Any) -> Prepared:
        """Estimate and solve (about 0.1 s per Mpx for the estimate, 15 ms per solve, cached)."""
        model = blind_model(image, math.sqrt(scale[0] * scale[1]), layout.rgb, settings)
        estimate = {k: v for k, v in model.training["blind"].items() if k != "settings"}
        processor = LinearFilter(model.filter, unit_sum=True)  # solved with the sum held at 1
        return Prepared(self.name, settings, processor, model=model, info={"estimate": estimate})
