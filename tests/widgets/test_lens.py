"""The live lens in napari: it follows pan, zoom and slice, sits on its source, never works on the GUI
thread, keeps only the newest view, and goes when its layer does."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr.engine import lens as lens_engine

from .conftest import TIMEOUT_MS


def camera(viewer):
    return viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera


def _image(rng, shape=(120, 100)):
    return (rng.random(shape) * 1000).astype(np.float32)


def _lens_on(viewer, widget, layer, zoom=3.0, center=None):
    widget.layers.value = [layer]
    widget.method.value = "blind"
    widget.forms["blind"].fields["denoise"].value = "none"
    camera(viewer).center = center if center is not None else (50.0, 40.0)
    camera(viewer).zoom = zoom
    widget.lens_on.value = True


def _settled(qtbot, widget):
    """Wait until the newest view is shown."""
    qtbot.waitUntil(
        lambda: widget.lens.shown == widget.lens.serial and widget.lens.layers[0] is not None, timeout=TIMEOUT_MS
    )
    return widget.lens.layers[0]


def _pixel_world(layer, position):
    return np.asarray(layer.data_to_world(position), dtype=np.float64)[-2:]


def test_the_lens_sits_on_its_source_and_equals_the_whole_result(viewer, sr_widget, qtbot, rng):
    image = _image(rng)
    source = viewer.add_image(image, scale=(0.5, 0.5), translate=(3.0, -2.0))
    _lens_on(viewer, sr_widget, source, zoom=3.0 / 0.5)
    lens = _settled(qtbot, sr_widget)
    record = lens.metadata["nssr"]
    factor, (r0, c0) = record["scale"], record["origin"]
    assert factor == pytest.approx(3.0)  # screen pixels per source pixel
    # placement: the lens's first pixel is where the whole result's pixel (r0, c0) sits, to 0.05 source px
    step_r, step_c = image.shape[0] / round(image.shape[0] * factor), image.shape[1] / round(image.shape[1] * factor)
    expected = _pixel_world(source, ((r0 + 0.5) * step_r - 0.5, (c0 + 0.5) * step_c - 0.5))
    np.testing.assert_allclose(_pixel_world(lens, (0, 0)), expected, atol=0.05 * 0.5)
    far = np.array(lens.data.shape[:2]) - 1
    expected_far = _pixel_world(source, ((r0 + far[0] + 0.5) * step_r - 0.5, (c0 + far[1] + 0.5) * step_c - 0.5))
    np.testing.assert_allclose(_pixel_world(lens, far), expected_far, atol=0.05 * 0.5)
    whole = np.asarray(super_resolve(image, factor, sr_widget.method_settings()))
    window = whole[r0 : r0 + lens.data.shape[0], c0 : c0 + lens.data.shape[1]]
    assert np.abs(lens.data - window).max() <= 1e-4 * float(whole.max() - whole.min())


def test_it_follows_pan_zoom_and_the_slice(viewer, sr_widget, qtbot, rng):
    stack = np.stack([_image(rng, (400, 400)) * (k + 1) for k in range(3)])
    source = viewer.add_image(stack)
    viewer.dims.set_current_step(0, 0)
    _lens_on(viewer, sr_widget, source, zoom=2.5, center=(0, 200.0, 200.0))
    first = _settled(qtbot, sr_widget)
    origin = tuple(first.metadata["nssr"]["origin"])
    assert origin != (0, 0)  # the view is inside the image, not all of it
    camera(viewer).center = (0, 300.0, 260.0)  # pan
    qtbot.waitUntil(lambda: tuple(sr_widget.lens.layers[0].metadata["nssr"]["origin"]) != origin, timeout=TIMEOUT_MS)
    camera(viewer).zoom = 4.0  # zoom
    qtbot.waitUntil(lambda: sr_widget.lens.layers[0].metadata["nssr"]["scale"] == 4.0, timeout=TIMEOUT_MS)
    level = float(np.mean(sr_widget.lens.layers[0].data))
    viewer.dims.set_current_step(0, 2)  # the third plane is three times as bright
    qtbot.waitUntil(lambda: float(np.mean(sr_widget.lens.layers[0].data)) > 2.5 * level, timeout=TIMEOUT_MS)
    camera(viewer).zoom = 0.8  # below x1: nothing new to show
    qtbot.waitUntil(lambda: not sr_widget.lens.layers[0].visible, timeout=TIMEOUT_MS)


def test_no_lens_work_runs_on_the_gui_thread_and_the_newest_view_wins(viewer, sr_widget, qtbot, rng, monkeypatch):
    threads, views = [], []
    render = lens_engine.Lens.render

    def recording(self, view):
        threads.append(threading.current_thread())
        views.append(view)
        return render(self, view)

    monkeypatch.setattr(lens_engine.Lens, "render", recording)
    source = viewer.add_image(_image(rng, (300, 300)))
    _lens_on(viewer, sr_widget, source, zoom=3.0)
    _settled(qtbot, sr_widget)
    for step in range(20):  # a quick pan: most of these views are dropped before they start
        camera(viewer).center = (150.0, 100.0 + 5 * step)
    lens = _settled(qtbot, sr_widget)
    assert threading.main_thread() not in threads
    assert len(views) < 21  # stale views were dropped
    last = lens_engine.output_window(views[-1].cols, 300, round(300 * 3.0))[0].start
    assert lens.metadata["nssr"]["origin"][1] == last  # what is shown is the last view's


def test_the_lens_goes_with_its_layer_and_off_the_keybinding(viewer, sr_widget, qtbot, rng):
    source = viewer.add_image(_image(rng))
    _lens_on(viewer, sr_widget, source)
    lens = _settled(qtbot, sr_widget)
    viewer.layers.remove(source)
    assert not sr_widget.lens.running and lens not in viewer.layers and not sr_widget.lens_on.value
    assert "removed" in sr_widget.lens_status.value
    other = viewer.add_image(_image(rng))
    sr_widget.layers.value = [other]
    sr_widget._toggle_lens()  # what Shift-L does
    assert sr_widget.lens.running
    _settled(qtbot, sr_widget)
    sr_widget._toggle_lens()
    assert not sr_widget.lens.running and all(layer is None for layer in sr_widget.lens.layers)


def test_compare_shows_bicubic_of_the_same_view_side_by_side(viewer, sr_widget, qtbot, rng):
    image = _image(rng)
    source = viewer.add_image(image)
    _lens_on(viewer, sr_widget, source)
    sr_widget.lens_compare.value = True
    qtbot.waitUntil(
        lambda: sr_widget.lens.layers[1] is not None and sr_widget.lens.shown == sr_widget.lens.serial,
        timeout=TIMEOUT_MS,
    )
    method, bicubic = sr_widget.lens.layers
    assert viewer.canvas.grid.enabled and bicubic.metadata["nssr"]["method"] == "bicubic"
    assert bicubic.metadata["nssr"]["origin"] == method.metadata["nssr"]["origin"]
    assert not np.allclose(bicubic.data, method.data)
    sr_widget.lens_compare.value = False
    assert not viewer.canvas.grid.enabled and sr_widget.lens.layers[1] is None


def test_the_lens_layers_are_not_offered_to_super_resolve(viewer, sr_widget, qtbot, rng):
    source = viewer.add_image(_image(rng))
    _lens_on(viewer, sr_widget, source)
    lens = _settled(qtbot, sr_widget)
    sr_widget.reset_choices()
    offered = list(sr_widget.layers.choices)  # the layers themselves
    assert source in offered and lens not in offered
