"""The Super-resolve widget end to end, opened through the manifest."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr._widgets import ModelWidget, SuperResolveWidget


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


def test_full_run_overlays_source_and_records_metadata(viewer, sr_widget, qtbot, rng, finish):
    data = (rng.random((20, 30)) * 4000).astype(np.uint16)
    layer = viewer.add_image(
        data, name="cells", scale=(0.5, 2.0), translate=(3.0, -4.0), colormap="magma", contrast_limits=(100, 3000)
    )
    layer.blending = "additive"
    viewer.layers.selection.active = layer
    assert sr_widget.layers.value == [layer]
    assert sr_widget.method.value == "blind"  # the default: robust to noise and unknown blur
    sr_widget.method.value = "filter"
    sr_widget.model.value = "chain"
    finish(sr_widget.task, sr_widget.run())
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
    assert meta["method"] == "filter" and meta["settings"] == {"model": "chain"}
    assert meta["model"] == "chain-x2"  # the per-scale family picks the x2 model
    np.testing.assert_array_equal(out.data, super_resolve(data, 2, "chain"))
    assert "Done: 1 layer" in sr_widget.task.status.value


def test_per_scale_rows_and_batch(viewer, sr_widget, qtbot, rng, finish):
    a = viewer.add_image(rng.random((12, 16)).astype(np.float32), name="a")
    b = viewer.add_image(rng.random((10, 10)).astype(np.float32), name="b")
    viewer.layers.selection.update({a, b})
    set_scales(sr_widget, x2=(True, 1.0), x3=(True, 0.0), custom=(True, 2.0))
    sr_widget.scale_rows[3].factor.value = 1.5
    finish(sr_widget.task, sr_widget.run())
    outs = {layer.name: layer for layer in new_layers(viewer, 2)}
    assert set(outs) == {f"{n} x{s} ({k})" for n in "ab" for s, k in [(2, "NSSR"), (3, "bicubic"), (1.5, "NSSR")]}
    assert outs["a x1.5 (NSSR)"].data.shape == (18, 24) and outs["b x3 (bicubic)"].data.shape == (30, 30)
    assert outs["a x1.5 (NSSR)"].metadata["nssr"]["strength"] == 2.0
    assert outs["b x3 (bicubic)"].metadata["nssr"]["method"] == "bicubic"
    np.testing.assert_allclose(outs["b x3 (bicubic)"].scale, (10 / 30, 10 / 30))


def test_rgb_stack_and_dask_layers(viewer, sr_widget, qtbot, rng, finish):
    rgb = viewer.add_image((rng.random((8, 10, 3)) * 255).astype(np.uint8), name="rgb", rgb=True)
    stack = viewer.add_image(rng.random((3, 2, 8, 9)).astype(np.float32), name="stack", scale=(5, 7, 1, 1))
    lazy = viewer.add_image(da.from_array(rng.random((4, 8, 8)).astype(np.float32), chunks=(1, 8, 8)), name="lazy")
    viewer.layers.selection.update({rgb, stack, lazy})
    sr_widget.method.value = "filter"
    sr_widget.model.value = "chain"
    finish(sr_widget.task, sr_widget.run())
    outs = {layer.name: layer for layer in new_layers(viewer, 3)}
    assert outs["rgb x2 (NSSR)"].rgb and outs["rgb x2 (NSSR)"].data.shape == (16, 20, 3)
    assert outs["stack x2 (NSSR)"].data.shape == (3, 2, 16, 18)
    np.testing.assert_allclose(outs["stack x2 (NSSR)"].scale, (5, 7, 0.5, 0.5))
    lazy_out = outs["lazy x2 (NSSR)"]
    assert isinstance(lazy_out.data, da.Array) and lazy_out.data.shape == (4, 16, 16)
    np.testing.assert_allclose(np.asarray(lazy_out.data), super_resolve(np.asarray(lazy.data), 2, "chain"), atol=1e-6)


def test_cancel_leaves_no_layers(viewer, sr_widget, qtbot, finish):
    layer = viewer.add_image(np.zeros((400, 32, 32), np.float32), name="long")
    viewer.layers.selection.active = layer
    worker = sr_widget.run()
    sr_widget.task.cancel()
    finish(sr_widget.task, worker)
    assert len(viewer.layers) == 1
    assert sr_widget.task.status.value == "Cancelled." and sr_widget.task.progress.value == 0
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


def test_nan_image_reports_an_error_and_adds_nothing(viewer, sr_widget, qtbot, finish):
    data = np.ones((8, 8), np.float32)
    data[3, 3] = np.nan
    viewer.layers.selection.active = viewer.add_image(data, name="nan")
    finish(sr_widget.task, sr_widget.run())
    assert "NaN" in sr_widget.task.status.value and len(viewer.layers) == 1
    assert np.isnan(viewer.layers["nan"].data[3, 3])  # the user's data is untouched


def test_labels_layers_and_empty_choices_are_refused(viewer, sr_widget):
    image = viewer.add_image(np.zeros((8, 8), np.float32), name="img")
    viewer.layers.selection.active = image
    assert sr_widget.layers.value == [image]
    labels = viewer.add_labels(np.zeros((8, 8), np.uint8), name="seg")
    assert labels not in sr_widget.layers.choices
    with pytest.raises(ValueError, match="Labels layer"):
        sr_widget.plan([labels])
    viewer.layers.selection.active = labels
    # the previously chosen image is not kept silently: the widget says what happened
    assert sr_widget.layers.value == [] and "Labels layer" in sr_widget.task.status.value
    sr_widget.layers.value = [image]  # images chosen in the widget's list: the note goes (issue #28, item 8)
    assert "Labels layer" not in sr_widget.task.status.value
    sr_widget.layers.value = []
    assert sr_widget.run() is None and "choose at least one image layer" in sr_widget.task.status.value
    viewer.layers.selection.active = viewer.add_image(np.zeros((8, 8), np.float32))
    set_scales(sr_widget)
    assert sr_widget.run() is None and "enable at least one scale" in sr_widget.task.status.value


def test_sample_data_with_ground_truth_scores(viewer, sr_widget, qtbot, finish):
    viewer.open_sample("napari-nssr", "nuclei")
    gt, lr = viewer.layers["nuclei ground truth"], viewer.layers["nuclei x2 degraded"]
    np.testing.assert_allclose(lr.data_to_world((0, 0)), (0.5, 0.5))
    viewer.layers.selection.active = lr
    sr_widget.reference.value = gt
    finish(sr_widget.task, sr_widget.run())
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


def test_blind_mode_records_its_estimate(viewer, sr_widget, qtbot, finish):
    viewer.open_sample("napari-nssr", "astronaut")
    viewer.layers.selection.active = viewer.layers["astronaut x2 degraded"]
    assert sr_widget.method.value == "blind"
    sr_widget.forms["blind"].fields["noise_margin"].value = 2.0
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["astronaut x2 degraded x2 (NSSR)"]
    meta = out.metadata["nssr"]
    assert meta["model"].startswith("blind-x2 (blur ") and meta["settings"]["noise_margin"] == 2.0
    assert {"major_hr", "minor_hr", "angle_deg", "noise", "noise_model", "alpha", "planes"} <= set(meta["estimate"])
    # and the widget says it: blur, noise and spectrum, for the scientist reading the result
    found = [line for line in sr_widget.scores.value.splitlines() if "found" in line]
    assert found == [f"astronaut x2 degraded x2 (NSSR): found {meta['estimate']['summary']}"]
    assert "blur" in found[0] and "noise" in found[0] and "spectral slope" in found[0]


def test_each_method_has_its_settings_form_and_runs(viewer, sr_widget, finish, rng):
    layer = viewer.add_image(rng.random((16, 18)).astype(np.float32), name="img")
    viewer.layers.selection.active = layer
    methods = {"blind", "psf", "filter", "guided", "bicubic", "wiener", "richardson-lucy", "zssr", "ike"}
    assert set(sr_widget.forms) == methods
    sr_widget.method.value = "wiener"
    assert not sr_widget.forms["wiener"].native.isHidden() and sr_widget.forms["blind"].native.isHidden()
    sr_widget.forms["wiener"].fields["balance"].value = 0.3
    sr_widget.forms["wiener"].nested["psf"].fields["sigma"].value = 1.2
    assert "regularisation" in sr_widget.forms["wiener"].fields["balance"].tooltip
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["img x2 (NSSR)"]
    from napari_nssr import PSFSettings
    from napari_nssr.methods import WienerSettings

    expected = super_resolve(layer.data, 2, WienerSettings(psf=PSFSettings(sigma=1.2), balance=0.3))
    np.testing.assert_allclose(out.data, expected, atol=1e-6)
    assert out.metadata["nssr"]["method"] == "wiener" and out.metadata["nssr"]["settings"]["balance"] == 0.3


def test_out_of_range_settings_are_refused_before_work(viewer, sr_widget):
    viewer.layers.selection.active = viewer.add_image(np.zeros((8, 8), np.float32), name="img")
    sr_widget.method.value = "richardson-lucy"
    psf = sr_widget.forms["richardson-lucy"].nested["psf"]
    psf.fields["source"].value = "file"  # no file chosen
    assert sr_widget.run() is None and "path" in sr_widget.task.status.value and len(viewer.layers) == 1


def test_outputs_are_not_offered_as_inputs_again(viewer, sr_widget, finish, rng):
    layer = viewer.add_image(rng.random((10, 10)).astype(np.float32), name="src")
    viewer.layers.selection.active = layer
    finish(sr_widget.task, sr_widget.run())
    output = viewer.layers["src x2 (NSSR)"]
    assert output in viewer.layers.selection  # napari selects the new layer...
    assert sr_widget.layers.value == [layer]  # ...but the widget keeps the source


def test_optics_recorded_in_a_file_are_offered_to_the_psf_method(viewer, sr_widget, finish, tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "io_images_tests", Path(__file__).parents[1] / "io" / "test_images.py"
    )
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    path = helpers.write_ome(tmp_path / "scope.ome.tif")
    (layer,) = viewer.open(path, plugin="napari-nssr")
    np.testing.assert_allclose(layer.scale, (70, 65))  # the file's pixel size, in its unit
    assert str(layer.units[-1]) == "nanometer"
    viewer.layers.selection.active = layer
    sr_widget.method.value = "psf"
    sr_widget.offer_optics()
    fields = sr_widget.forms["psf"].nested["psf"].fields
    assert fields["numerical_aperture"].value == pytest.approx(1.3) and fields["pixel_um"].value == pytest.approx(
        0.0675
    )
    assert "scope" in sr_widget.optics_note.value
    fields["wavelength_um"].value = 0.55  # editable
    finish(sr_widget.task, sr_widget.run())
    meta = viewer.layers["scope.ome x2 (NSSR)"].metadata["nssr"]
    assert meta["method"] == "psf" and meta["settings"]["psf"]["wavelength_um"] == pytest.approx(0.55)
    assert meta["settings"]["psf"]["numerical_aperture"] == pytest.approx(1.3) and meta["estimate"]["psf_width_hr"] > 0


def test_both_docks_fit_a_laptop_screen(viewer, sr_widget, model_widget):
    # 1280 x 800 with napari's layer list and controls shown: the docks scroll instead of growing
    window = viewer.window._qt_window
    window.resize(1280, 800)
    model_widget.source.value = "train"
    for widget in (sr_widget, model_widget):
        hint, minimum = widget.native.sizeHint(), widget.native.minimumSizeHint()
        assert minimum.height() < 200 and hint.width() <= 450, (type(widget).__name__, hint, minimum)
    assert window.minimumSizeHint().height() <= 800 and window.minimumSizeHint().width() <= 1280


def test_every_control_has_a_tooltip(sr_widget, model_widget):
    from magicgui.widgets import FileEdit, Label
    from magicgui.widgets.bases import ButtonWidget, ValueWidget

    def controls(container):
        for child in container:
            if isinstance(child, FileEdit):
                yield child
            elif hasattr(child, "__iter__") and not isinstance(child, ValueWidget):
                yield from controls(child)
            elif isinstance(child, (ValueWidget, ButtonWidget)) and not isinstance(child, Label):
                yield child

    missing = [
        f"{type(c).__name__} {c.name or c.label}"
        for w in (sr_widget, model_widget)
        for c in controls(w)
        if not c.tooltip
    ]
    assert not missing, missing


def test_scores_show_the_gain_and_say_when_a_method_does_worse_than_bicubic(viewer, sr_widget, finish, monkeypatch):
    toasts = []
    monkeypatch.setattr("napari_nssr._widgets._super_resolve.show_warning", toasts.append)
    viewer.open_sample("napari-nssr", "nuclei")
    viewer.layers.selection.active = viewer.layers["nuclei x2 degraded"]
    sr_widget.reference.value = viewer.layers["nuclei ground truth"]
    set_scales(sr_widget, x2=(True, 1.0), x3=(True, 1.0))  # x3 has no ground truth of its size
    sr_widget.method.value = "wiener"  # with a PSF far wider than the real blur: clearly the wrong model
    sr_widget.forms["wiener"].nested["psf"].fields["sigma"].value = 6.0
    sr_widget.forms["wiener"].fields["balance"].value = 0.001
    finish(sr_widget.task, sr_widget.run())
    lines = sr_widget.scores.value.splitlines()
    assert "over bicubic" in lines[0] and "below plain bicubic" in lines[0]
    assert "not scored" in lines[1]
    assert len(toasts) == 1 and "below plain bicubic" in toasts[0]  # one warning, no "no scores" toasts


def test_an_output_whose_source_was_deleted_is_not_added(viewer, sr_widget):
    from napari_nssr._widgets._super_resolve import Job, JobDone
    from napari_nssr.core.request import Request
    from napari_nssr.methods import BicubicSettings

    layer = viewer.add_image(np.zeros((8, 8), np.float32), name="gone")
    plan = Request((2.0, 2.0), BicubicSettings()).plan(layer.data)
    job = Job("gone", layer.data, layer, plan, {"name": "gone x2 (NSSR)"})
    viewer.layers.remove(layer)
    sr_widget._on_yield(JobDone(job, np.zeros((16, 16), np.float32)))
    assert "gone x2 (NSSR)" not in viewer.layers and "deleted" in sr_widget.scores.value


def test_large_outputs_are_shown_as_a_pyramid(viewer, sr_widget, finish, monkeypatch, rng):
    from napari_nssr._widgets import _super_resolve

    monkeypatch.setattr(_super_resolve, "PYRAMID_ABOVE", 32)
    monkeypatch.setattr(_super_resolve, "PYRAMID_SMALLEST", 16)
    layer = viewer.add_image(rng.random((24, 20)).astype(np.float32), name="big")
    viewer.layers.selection.active = layer
    sr_widget.method.value = "bicubic"
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["big x2 (NSSR)"]
    assert out.multiscale and [level.shape for level in out.data] == [(48, 40), (24, 20), (12, 10)]
    np.testing.assert_array_equal(out.data[0], super_resolve(layer.data, 2, "bicubic"))


def test_the_model_widget_shows_the_model_super_resolve_used(viewer, sr_widget, model_widget, finish, rng):
    assert "blind" in model_widget.in_use.value  # what Super-resolve will use, before any run
    layer = viewer.add_image(rng.random((40, 40)).astype(np.float32), name="img")
    viewer.layers.selection.active = layer
    finish(sr_widget.task, sr_widget.run())
    used = viewer.layers["img x2 (NSSR)"].metadata["nssr"]["model"]
    assert model_widget.current is not None and model_widget.current.name == used
    assert used in sr_widget.in_use.value and used in model_widget.in_use.value


def test_a_result_too_big_for_memory_stays_lazy(viewer, sr_widget, finish, monkeypatch, rng):
    from napari_nssr.core import request

    data = rng.random((40, 40)).astype(np.float32)
    expected = super_resolve(data, 2)
    monkeypatch.setattr(request, "MAX_OUTPUT_BYTES", 1000)
    viewer.layers.selection.active = viewer.add_image(data, name="wide")
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["wide x2 (NSSR)"]
    assert isinstance(out.data, da.Array)  # computed where it is viewed, never whole
    np.testing.assert_allclose(np.asarray(out.data), expected, atol=1e-5)


def test_a_lazy_pyramid_layer_gives_a_lazy_pyramid_over_the_source_levels(viewer, sr_widget, finish, monkeypatch, rng):
    from napari_nssr._widgets import _super_resolve

    monkeypatch.setattr(_super_resolve, "PYRAMID_ABOVE", 32)
    full = da.from_array(rng.random((40, 36)).astype(np.float32), chunks=20)
    layer = viewer.add_image([full, full[::2, ::2]], multiscale=True, name="scene")
    viewer.layers.selection.active = layer
    sr_widget.method.value = "filter"
    sr_widget.model.value = "default"
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["scene x2 (NSSR)"]
    # full resolution computed lazily from the source's level 0; coarser levels are the source's own
    assert out.multiscale and [level.shape for level in out.data] == [(80, 72), (40, 36), (20, 18)]
    assert isinstance(out.data[0], da.Array)
    np.testing.assert_allclose(np.asarray(out.data[0]), super_resolve(np.asarray(full), 2, "default"), atol=1e-5)
    np.testing.assert_allclose(out.scale, (0.5, 0.5))


def test_a_geotiff_layer_keeps_its_nodata_and_saves_on_the_map(viewer, sr_widget, finish, tmp_path, monkeypatch):
    import rasterio
    from rasterio.transform import from_origin

    import napari_nssr._widgets._super_resolve as widget_module

    said = []
    monkeypatch.setattr(widget_module, "show_info", said.append)

    image = np.full((40, 50), 800, np.uint16)
    image[:, :10] = 0  # zero fill declared as nodata
    with rasterio.open(
        tmp_path / "g.tif",
        "w",
        driver="GTiff",
        height=40,
        width=50,
        count=1,
        dtype="uint16",
        crs="EPSG:32618",
        transform=from_origin(500000, 4000000, 30, 30),
        nodata=0,
    ) as dst:
        dst.write(image, 1)
    (layer,) = viewer.open(tmp_path / "g.tif", plugin="napari-nssr")
    viewer.layers.selection.active = layer
    sr_widget.method.value = "filter"
    sr_widget.model.value = "default"
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["g x2 (NSSR)"]
    assert (out.data[:, :20] == 0).all() and (out.data[:, 20:] > 700).all()  # no bleed, nodata stays
    viewer.layers.selection.active = out
    written = viewer.layers.save(str(tmp_path / "g_x2.tif"), selected=True, plugin="napari-nssr")
    with rasterio.open(tmp_path / "g.tif") as a, rasterio.open(written[0]) as b:
        assert b.bounds == a.bounds and b.res == (15.0, 15.0) and b.nodata == 0
    # issue #28, item 4: the widget saves it on the map itself, and said so when the layer was added
    assert sr_widget.save_geotiff_button.enabled and any("napari's own TIFF writer drops" in line for line in said)
    saved = sr_widget.save_geotiff(str(tmp_path / "from_widget.tif"))
    with rasterio.open(tmp_path / "g.tif") as a, rasterio.open(saved[0]) as b:
        assert b.bounds == a.bounds and b.crs == a.crs and b.res == (15.0, 15.0) and b.nodata == 0
    assert "Saved 1 layer as GeoTIFF" in sr_widget.task.status.value
    plain = viewer.add_image(np.zeros((8, 8), np.uint16), name="plain")
    viewer.layers.selection.active = plain
    assert sr_widget.save_geotiff(str(tmp_path / "plain.tif")) == [] and "select the georeferenced" in (
        sr_widget.task.status.value
    )


def test_zssr_trains_in_the_worker_with_progress(viewer, sr_widget, finish, rng):
    layer = viewer.add_image(rng.random((16, 18)).astype(np.float32), name="img")
    viewer.layers.selection.active = layer
    sr_widget.method.value = "zssr"
    form = sr_widget.forms["zssr"]
    assert "depth" not in form.fields  # the paper's architecture: an advanced setting, CLI only
    form.fields["iterations"].value = 30
    form.fields["crop"].value = 16
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["img x2 (NSSR)"]
    assert out.data.shape == (32, 36) and out.metadata["nssr"]["method"] == "zssr"
    assert out.metadata["nssr"]["steps"][0]["iterations"] == 30
    # the worker's body reports the training, iteration by iteration, before the tiles
    from napari_nssr._widgets._super_resolve import Step, run_jobs

    steps = [item for item in run_jobs(sr_widget.plan()) if isinstance(item, Step)]
    texts = [step.text for step in steps]
    assert any("ZSSR x2: iteration 30 of at most 30" in text for text in texts), texts
    fractions = [step.fraction for step in steps]
    assert fractions == sorted(fractions)  # the bar only moves forward


def test_ike_trains_in_the_worker_with_progress(viewer, sr_widget, finish, rng):
    layer = viewer.add_image(rng.random((20, 22)).astype(np.float32), name="img")
    viewer.layers.selection.active = layer
    sr_widget.method.value = "ike"
    form = sr_widget.forms["ike"]
    assert "blocks" not in form.fields and "iterations" in form.fields  # architecture: CLI only
    form.fields["iterations"].value = 20
    form.fields["crop"].value = 16
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers["img x2 (NSSR)"]
    assert out.data.shape == (40, 44) and out.metadata["nssr"]["method"] == "ike"
    assert out.metadata["nssr"]["iterations"] == 20
    from napari_nssr._widgets._super_resolve import Step, run_jobs

    steps = [item for item in run_jobs(sr_widget.plan()) if isinstance(item, Step)]
    assert any("IKE x2: iteration 20" in step.text for step in steps)


def test_the_run_button_and_its_progress_are_in_view_at_1280_by_800_with_any_form(viewer, sr_widget, qtbot):
    # issue #28, item 1: the bar was below the fold (the dock's content 860 px tall in 729 px)
    from qtpy.QtCore import QPoint

    viewer.window._qt_window.resize(1280, 800)
    viewer.window._qt_window.show()
    area = sr_widget.native
    for name in sr_widget.method.choices:
        sr_widget.method.value = name
        qtbot.wait(50)
        area.verticalScrollBar().setValue(0)  # as the dock opens
        visible = area.viewport().height()
        assert visible > 300  # the dock has a usable height at this size
        for widget in (sr_widget.task.run_button, sr_widget.task.progress, sr_widget.task.status, sr_widget.scores):
            top = widget.native.mapTo(area.viewport(), QPoint(0, 0)).y()
            assert 0 <= top and top + widget.native.height() <= visible, (name, widget, top, visible)


def test_the_psf_form_says_psf_and_um_and_shows_what_its_source_uses(viewer, sr_widget, qtbot):
    # issue #28, item 7: a "Psf" heading, "um", confocal fields for a widefield PSF
    viewer.window._qt_window.resize(1280, 800)
    viewer.window._qt_window.show()
    sr_widget.method.value = "psf"
    psf = sr_widget.forms["psf"].nested["psf"]
    texts = [getattr(w, "value", "") for w in psf if isinstance(getattr(w, "value", None), str)]
    assert any("<b>PSF</b>" in str(t) for t in texts) and not any("<b>Psf</b>" in str(t) for t in texts)
    assert "µm" in psf.fields["wavelength_um"].label and "(um)" not in psf.fields["wavelength_um"].label
    for source, shown, hidden in (
        ("widefield", {"numerical_aperture", "wavelength_um"}, {"pinhole_au", "excitation_um", "path", "sigma"}),
        ("confocal", {"pinhole_au", "excitation_um"}, {"path", "sigma"}),
        ("gaussian", {"sigma"}, {"numerical_aperture", "pinhole_au", "path"}),
        ("file", {"path", "sampled_at"}, {"numerical_aperture", "sigma"}),
    ):
        psf.fields["source"].value = source
        qtbot.wait(30)
        assert all(psf.fields[n].visible for n in shown) and not any(psf.fields[n].visible for n in hidden), source
