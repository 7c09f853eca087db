"""End-to-end tests of the napari widgets (pytest-qt, napari's make_napari_viewer, headless under Xvfb)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

napari = pytest.importorskip("napari")

from napari_nssr import load_model, save_model  # noqa: E402
from napari_nssr._widgets import ModelWidget, SuperResolveWidget  # noqa: E402
from napari_nssr._widgets._session import SESSION_MODELS  # noqa: E402
from napari_nssr.inference import super_resolve  # noqa: E402

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


def finish(qtbot, task, worker):
    """Wait until the task's worker has finished and its GUI-side handlers have run.

    Waiting on ``worker.finished`` itself would race: a worker that ends before the wait connects
    to that signal is never seen.
    """
    assert worker is not None, "the widget refused to start"
    qtbot.waitUntil(lambda: not task.running, timeout=TIMEOUT_MS)


def set_scales(widget: SuperResolveWidget, **rows: tuple[bool, float]) -> None:
    """rows by name x2/x3/x4/custom: (enabled, strength); the custom factor is set separately."""
    names = ["x2", "x3", "x4", "custom"]
    for name, row in zip(names, widget.scale_rows):
        enabled, strength = rows.get(name, (False, 1.0))
        row.use.value, row.strength.value = enabled, strength


def new_layers(viewer, before: int):
    return list(viewer.layers)[before:]


def test_manifest_widgets_and_samples_are_registered(viewer, sr_widget, model_widget):
    assert isinstance(sr_widget, SuperResolveWidget) and isinstance(model_widget, ModelWidget)
    import npe2

    manifest = npe2.PluginManager.instance().get_manifest("napari-nssr")
    assert {w.display_name for w in manifest.contributions.widgets} == {"Super-resolve", "Model (load, train, inspect)"}
    assert len(manifest.contributions.sample_data) >= 2


def test_full_run_overlays_source_and_records_metadata(viewer, sr_widget, qtbot, rng):
    data = (rng.random((20, 30)) * 4000).astype(np.uint16)
    layer = viewer.add_image(
        data, name="cells", scale=(0.5, 2.0), translate=(3.0, -4.0), colormap="magma", contrast_limits=(100, 3000)
    )
    layer.blending = "additive"
    viewer.layers.selection.active = layer
    assert sr_widget.layers.value == [layer]
    assert sr_widget.model.value == "blind"  # the default: robust to noise and unknown blur
    sr_widget.model.value = "chain"
    finish(qtbot, sr_widget.task, sr_widget.run())
    (out,) = new_layers(viewer, 1)
    assert out.name == "cells x2 (NSSR)"
    assert out.data.shape == (40, 60) and out.data.dtype == np.uint16
    np.testing.assert_allclose(out.scale, (0.25, 1.0))
    np.testing.assert_allclose(out.translate, (3.0 - 0.125, -4.0 - 0.5))
    # output pixel centres sit where the upsampler put them in the source
    for j in [(0, 0), (39, 59), (11, 7)]:
        source = (np.array(j) + 0.5) / 2 - 0.5
        np.testing.assert_allclose(out.data_to_world(j), layer.data_to_world(source))
    assert out.colormap.name == "magma" and tuple(out.contrast_limits) == (100, 3000) and out.blending == "additive"
    meta = out.metadata["nssr"]
    assert meta["scale"] == 2 and meta["strength"] == 1 and meta["source"] == "cells"
    assert meta["model"] == "chain-x2"  # the recommended per-scale family picks the x2 model
    np.testing.assert_array_equal(out.data, super_resolve(data, 2, "chain"))
    assert "Done: 1 layer" in sr_widget.task.status.value


def test_per_scale_rows_and_batch(viewer, sr_widget, qtbot, rng):
    a = viewer.add_image(rng.random((12, 16)).astype(np.float32), name="a")
    b = viewer.add_image(rng.random((10, 10)).astype(np.float32), name="b")
    viewer.layers.selection.update({a, b})
    set_scales(sr_widget, x2=(True, 1.0), x3=(True, 0.0), custom=(True, 2.0))
    sr_widget.scale_rows[3].factor.value = 1.5
    finish(qtbot, sr_widget.task, sr_widget.run())
    outs = {layer.name: layer for layer in new_layers(viewer, 2)}
    assert set(outs) == {f"{n} x{s} ({k})" for n in "ab" for s, k in [(2, "NSSR"), (3, "bicubic"), (1.5, "NSSR")]}
    assert outs["a x1.5 (NSSR)"].data.shape == (18, 24) and outs["b x3 (bicubic)"].data.shape == (30, 30)
    assert outs["a x1.5 (NSSR)"].metadata["nssr"]["strength"] == 2.0
    assert outs["b x3 (bicubic)"].metadata["nssr"]["model"] == "bicubic"
    np.testing.assert_allclose(outs["b x3 (bicubic)"].scale, (10 / 30, 10 / 30))


def test_rgb_stack_and_dask_layers(viewer, sr_widget, qtbot, rng):
    rgb = viewer.add_image((rng.random((8, 10, 3)) * 255).astype(np.uint8), name="rgb", rgb=True)
    stack = viewer.add_image(rng.random((3, 2, 8, 9)).astype(np.float32), name="stack", scale=(5, 7, 1, 1))
    lazy = viewer.add_image(da.from_array(rng.random((4, 8, 8)).astype(np.float32), chunks=(1, 8, 8)), name="lazy")
    viewer.layers.selection.update({rgb, stack, lazy})
    sr_widget.model.value = "chain"
    finish(qtbot, sr_widget.task, sr_widget.run())
    outs = {layer.name: layer for layer in new_layers(viewer, 3)}
    assert outs["rgb x2 (NSSR)"].rgb and outs["rgb x2 (NSSR)"].data.shape == (16, 20, 3)
    assert outs["stack x2 (NSSR)"].data.shape == (3, 2, 16, 18)
    np.testing.assert_allclose(outs["stack x2 (NSSR)"].scale, (5, 7, 0.5, 0.5))
    lazy_out = outs["lazy x2 (NSSR)"]
    assert isinstance(lazy_out.data, da.Array) and lazy_out.data.shape == (4, 16, 16)
    np.testing.assert_allclose(np.asarray(lazy_out.data), super_resolve(np.asarray(lazy.data), 2, "chain"), atol=1e-6)


def test_cancel_leaves_no_layers(viewer, sr_widget, qtbot):
    layer = viewer.add_image(np.zeros((400, 32, 32), np.float32), name="long")
    viewer.layers.selection.active = layer
    worker = sr_widget.run()
    sr_widget.task.cancel()
    finish(qtbot, sr_widget.task, worker)
    assert len(viewer.layers) == 1
    assert sr_widget.task.status.value == "Cancelled."
    assert sr_widget.task.run_button.enabled and not sr_widget.task.cancel_button.enabled


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((1, 40), np.float32), "at least 2x2"),
        (np.zeros((8, 8), bool), "integer or floating point"),
    ],
)
def test_unusable_images_are_refused_before_any_work(viewer, sr_widget, data, message):
    viewer.layers.selection.active = viewer.add_image(data, name="bad")
    assert sr_widget.run() is None
    assert message in sr_widget.task.status.value and len(viewer.layers) == 1


def test_nan_image_reports_an_error_and_adds_nothing(viewer, sr_widget, qtbot):
    data = np.ones((8, 8), np.float32)
    data[3, 3] = np.nan
    viewer.layers.selection.active = viewer.add_image(data, name="nan")
    finish(qtbot, sr_widget.task, sr_widget.run())
    assert "NaN" in sr_widget.task.status.value and len(viewer.layers) == 1
    assert np.isnan(viewer.layers["nan"].data[3, 3])  # the user's data is untouched


def test_labels_layers_and_empty_choices_are_refused(viewer, sr_widget):
    labels = viewer.add_labels(np.zeros((8, 8), np.uint8), name="seg")
    assert labels not in sr_widget.layers.choices
    with pytest.raises(ValueError, match="Labels layer"):
        sr_widget.plan([labels])
    viewer.layers.selection.active = labels
    assert sr_widget.run() is None and "choose at least one image layer" in sr_widget.task.status.value
    viewer.layers.selection.active = viewer.add_image(np.zeros((8, 8), np.float32))
    set_scales(sr_widget)
    assert sr_widget.run() is None and "enable at least one scale" in sr_widget.task.status.value


def test_sample_data_with_ground_truth_scores(viewer, sr_widget, qtbot):
    viewer.open_sample("napari-nssr", "nuclei")
    gt, lr = viewer.layers["nuclei ground truth"], viewer.layers["nuclei x2 degraded"]
    np.testing.assert_allclose(lr.data_to_world((0, 0)), (0.5, 0.5))
    viewer.layers.selection.active = lr
    sr_widget.reference.value = gt
    finish(qtbot, sr_widget.task, sr_widget.run())
    out = viewer.layers["nuclei x2 degraded x2 (NSSR)"]
    assert out.data.shape == gt.data.shape
    np.testing.assert_allclose(out.data_to_world((0, 0)), gt.data_to_world((0, 0)))
    (result,) = sr_widget.results
    assert result.scores[0] > result.bicubic_scores[0] + 0.5 and result.scores[1] > result.bicubic_scores[1]
    assert "PSNR" in sr_widget.scores.value and "bicubic" in sr_widget.scores.value


@pytest.mark.parametrize("key", ["tissue", "astronaut", "galaxies"])
def test_other_samples_open_with_ground_truth(viewer, key):
    viewer.open_sample("napari-nssr", key)
    assert len(viewer.layers) == 2 and any("ground truth" in layer.name for layer in viewer.layers)
    gt, lr = viewer.layers
    # the outer pixel edges coincide in world coordinates
    for edge_lr, edge_gt in [
        ((-0.5, -0.5), (-0.5, -0.5)),
        (np.array(lr.data.shape[:2]) - 0.5, np.array(gt.data.shape[:2]) - 0.5),
    ]:
        np.testing.assert_allclose(lr.data_to_world(edge_lr), gt.data_to_world(edge_gt))


def test_bundled_model_load_shows_kernels_and_becomes_active(viewer, model_widget, sr_widget):
    model_widget.bundled.value = "paper"
    model = model_widget.load()
    assert model.name == "paper" and sr_widget.model.value == "paper"
    assert model_widget.filter_view.value.shape == (11 * 12, 11 * 12, 3)
    assert "DC gain" in model_widget.info.value
    model_widget.add_kernel_layers()
    np.testing.assert_array_equal(viewer.layers["paper inverse filter"].data, model.filter.numpy())


def test_model_file_load_save_and_refusals(viewer, model_widget, sr_widget, tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "tiny.safetensors")
    model_widget.source.value = "file"
    model_widget.path.value = path
    loaded = model_widget.load()
    assert loaded.name == "tiny" and sr_widget.model.value is loaded
    model_widget.save_path.value = tmp_path / "copy"
    saved = model_widget.save()
    assert saved == tmp_path / "copy.safetensors" and load_model(saved).name == "tiny"
    precious = tmp_path / "notes.safetensors"
    precious.write_bytes(b"not a model")
    model_widget.save_path.value = precious
    assert model_widget.save() is None and precious.read_bytes() == b"not a model"
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 64)
    model_widget.path.value = corrupt
    assert model_widget.load() is None and "Error" in model_widget.info.value
    assert model_widget.current is loaded


def test_train_tiny_model_in_the_widget(viewer, model_widget, sr_widget, qtbot, monkeypatch):
    model_widget.source.value = "train"
    assert model_widget.load_box.native.isHidden() and not model_widget.train_box.native.isHidden()
    model_widget.count.value, model_widget.size.value, model_widget.epochs.value = 24, 11, 30
    model_widget.model_name.value = "widget-model"
    steps = []
    show_step = ModelWidget._on_train_step
    # patched (on the class: magicgui containers treat attribute deletion as widget removal) before
    # the worker starts, so no early report can be missed
    monkeypatch.setattr(ModelWidget, "_on_train_step", lambda self, step: (steps.append(step), show_step(self, step)))
    finish(qtbot, model_widget.train_task, model_widget.train())
    assert model_widget.current is not None and model_widget.current.name == "widget-model"
    assert model_widget.current.gallery.count == 24 and model_widget.current.training["settings"]["epochs"] == 30
    assert sr_widget.model.value is model_widget.current
    assert [step.epoch for step in steps] == [10, 20, 30] and all(np.isfinite(step.loss) for step in steps)
    assert "Trained in" in model_widget.train_task.status.value


def test_training_cancel_and_bad_settings(viewer, model_widget, qtbot, tmp_path):
    model_widget.source.value = "train"
    model_widget.count.value, model_widget.epochs.value = 48, 100_000
    worker = model_widget.train()
    model_widget.train_task.cancel()
    finish(qtbot, model_widget.train_task, worker)
    assert model_widget.current is None and model_widget.train_task.status.value == "Cancelled."
    model_widget.family.value = "file"
    assert model_widget.train() is None and "needs a PSF" in model_widget.train_task.status.value
    model_widget.family.value = "anisotropic_gaussian"
    model_widget.sigma_min.value, model_widget.sigma_max.value = 5.0, 1.0
    assert model_widget.train() is None and "sigma_min" in model_widget.train_task.status.value


def test_training_from_a_psf_file(viewer, model_widget, qtbot, tmp_path):
    psf = np.zeros((9, 9), np.float32)
    psf[3:6, 2:7] = 1.0
    np.save(tmp_path / "psf.npy", psf)
    model_widget.source.value = "train"
    model_widget.family.value = "file"
    model_widget.psf_path.value = tmp_path / "psf.npy"
    model_widget.size.value, model_widget.epochs.value = 9, 20
    finish(qtbot, model_widget.train_task, model_widget.train())
    assert model_widget.current is not None and model_widget.current.gallery.kernel_path.endswith("psf.npy")


@pytest.mark.parametrize("preset", ["default", "paper", "chain-x3"])
def test_presets_fill_the_training_fields_exactly(model_widget, preset):
    from napari_nssr.training import PRESETS

    model_widget.preset.value = preset
    gallery, loss, train, chain = model_widget.settings()
    expected = PRESETS[preset]
    assert gallery == expected.gallery  # no value rounded by a spin box (0.175 must stay 0.175)
    assert loss == expected.loss and chain == expected.chain
    assert (train.epochs, train.learning_rate) == (expected.train.epochs, expected.train.learning_rate)


def test_blind_mode_records_its_estimate(viewer, sr_widget, qtbot):
    viewer.open_sample("napari-nssr", "astronaut")
    viewer.layers.selection.active = viewer.layers["astronaut x2 degraded"]
    sr_widget.model.value = "blind"
    finish(qtbot, sr_widget.task, sr_widget.run())
    out = viewer.layers["astronaut x2 degraded x2 (NSSR)"]
    assert out.metadata["nssr"]["model"].startswith("blind-x2 (blur ")


def test_widefield_optics_fields_reach_the_gallery(model_widget):
    model_widget.source.value = "train"
    model_widget.family.value = "widefield"
    assert not model_widget.optics.native.isHidden() and model_widget.psf_path.native.isHidden()
    model_widget.numerical_aperture.value, model_widget.wavelength.value = 1.3, 0.585
    model_widget.pixel_size.value, model_widget.defocus.value = 0.065, 0.4
    gallery, *_ = model_widget.settings()
    assert gallery.family == "widefield"
    assert (gallery.numerical_aperture, gallery.wavelength_um, gallery.pixel_um, gallery.defocus_um) == (
        1.3,
        0.585,
        0.065,
        0.4,
    )
    model_widget.numerical_aperture.value = 1.9  # above the immersion index: refused with a message
    assert model_widget.train() is None and "numerical_aperture" in model_widget.train_task.status.value
