"""Fixtures of the GUI tests (pytest-qt, napari's make_napari_viewer, headless under Xvfb)."""

from __future__ import annotations

import pytest

napari = pytest.importorskip("napari")

from napari_nssr._widgets import ModelWidget, SuperResolveWidget  # noqa: E402
from napari_nssr._widgets._session import SESSION_MODELS  # noqa: E402

TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True)
def _fresh_session_models():
    SESSION_MODELS.clear()
    yield
    SESSION_MODELS.clear()


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


@pytest.fixture
def sr_widget(viewer) -> SuperResolveWidget:
    _, widget = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")
    return widget


@pytest.fixture
def model_widget(viewer) -> ModelWidget:
    _, widget = viewer.window.add_plugin_dock_widget("napari-nssr", "Model (load, train, inspect)")
    return widget


@pytest.fixture
def finish(qtbot):
    """Wait until a task's worker has finished and its GUI-side handlers have run.

    Waiting on ``worker.finished`` itself would race: a worker that ends before the wait connects
    to that signal is never seen.
    """

    def wait(task, worker):
        assert worker is not None, "the widget refused to start"
        qtbot.waitUntil(lambda: not task.running, timeout=TIMEOUT_MS)

    return wait
