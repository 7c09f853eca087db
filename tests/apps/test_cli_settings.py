"""Command-line options generated from settings metadata."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from napari_nssr.apps.cli_settings import add_settings_options, given, settings_from_args
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.settings import Settings, setting


@dataclass(frozen=True)
class Optics(Settings):
    na: float = setting(1.4, "numerical aperture", min=0.1, max=1.9, flag="na")


@dataclass(frozen=True)
class Demo(Settings):
    count: int = setting(3, "how many", min=1, max=10)
    mode: str = setting("fast", "how", choices=("fast", "slow"))
    sharp: bool = setting(True, "sharpen")
    size: int | None = setting(None, "a size", min=3)
    optics: Optics = setting(Optics(), "the optics")


def parse(*argv):
    parser = argparse.ArgumentParser()
    dests = add_settings_options(parser, Demo, "demo")
    return parser.parse_args(argv), dests, parser


def test_options_are_generated_with_help_ranges_and_defaults():
    _, dests, parser = parse()
    text = " ".join(parser.format_help().split())  # argparse wraps lines
    for expected in (
        "--demo-count",
        "1 <= value <= 10, default 3",
        "--demo-mode {fast,slow}",
        "--demo-sharp",
        "--no-demo-sharp",
        "--demo-size",
        "'none' for automatic",
        "--na",
    ):
        assert expected in text
    assert set(dests) == {"Demo.count", "Demo.mode", "Demo.sharp", "Demo.size", "Optics.na"}


def test_only_given_options_change_the_base():
    args, dests, _ = parse("--demo-count", "5", "--no-demo-sharp", "--na", "1.2", "--demo-size", "none")
    assert sorted(given(args, dests)) == ["Demo.count", "Demo.sharp", "Demo.size", "Optics.na"]
    base = Demo(size=4)
    out = settings_from_args(base, args)
    assert out == Demo(count=5, sharp=False, size=None, optics=Optics(na=1.2))
    untouched, _, _ = parse()
    assert settings_from_args(base, untouched) is base


def test_out_of_range_values_are_settings_errors_and_bad_types_are_usage_errors():
    args, _, _ = parse("--demo-count", "50")
    with pytest.raises(SettingsError, match="Demo.count"):
        settings_from_args(Demo(), args)
    with pytest.raises(SystemExit):
        parse("--demo-count", "many")


def test_shared_nested_options_are_added_once():
    parser = argparse.ArgumentParser()
    added: set[str] = set()
    first = add_settings_options(parser, Demo, "a", added=added)
    second = add_settings_options(parser, Demo, "b", added=added)
    assert "Optics.na" in first and "Optics.na" in second
    assert parser.parse_args(["--na", "1.0"]).__dict__["Optics.na"] == 1.0
