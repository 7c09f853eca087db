"""magicgui fields generated from a settings dataclass (its :func:`setting` metadata).

One field per setting, with the setting's help, unit and range as tooltip; numbers keep their
precision (Qt's default of 2 decimals would round 0.175 to 0.17); optional numbers get an "auto"
check box beside them; nested settings (a PSF) become a titled sub-form. Tuned constants marked
``advanced`` stay at their values unless ``advanced=True``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from magicgui.types import FileDialogMode
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, FloatSpinBox, Label, LineEdit, SpinBox, Widget

from ..core.settings import FieldInfo, Settings, settings_fields

AUTO = "auto"
UNBOUNDED = 1e9


#: how a unit is written for people (settings use ASCII names)
UNIT_SHOWN = {"um": "µm"}


def shown_unit(unit: str | None) -> str:
    """``unit`` as a label writes it (``um`` as ``µm``)."""
    return UNIT_SHOWN.get(unit or "", unit or "")


def tooltip(info: FieldInfo) -> str:
    """The field's help with its unit and range, for a tooltip."""
    limits = info.range_text()
    unit = f" ({shown_unit(info.unit)})" if info.unit else ""
    extra = f"; {limits}" if limits and not info.choices else ""
    auto = "; tick auto to let the method choose" if info.optional and info.kind in (int, float) else ""
    return f"{info.help}{unit}{extra}{auto}"


def _decimals(info: FieldInfo, step: float) -> int:
    smallest = min(v for v in (step, abs(info.default or 0) or step, info.min or step) if v > 0)
    return int(min(8, max(2, -math.floor(math.log10(smallest)) + 2)))


class OptionalNumber(Container):
    """A number that may be left to the method: an "auto" check box and the box it disables.

    ``value`` is ``None`` while auto is ticked, the number otherwise; setting a number unticks it.
    """

    def __init__(self, box: Widget, label: str) -> None:
        self.auto = CheckBox(text=AUTO, value=True, tooltip="let the method choose this value")
        self.box = box
        super().__init__(widgets=[self.auto, box], layout="horizontal", labels=False, label=label)
        self.auto.changed.connect(self._sync)
        self._sync()

    def _sync(self, *_: object) -> None:
        self.box.enabled = not self.auto.value

    @property
    def value(self) -> Any:
        """``None`` (auto) or the number."""
        return None if self.auto.value else self.box.value  # type: ignore[attr-defined]

    @value.setter
    def value(self, number: Any) -> None:
        self.auto.value = number is None
        if number is not None:
            self.box.value = number  # type: ignore[attr-defined]


def _number(info: FieldInfo) -> Widget:
    integer = info.kind is int
    step = info.step or (1 if integer else _default_step(info))
    low = info.min if info.min is not None else -UNBOUNDED
    high = info.max if info.max is not None else UNBOUNDED
    label = info.title + (f" ({shown_unit(info.unit)})" if info.unit else "")
    if integer:
        box: Widget = SpinBox(name=info.name, label=label, min=int(low), max=int(high), step=int(step))
    else:
        box = FloatSpinBox(name=info.name, label=label, step=step)
        box.native.setDecimals(_decimals(info, step))
        box.min, box.max = low, high
    if info.optional:
        return OptionalNumber(box, label)
    return box


def _default_step(info: FieldInfo) -> float:
    magnitude = abs(info.default) if isinstance(info.default, (int, float)) and info.default else 1.0
    return float(10 ** math.floor(math.log10(magnitude)) / 10)


def compact(combo: ComboBox, characters: int = 16) -> ComboBox:
    """A drop-down as wide as ``characters`` of text, not as its longest entry (the list it opens
    still shows every entry whole): long entries would widen the whole dock."""
    from qtpy.QtWidgets import QComboBox

    combo.native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.native.setMinimumContentsLength(characters)
    return combo


def field_widget(info: FieldInfo) -> Widget:
    """The magicgui widget for one (non-nested) settings field."""
    if info.kind is bool:
        widget: Widget = CheckBox(name=info.name, text=info.title)
    elif info.choices:
        widget = compact(ComboBox(name=info.name, label=info.title, choices=list(info.choices)))
    elif info.kind is str and info.path:
        widget = FileEdit(name=info.name, label=info.title, mode=FileDialogMode.EXISTING_FILE)
    elif info.kind is str:
        widget = LineEdit(name=info.name, label=info.title)
    else:
        widget = _number(info)
    widget.tooltip = tooltip(info)
    if isinstance(widget, OptionalNumber):
        widget.box.tooltip = widget.tooltip
    return widget


class SettingsForm(Container):
    """Fields for one settings class; :meth:`settings` reads them back as a validated instance.

    Parameters
    ----------
    cls : type
        The :class:`Settings` dataclass.
    value : Settings, optional
        Initial values (the class defaults otherwise).
    advanced : bool
        Also show the fields marked ``advanced``.
    overrides : dict, optional
        Widgets to use for some fields instead of the generated ones (a model drop-down).
    title : str, optional
        A heading above the fields.
    """

    def __init__(
        self,
        cls: type[Settings],
        value: Settings | None = None,
        *,
        advanced: bool = False,
        overrides: dict[str, Widget] | None = None,
        title: str | None = None,
    ) -> None:
        self.settings_type = cls
        self.base = value if value is not None else cls()
        self.fields: dict[str, Any] = {}  # value widgets by field name
        self.nested: dict[str, SettingsForm] = {}
        overrides = overrides or {}
        widgets: list[Widget] = [Label(value=f"<b>{title}</b>")] if title else []
        for info in settings_fields(cls):
            if info.advanced and not advanced and info.name not in overrides:
                continue
            if info.nested:
                form = SettingsForm(info.kind, getattr(self.base, info.name), advanced=advanced, title=info.title)
                form.tooltip = info.help
                self.nested[info.name] = form
                widgets.append(form)
                continue
            widget = overrides.get(info.name) or field_widget(info)
            if not widget.tooltip:
                widget.tooltip = tooltip(info)
            self.fields[info.name] = widget
            widgets.append(widget)
        super().__init__(widgets=widgets)
        self.margins = (0, 0, 0, 0)  # nested forms would indent, and widen the dock, by their margins
        self.set_settings(self.base)

    def set_settings(self, value: Settings) -> None:
        """Show ``value`` in the fields (and keep it as the base for the hidden ones)."""
        self.base = value
        for name, widget in self.fields.items():
            current = getattr(value, name)
            if current is None and isinstance(widget, FileEdit):
                widget.line_edit.value = ""  # FileEdit.value = "" would mean the working directory
            elif isinstance(widget, ComboBox) and current not in [c for c in widget.choices]:
                continue  # a value the drop-down cannot show (a model object): leave the drop-down as it is
            else:
                widget.value = current
        for name, form in self.nested.items():
            form.set_settings(getattr(value, name))

    def settings(self) -> Any:
        """The settings in the fields, validated.

        Raises
        ------
        SettingsError
            With a message naming the field, for a value out of range.
        """
        infos = {info.name: info for info in settings_fields(self.settings_type)}
        changes: dict[str, Any] = {}
        for name, widget in self.fields.items():
            info, value = infos[name], widget.value
            if info.path:
                # an empty file field reads back as the working directory: its text says what was typed
                text = widget.line_edit.value.strip() if isinstance(widget, FileEdit) else str(value or "")
                value = text or None
            changes[name] = value
        for name, form in self.nested.items():
            changes[name] = form.settings()
        return dataclasses.replace(self.base, **changes)  # type: ignore[type-var]

    def show_only(self, names: set[str]) -> None:
        """Show only the fields in ``names`` (the others keep their values)."""
        for name, widget in self.fields.items():
            widget.visible = name in names
