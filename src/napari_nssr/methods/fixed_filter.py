"""A fixed inverse filter from a model (bundled or a file), applied after bicubic upsampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import SettingsError
from ..core.request import Plan
from ..core.settings import setting
from ..models.bundled import bundled_families, bundled_models, is_model_source, model_for_scale
from ..models.model import NSSRModel
from .base import LinearFilter, Method, MethodSettings, Prepared, register_method


@dataclass(frozen=True)
class FilterSettings(MethodSettings):
    """Which model's filter to apply: an :class:`NSSRModel`, a bundled name, a per-scale family
    (``"chain"``: the bundled model nearest to the scale) or a model file.

    Examples
    --------
    >>> from napari_nssr import FilterSettings
    >>> FilterSettings(model="chain").model
    'chain'
    """

    cli_prefix: ClassVar[str] = ""  # the option is plain --model (-m)

    model: str | NSSRModel = setting(
        "default",
        "a bundled model (default, paper, chain-x2..x4), the per-scale family 'chain', or a model file",
        label="Model",
    )

    def check(self) -> None:
        """The model must exist (a bundled name or family, or a file)."""
        if not is_model_source(self.model):
            known = sorted(bundled_models()) + sorted(bundled_families())
            raise SettingsError(
                f"no model {str(self.model)!r}: not a bundled model or family ({', '.join(known)}) nor a model file"
            )


@register_method
class Filter(Method):
    """The filter of one model, the same for every image (the paper's method when the model is
    ``default`` or ``paper``; degradation-aware with ``chain``)."""

    name = "filter"
    summary = "a fixed inverse filter from a model (bundled or a file)"
    settings_type = FilterSettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Load the model (a family picks the member nearest to the geometric-mean scale)."""
        model = model_for_scale(plan.settings.model, plan.mean_scale)
        processor = LinearFilter(model.filter, unit_sum=model.loss.hold_sum_at_one)
        return Prepared(self.name, plan.settings, processor, model=model)
