"""Settings dataclasses describe themselves; construction checks them; dicts round-trip."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, replace

import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.settings import (
    Settings,
    is_finite_number,
    setting,
    settings_fields,
    settings_from_dict,
    settings_to_dict,
)


@dataclass(frozen=True)
class Inner(Settings):
    width: float = setting(1.0, "a width", min=0, min_exclusive=True, unit="px")


@dataclass(frozen=True)
class Example(Settings):
    count: int = setting(3, "how many", min=1, max=10)
    level: float = setting(0.5, "a level", min=0, max=1)
    kind: str = setting("a", "which kind", choices=("a", "b"))
    flag: bool = setting(True, "on or off")
    size: int | None = setting(None, "a size; none: automatic", min=3)
    path: str | None = setting(None, "a file", path=True)
    inner: Inner = setting(Inner(), "nested settings")

    def check(self) -> None:
        if self.size is not None and self.size > 5 and not self.flag:
            raise SettingsError("a large size needs the flag")


def test_fields_describe_themselves():
    infos = {info.name: info for info in settings_fields(Example)}
    assert infos["count"].kind is int and infos["count"].range_text() == "1 <= value <= 10"
    assert infos["size"].optional and infos["size"].kind is int
    assert infos["kind"].choices == ("a", "b") and infos["kind"].range_text() == "one of a, b"
    assert infos["inner"].nested and not infos["count"].nested
    assert infos["path"].path and infos["level"].title == "Level"


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(count=0), "Example.count must satisfy 1 <= value <= 10"),
        (dict(count=2.5), "must be an integer"),
        (dict(count=True), "must be an integer"),
        (dict(level=float("nan")), "finite number"),
        (dict(level="0.5"), "finite number"),
        (dict(kind="c"), "one of a, b"),
        (dict(flag=1), "True or False"),
        (dict(size=2), "3 <= value"),
        (dict(inner=5), "must be Inner"),
        (dict(size=8, flag=False), "needs the flag"),
    ],
)
def test_construction_refuses_bad_values_with_the_field_named(bad, message):
    with pytest.raises(SettingsError, match=message):
        Example(**bad)


def test_numpy_scalars_become_python_numbers_and_instances_are_frozen():
    example = Example(count=np.int64(4), level=np.float32(0.25), flag=np.bool_(False))
    assert type(example.count) is int and type(example.level) is float and example.flag is False
    with pytest.raises(FrozenInstanceError):
        example.count = 5  # type: ignore[misc]
    with pytest.raises(SettingsError):
        replace(example, count=11)


def test_nested_exclusive_bound():
    with pytest.raises(SettingsError, match="0 < value"):
        Inner(width=0.0)


def test_dicts_round_trip_and_unknown_keys_are_refused():
    example = Example(count=7, size=4, inner=Inner(2.5))
    data = settings_to_dict(example)
    assert data["inner"] == {"width": 2.5} and data["size"] == 4
    assert settings_from_dict(Example, data) == example
    with pytest.raises(SettingsError, match="no setting"):
        settings_from_dict(Example, {**data, "colour": "red"})
    with pytest.raises(SettingsError, match="needs a mapping"):
        settings_from_dict(Example, [1, 2])


def test_fields_must_be_declared_with_setting():
    @dataclass(frozen=True)
    class Undeclared(Settings):
        value: int = 3

    with pytest.raises(TypeError, match="setting"):
        Undeclared()


def test_is_finite_number():
    assert is_finite_number(2) and is_finite_number(np.float32(2.0)) and is_finite_number(np.int64(3))
    assert not is_finite_number(True) and not is_finite_number(float("inf")) and not is_finite_number("2")
