"""Shared helpers for the settings dataclasses that travel from widget to core to model file."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A settings value is out of range or of the wrong kind."""


def settings_from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build settings dataclass ``cls`` from a plain dict, rejecting unknown keys."""
    if not isinstance(data, dict):
        raise SettingsError(f"{cls.__name__} needs a mapping, got {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise SettingsError(f"{cls.__name__} has no setting(s) {', '.join(unknown)}")
    obj = cls(**data)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate()
    return obj


def settings_to_dict(obj: Any) -> dict[str, Any]:
    """Plain-dict form of a settings dataclass, ready for JSON."""
    return dataclasses.asdict(obj)


def is_finite_number(value: Any) -> bool:
    """True for a real, finite int or float (not bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
