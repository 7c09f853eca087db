"""Plain pixel-centre bicubic interpolation: the baseline every other method is measured against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.request import Plan
from .base import Identity, Method, MethodSettings, Prepared, register_method


@dataclass(frozen=True)
class BicubicSettings(MethodSettings):
    """Bicubic interpolation has no settings."""


@register_method
class Bicubic(Method):
    """Cubic convolution (a = -0.75, as torch and OpenCV), pixel centres aligned."""

    name = "bicubic"
    summary = "plain bicubic interpolation (the baseline)"
    settings_type = BicubicSettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Nothing to estimate: the engine's upsampling is the result."""
        return Prepared(self.name, plan.settings, Identity())
