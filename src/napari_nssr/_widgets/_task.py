"""Run/Cancel buttons, a progress bar and a status line driving one napari thread worker at a time."""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

from magicgui.widgets import Container, Label, ProgressBar, PushButton
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QEvent, QObject

PROGRESS_STEPS = 1000


def wrapped(label: Label) -> Label:
    """``label`` with its text wrapped to the dock's width (a long line would widen the dock)."""
    from qtpy.QtWidgets import QSizePolicy

    label.native.setWordWrap(True)
    # as wide as the dock: at its own size hint a wrapped label folds short texts into narrow lines,
    # which its container does not make room for
    label.native.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return label


class ScrollingDock(Container):
    """A container napari docks inside a scroll area, so a tall form fits a laptop screen.

    napari docks a magicgui widget's ``native``; a scrollable magicgui container keeps its scroll
    area in ``root_native_widget`` and would lose it, so ``native`` is the scroll area here. Qt's
    scroll area sizes its content by size hints, which ignore how tall word-wrapped labels get at
    the dock's width; the content's minimum height is kept at its height for that width instead,
    or the layout would squeeze rows (the buttons) to make room for the wrapped text.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(scrollable=True, **kwargs)
        from qtpy.QtCore import Qt

        # nothing may be out of reach: a form wider than the dock scrolls sideways
        self.root_native_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._content = Container.native.fget(self)  # type: ignore[attr-defined]
        self._fit = _FitHeight(self._content, self.root_native_widget)
        self._content.installEventFilter(self._fit)
        self.root_native_widget.viewport().installEventFilter(self._fit)

    @property
    def native(self) -> Any:
        """The scroll area holding the widgets (what napari docks)."""
        return self.root_native_widget


# a dock asks for its form's width up to this, leaving the canvas room on a 1280 px screen
MAX_DOCK_WIDTH = 420


class _FitHeight(QObject):
    """Keeps a widget's minimum height at its layout's height for the widget's current width, and its
    scroll area at least as wide as the widget needs (up to :data:`MAX_DOCK_WIDTH`)."""

    def __init__(self, widget: Any, area: Any) -> None:
        super().__init__()
        self.widget, self.area = widget, area

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            layout = self.widget.layout()
            if layout is not None and layout.hasHeightForWidth():
                height = layout.totalHeightForWidth(max(self.widget.width(), 1))
                if height != self.widget.minimumHeight():
                    self.widget.setMinimumHeight(height)
            bar = self.area.verticalScrollBar().sizeHint().width()
            width = min(self.widget.minimumSizeHint().width() + bar + 2 * self.area.frameWidth(), MAX_DOCK_WIDTH)
            if width != self.area.minimumWidth():
                self.area.setMinimumWidth(width)
        return False


class TaskFailed(Exception):
    """An error raised inside a worker, re-raised as a plain ``Exception``.

    napari's generator workers treat a ``RuntimeError`` as "the worker was deleted" and only
    warn, so errors such as a diverging training run would vanish without this wrapper.
    """


def reraise_plainly(func: Callable[..., Generator]) -> Callable[..., Generator]:
    """Wrap a generator function so any exception it raises reaches ``errored`` as :class:`TaskFailed`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator:
        try:
            return (yield from func(*args, **kwargs))
        except Exception as exc:
            raise TaskFailed(str(exc) or type(exc).__name__) from exc

    return wrapper


class TaskControls(Container):
    """The controls of one long-running job; ``start`` hands them a generator to run off the GUI thread."""

    def __init__(self, run_text: str) -> None:
        self.run_button = PushButton(text=run_text, tooltip=f"{run_text.lower()} in the background")
        self.cancel_button = PushButton(
            text="Cancel", enabled=False, tooltip="stop after the current step; finished outputs are kept"
        )
        self.progress = ProgressBar(
            min=0, max=PROGRESS_STEPS, value=0, label="Progress", tooltip="how much of the whole job is done"
        )
        self.status = wrapped(Label(value=""))
        buttons = Container(widgets=[self.run_button, self.cancel_button], layout="horizontal", labels=False)
        super().__init__(widgets=[buttons, self.progress, self.status], labels=False)
        self.margins = (0, 0, 0, 0)
        self.cancel_button.changed.connect(self.cancel)
        self.worker: GeneratorWorker | None = None

    @property
    def running(self) -> bool:
        """Whether a job is in flight."""
        return self.worker is not None

    def start(
        self,
        steps: Callable[..., Generator[Any, Any, Any]],
        on_yield: Callable[[Any], None],
        on_return: Callable[[Any], None],
        *args: Any,
    ) -> GeneratorWorker:
        """Run ``steps(*args)`` in a napari thread worker; its yields and return come back on the GUI thread."""
        if self.running:
            raise RuntimeError("a job is already running")
        worker = create_worker(reraise_plainly(steps), *args, _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(on_yield)
        worker.returned.connect(on_return)
        worker.errored.connect(self._errored)
        worker.aborted.connect(self._aborted)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.run_button.enabled = False
        self.cancel_button.enabled = True
        self.progress.value = 0
        self.status.value = "Running..."
        worker.start()
        return worker

    def cancel(self) -> None:
        """Ask the running job to stop after its current step."""
        if self.worker is not None:
            self.worker.quit()
            self.status.value = "Cancelling..."

    def report(self, fraction: float, text: str | None = None) -> None:
        """Show progress (0..1) and optionally a status text."""
        self.progress.value = int(round(min(max(fraction, 0.0), 1.0) * PROGRESS_STEPS))
        if text is not None:
            self.status.value = text

    def fail(self, message: str) -> None:
        """Tell the user something went wrong, in the widget and as a napari notification."""
        self.status.value = f"Error: {message}"
        show_error(message)

    def _errored(self, exc: Exception) -> None:
        self.fail(str(exc))

    def _aborted(self) -> None:
        self.progress.value = 0  # a bar left where it stopped reads as a job still under way
        self.status.value = "Cancelled."
        show_info("Cancelled.")

    def _finished(self) -> None:
        if self.worker is not None and self.worker.abort_requested and self.status.value == "Cancelling...":
            self.status.value = "Cancelled."  # the job ended on its own before it saw the request
        self.worker = None
        self.run_button.enabled = True
        self.cancel_button.enabled = False
