"""Signal connections that end when a widget's Qt object is destroyed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from magicgui.widgets import Widget


def connect_while_alive(widget: Widget, connections: Sequence[tuple[Any, Callable[..., Any]]]) -> None:
    """Connect each ``(signal, handler)`` pair and disconnect them all when ``widget`` is destroyed.

    The session registry and the viewer's layer list outlive a closed dock widget; left connected,
    they would call into a deleted Qt object.
    """
    for signal, handler in connections:
        signal.connect(handler)

    def disconnect(*_: object) -> None:
        for signal, handler in connections:
            signal.disconnect(handler)

    widget.native.destroyed.connect(disconnect)
