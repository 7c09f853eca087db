"""Command-line options generated from settings dataclasses (their :func:`setting` metadata).

Each field becomes ``--<prefix>-<name>`` (or ``--<flag>`` where the metadata names one), with the
field's help, range, unit, choices and default in its help text. Options are absent from the
parsed namespace unless given, so :func:`settings_from_args` changes only what the user typed.
Nested settings (a method's PSF) get their own prefix and are shared by the methods that have
them: ``--psf-sigma`` serves both Wiener and Richardson-Lucy.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable
from typing import Any

from ..core.errors import SettingsError
from ..core.settings import FieldInfo, Settings, settings_fields

_METAVARS = {int: "N", float: "X", str: "TEXT"}


def option_name(info: FieldInfo, prefix: str) -> str:
    """The long option of a field, without ``--``."""
    if info.flag:
        return info.flag
    name = info.name.replace("_", "-")
    return f"{prefix}-{name}" if prefix else name


def dest_name(cls: type[Settings], info: FieldInfo) -> str:
    """Where the parsed value lands: one name per settings class and field."""
    return f"{cls.__name__}.{info.name}"


def _parser_for(info: FieldInfo) -> Any:
    kind = info.kind

    def parse(text: str) -> Any:
        if info.optional and text.lower() in ("none", "auto"):
            return None
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None

    parse.__name__ = kind.__name__  # argparse names the type in its error messages
    return parse


def help_text(info: FieldInfo) -> str:
    """A field's help: its meaning, then its range or choices, unit and default."""
    limits = info.range_text() if not info.choices else ""
    unit = f" {info.unit}" if info.unit else ""
    default = "none" if info.default is None else f"{info.default}{unit}"
    detail = ", ".join(p for p in (limits + unit if limits else "", f"default {default}") if p)
    if info.optional:
        detail += "; 'none' for automatic"
    return f"{info.help} ({detail})"


def _help(info: FieldInfo) -> str:
    return help_text(info).replace("%", "%%")  # argparse formats help with %


def nested_prefix(cls: type[Settings]) -> str:
    """The option prefix of a settings class used inside another (its ``cli_prefix``)."""
    return str(getattr(cls, "cli_prefix", cls.__name__.removesuffix("Settings").lower()))


def add_settings_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type[Settings],
    prefix: str = "",
    *,
    short: dict[str, str] | None = None,
    added: set[str] | None = None,
    hidden: bool = False,
) -> list[str]:
    """Add one option per field of ``cls`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where to add them.
    cls : type
        A :class:`Settings` dataclass.
    prefix : str
        Put before each field's name (``"blind"`` gives ``--blind-noise-margin``).
    short : dict, optional
        Short aliases by long option name (``{"model": "-m"}``).
    added : set of str, optional
        Long options already added (shared nested settings are added once); updated.
    hidden : bool
        Accept the options without listing them in ``--help`` (a short alias's option stays
        listed); ``napari-nssr methods METHOD`` lists them instead.

    Returns
    -------
    list of str
        The destinations of the options that belong to ``cls`` (nested ones included).
    """
    short = short or {}
    added = set() if added is None else added
    dests = []
    for info in settings_fields(cls):
        if info.nested:
            nested = nested_prefix(info.kind)
            dests += add_settings_options(parser, info.kind, nested, short=short, added=added, hidden=hidden)
            continue
        name = option_name(info, prefix)
        dest = dest_name(cls, info)
        dests.append(dest)
        if name in added:
            continue
        added.add(name)
        flags = [f"--{name}"] + ([short[name]] if name in short else [])
        listed = not hidden or name in short
        common: dict[str, Any] = {
            "dest": dest,
            "default": argparse.SUPPRESS,
            "help": _help(info) if listed else argparse.SUPPRESS,
        }
        if info.kind is bool:
            parser.add_argument(*flags, action=argparse.BooleanOptionalAction, **common)
        else:
            metavar = (
                None
                if info.choices
                else ("FILE" if info.path else ("MODEL" if info.extra_types else _METAVARS.get(info.kind)))
            )
            parser.add_argument(*flags, type=_parser_for(info), choices=info.choices, metavar=metavar, **common)
    return dests


def given(args: argparse.Namespace, dests: Iterable[str]) -> list[str]:
    """The destinations among ``dests`` that the user gave on the command line."""
    return [d for d in dests if hasattr(args, d)]


def settings_from_args(base: Settings, args: argparse.Namespace) -> Any:
    """``base`` with every field the user gave on the command line replaced (nested ones too).

    Parameters
    ----------
    base : Settings
        The starting values (defaults, or a preset's).
    args : argparse.Namespace
        Parsed by a parser that :func:`add_settings_options` filled.

    Returns
    -------
    Settings
        A new, validated instance.
    """
    cls = type(base)
    changes: dict[str, Any] = {}
    for info in settings_fields(cls):
        if info.nested:
            nested = settings_from_args(getattr(base, info.name), args)
            if nested != getattr(base, info.name):
                changes[info.name] = nested
            continue
        dest = dest_name(cls, info)
        if hasattr(args, dest):
            changes[info.name] = getattr(args, dest)
    if not changes:
        return base
    try:
        return dataclasses.replace(base, **changes)  # type: ignore[type-var]
    except TypeError as exc:
        raise SettingsError(f"{cls.__name__}: {exc}") from exc
