from magicgui.widgets import Label
from psygnal import Signal

from napari_nssr._widgets._lifetime import connect_while_alive


class Source:
    fired = Signal()


def test_connections_end_with_the_widget(qtbot):
    source, calls = Source(), []
    widget = Label(value="x")
    connect_while_alive(widget, [(source.fired, lambda: calls.append(1))])
    source.fired.emit()
    widget.native.destroyed.emit()
    source.fired.emit()
    assert calls == [1]
