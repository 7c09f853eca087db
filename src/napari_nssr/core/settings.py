"""Settings: frozen dataclasses whose fields describe themselves (help, range, choices, unit).

Every settings class in the package derives from :class:`Settings` and declares its fields with
:func:`setting`. The description is used three times, so the three never drift apart:

- on construction (``__post_init__``) every field is checked against its type and range, numpy
  scalars become Python numbers, and a bad value raises :class:`SettingsError` naming the field;
- the command line builds its options from it (``apps/cli_settings.py``);
- the napari widgets build their fields from it (``_widgets/_settings_form.py``).

Settings travel into model files and layer metadata as plain dicts (:func:`settings_to_dict`,
:func:`settings_from_dict`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union, cast

import numpy as np

from .errors import SettingsError

S = TypeVar("S", bound="Settings")

_SIMPLE_TYPES = (bool, int, float, str)


def setting(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_exclusive: bool = False,
    max_exclusive: bool = False,
    choices: tuple[Any, ...] | None = None,
    unit: str = "",
    label: str | None = None,
    advanced: bool = False,
    path: bool = False,
    step: float | None = None,
    flag: str | None = None,
) -> Any:
    """A dataclass field with the description the checks, the CLI and the widgets use.

    Parameters
    ----------
    default : Any
        Default value (immutable; nested settings pass an instance).
    help : str
        One sentence on what the value does, shown as CLI help and widget tooltip.
    min, max : float, optional
        Inclusive bounds for numbers (exclusive with ``min_exclusive`` / ``max_exclusive``).
    choices : tuple, optional
        The allowed values of a string (or number) field.
    unit : str
        Unit of a number, shown next to it ("px", "um").
    label : str, optional
        Widget label; defaults to the field name in words.
    advanced : bool
        Kept out of the widgets' main form (tuned constants); the CLI still offers it.
    path : bool
        A string that names a file (a file chooser in the widgets).
    step : float, optional
        Widget step for numbers.
    flag : str, optional
        Command-line option name (without ``--``) where the field name is not the one users know.

    Returns
    -------
    dataclasses.Field
        To be assigned to a class attribute of a :class:`Settings` dataclass.
    """
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "min_exclusive": min_exclusive,
        "max_exclusive": max_exclusive,
        "choices": choices,
        "unit": unit,
        "label": label,
        "advanced": advanced,
        "path": path,
        "step": step,
        "flag": flag,
    }
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """What a settings field is: its name, Python type, whether ``None`` is allowed, and its metadata."""

    name: str
    kind: type  # bool, int, float, str, or a Settings subclass
    optional: bool
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: tuple[Any, ...] | None = None
    unit: str = ""
    label: str | None = None
    advanced: bool = False
    path: bool = False
    step: float | None = None
    flag: str | None = None
    extra_types: tuple[type, ...] = ()  # other accepted types (an NSSRModel for a model name)

    @property
    def nested(self) -> bool:
        """Whether the field holds another settings object."""
        return isinstance(self.kind, type) and issubclass(self.kind, Settings)

    @property
    def title(self) -> str:
        """A label for a widget: the given one, or the name in words (without a unit suffix such as
        ``_um``, which the widget shows in brackets)."""
        if self.label:
            return self.label
        name = self.name
        if self.unit and name.endswith("_" + self.unit):
            name = name[: -len(self.unit) - 1]
        return name.replace("_", " ").capitalize()

    def range_text(self) -> str:
        """The allowed range or choices in words, for help texts."""
        if self.choices:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.min is None and self.max is None:
            return ""
        low = "" if self.min is None else f"{self.min:g} {'<' if self.min_exclusive else '<='} "
        high = "" if self.max is None else f" {'<' if self.max_exclusive else '<='} {self.max:g}"
        return f"{low}value{high}"


def _split_optional(annotation: Any) -> tuple[list[Any], bool]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = list(typing.get_args(annotation))
        optional = type(None) in args
        return [a for a in args if a is not type(None)], optional
    return [annotation], False


_FIELDS: dict[type, tuple[FieldInfo, ...]] = {}


def settings_fields(cls: type[Settings]) -> tuple[FieldInfo, ...]:
    """The described fields of settings class ``cls``, in declaration order.

    Parameters
    ----------
    cls : type
        A :class:`Settings` dataclass.

    Returns
    -------
    tuple of FieldInfo
    """
    if cls in _FIELDS:
        return _FIELDS[cls]
    hints = typing.get_type_hints(cls)
    infos = []
    for f in dataclasses.fields(cast(Any, cls)):
        if not f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} is not declared with setting(...)")
        kinds, optional = _split_optional(hints[f.name])
        main = next((k for k in kinds if isinstance(k, type) and (k in _SIMPLE_TYPES or issubclass(k, Settings))), None)
        if main is None:
            raise TypeError(f"{cls.__name__}.{f.name}: unsupported settings type {hints[f.name]!r}")
        extra = tuple(k for k in kinds if k is not main and isinstance(k, type))
        infos.append(FieldInfo(f.name, main, optional, f.default, extra_types=extra, **f.metadata))
    _FIELDS[cls] = tuple(infos)
    return _FIELDS[cls]


def _coerce(info: FieldInfo, value: Any, owner: str) -> Any:
    """``value`` as the field's type (numpy scalars to Python numbers), or a SettingsError."""
    where = f"{owner}.{info.name}"
    if value is None:
        if info.optional:
            return None
        raise SettingsError(f"{where} must not be None")
    if info.extra_types and isinstance(value, info.extra_types):
        return value
    kind = info.kind
    if info.nested:
        if not isinstance(value, kind):
            raise SettingsError(f"{where} must be {kind.__name__}, got {type(value).__name__}")
        return value
    if kind is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise SettingsError(f"{where} must be True or False, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SettingsError(f"{where} must be an integer, got {value!r}")
        value = int(value)
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise SettingsError(f"{where} must be a finite number, got {value!r}")
        value = float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise SettingsError(f"{where} must be a string, got {value!r}")
    if info.choices is not None and value not in info.choices:
        raise SettingsError(f"{where} must be {info.range_text()}, got {value!r}")
    if kind in (int, float):
        low_bad = info.min is not None and (value <= info.min if info.min_exclusive else value < info.min)
        high_bad = info.max is not None and (value >= info.max if info.max_exclusive else value > info.max)
        if low_bad or high_bad:
            unit = f" {info.unit}" if info.unit else ""
            raise SettingsError(f"{where} must satisfy {info.range_text()}{unit}, got {value!r}")
    return value


class Settings:
    """Base of the package's settings dataclasses (declare them ``@dataclass(frozen=True)``).

    Construction checks every field (:func:`setting` metadata) and then :meth:`check`, the hook
    for rules that involve several fields. Instances are immutable; use :func:`dataclasses.replace`.
    """

    def __post_init__(self) -> None:
        owner = type(self).__name__
        for info in settings_fields(type(self)):
            value = _coerce(info, getattr(self, info.name), owner)
            object.__setattr__(self, info.name, value)
        self.check()

    def check(self) -> None:
        """Cross-field rules; raise :class:`SettingsError` (the default has none)."""

    def validate(self) -> None:
        """Check the settings again (they are checked on construction; kept for callers that ask)."""
        self.__post_init__()


def settings_from_dict(cls: type[S], data: Any) -> S:
    """Build settings ``cls`` from a plain dict (as :func:`settings_to_dict` writes it).

    Parameters
    ----------
    cls : type
        The :class:`Settings` dataclass to build.
    data : dict
        Field values; nested settings as dicts. Unknown keys are refused.

    Returns
    -------
    Settings
        A validated instance.

    Raises
    ------
    SettingsError
        For a non-mapping, unknown keys or bad values.
    """
    if not isinstance(data, dict):
        raise SettingsError(f"{cls.__name__} needs a mapping, got {type(data).__name__}")
    infos = {info.name: info for info in settings_fields(cls)}
    unknown = sorted(set(data) - set(infos))
    if unknown:
        raise SettingsError(f"{cls.__name__} has no setting(s) {', '.join(unknown)}")
    values = {}
    for name, value in data.items():
        info = infos[name]
        if info.nested and isinstance(value, dict):
            value = settings_from_dict(info.kind, value)
        values[name] = value
    try:
        return cls(**values)
    except TypeError as exc:  # a value the dataclass itself cannot take
        raise SettingsError(f"{cls.__name__}: {exc}") from exc


def settings_to_dict(obj: Settings) -> dict[str, Any]:
    """Plain-dict form of settings ``obj``, ready for JSON (nested settings as dicts; an object in a
    field that also takes a name, such as a model, is written as its ``name``)."""
    out: dict[str, Any] = {}
    for info in settings_fields(type(obj)):
        value = getattr(obj, info.name)
        if isinstance(value, Settings):
            value = settings_to_dict(value)
        elif value is not None and not isinstance(value, _SIMPLE_TYPES):
            value = str(getattr(value, "name", value))
        out[info.name] = value
    return out


def is_finite_number(value: Any) -> bool:
    """True for a real, finite number, numpy scalars included (not bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
