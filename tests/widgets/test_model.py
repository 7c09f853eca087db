"""The Model widget end to end: load, save, train from generated fields, hand the model over."""

from __future__ import annotations

import numpy as np
import pytest

from napari_nssr import load_model, save_model
from napari_nssr._widgets import ModelWidget


def test_bundled_model_load_shows_kernels_and_becomes_active(viewer, model_widget, sr_widget):
    model_widget.bundled.value = "paper"
    model = model_widget.load()
    assert model.name == "paper" and sr_widget.model.value == "paper" and sr_widget.method.value == "filter"
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


def test_train_tiny_model_in_the_widget(viewer, model_widget, sr_widget, qtbot, monkeypatch, finish):
    model_widget.source.value = "train"
    assert model_widget.load_box.native.isHidden() and not model_widget.train_box.native.isHidden()
    gallery, optimiser = model_widget.gallery_form.fields, model_widget.train_form.fields
    gallery["count"].value, gallery["size"].value, optimiser["epochs"].value = 24, 11, 30
    model_widget.model_name.value = "widget-model"
    steps = []
    show_step = ModelWidget._on_train_step
    # patched (on the class: magicgui containers treat attribute deletion as widget removal) before
    # the worker starts, so no early report can be missed
    monkeypatch.setattr(ModelWidget, "_on_train_step", lambda self, step: (steps.append(step), show_step(self, step)))
    finish(model_widget.train_task, model_widget.train())
    assert model_widget.current is not None and model_widget.current.name == "widget-model"
    assert model_widget.current.gallery.count == 24 and model_widget.current.training["settings"]["epochs"] == 30
    assert sr_widget.model.value is model_widget.current
    setup, epochs = [s for s in steps if s.epoch == 0], [s for s in steps if s.epoch > 0]
    assert [step.epoch for step in epochs] == [1, 10, 20, 30] and all(np.isfinite(step.loss) for step in epochs)
    # the gallery's statistics are reported as they accumulate: the bar moves before the first epoch
    assert setup and setup[0].phase.startswith("drawing") and setup[-1].phase.startswith("kernel statistics")
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "Trained in" in model_widget.train_task.status.value


def test_training_cancel_and_bad_settings(viewer, model_widget, qtbot, tmp_path, finish):
    model_widget.source.value = "train"
    model_widget.gallery_form.fields["count"].value = 48
    model_widget.train_form.fields["epochs"].value = 100_000
    worker = model_widget.train()
    model_widget.train_task.cancel()
    finish(model_widget.train_task, worker)
    assert model_widget.current is None and model_widget.train_task.status.value == "Cancelled."
    gallery = model_widget.gallery_form.fields
    gallery["family"].value = "file"
    assert model_widget.train() is None and "needs a PSF" in model_widget.train_task.status.value
    gallery["family"].value = "anisotropic_gaussian"
    gallery["sigma_min"].value, gallery["sigma_max"].value = 5.0, 1.0
    assert model_widget.train() is None and "sigma_min" in model_widget.train_task.status.value


def test_training_from_a_psf_file(viewer, model_widget, qtbot, tmp_path, finish):
    psf = np.zeros((9, 9), np.float32)
    psf[3:6, 2:7] = 1.0
    np.save(tmp_path / "psf.npy", psf)
    model_widget.source.value = "train"
    gallery = model_widget.gallery_form.fields
    gallery["family"].value = "file"
    gallery["kernel_path"].value = tmp_path / "psf.npy"
    gallery["size"].value, model_widget.train_form.fields["epochs"].value = 9, 20
    finish(model_widget.train_task, model_widget.train())
    assert model_widget.current is not None and model_widget.current.gallery.kernel_path.endswith("psf.npy")


@pytest.mark.parametrize("preset", ["default", "paper", "chain-x3"])
def test_presets_fill_the_training_fields_exactly(model_widget, preset):
    from napari_nssr.training.presets import PRESETS

    model_widget.preset.value = preset
    gallery, loss, train, chain = model_widget.settings()
    expected = PRESETS[preset]
    assert gallery == expected.gallery  # no value rounded by a spin box (0.175 must stay 0.175)
    assert loss == expected.loss and chain == expected.chain
    assert (train.epochs, train.learning_rate) == (expected.train.epochs, expected.train.learning_rate)


def test_widefield_optics_fields_reach_the_gallery(model_widget):
    model_widget.source.value = "train"
    fields = model_widget.gallery_form.fields
    fields["family"].value = "widefield"
    assert not fields["numerical_aperture"].native.isHidden() and fields["kernel_path"].native.isHidden()
    assert fields["sigma_min"].native.isHidden() and fields["scale"].native.isHidden()  # unused by widefield
    fields["numerical_aperture"].value, fields["wavelength_um"].value = 1.3, 0.585
    fields["pixel_um"].value, fields["defocus_um"].value = 0.065, 0.4
    gallery, *_ = model_widget.settings()
    assert gallery.family == "widefield"
    assert (gallery.numerical_aperture, gallery.wavelength_um, gallery.pixel_um, gallery.defocus_um) == (
        1.3,
        0.585,
        0.065,
        0.4,
    )
    fields["numerical_aperture"].value = 1.9  # above the immersion index: refused with a message
    assert model_widget.train() is None and "numerical_aperture" in model_widget.train_task.status.value


def test_every_training_field_has_a_tooltip_with_its_unit(model_widget):
    for form in (model_widget.gallery_form, model_widget.train_form, model_widget.loss_form):
        for name, widget in form.fields.items():
            assert widget.tooltip, name
    assert "(µm)" in model_widget.gallery_form.fields["wavelength_um"].tooltip


def test_a_second_model_reaches_super_resolve(viewer, model_widget, sr_widget, tiny_result, tmp_path):
    # two session models in the drop-down: magicgui looks the new one up by equality, which used to
    # compare the models' tensors and raise "Boolean value of Tensor ... is ambiguous"
    first = save_model(tiny_result.model, tmp_path / "first.safetensors")
    second = save_model(tiny_result.model, tmp_path / "second.safetensors")
    model_widget.source.value = "file"
    for path in (first, second):
        model_widget.path.value = path
        loaded = model_widget.load()
        assert sr_widget.method.value == "filter" and sr_widget.model.value is loaded
    assert len([c for c in sr_widget.model.choices if not isinstance(c, str)]) == 2


def test_a_file_model_is_listed_under_its_file_name_and_a_failed_load_says_what_is_shown(
    viewer, model_widget, sr_widget, tiny_result, tmp_path
):
    path = save_model(tiny_result.model, tmp_path / "my-default.safetensors")
    model_widget.source.value = "file"
    model_widget.path.value = path
    loaded = model_widget.load()
    from napari_nssr._widgets._session import model_choices

    assert [label for label, value in model_choices() if value is loaded] == ["my-default (session)"]
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    model_widget.path.value = tmp_path / "bad.safetensors"
    assert model_widget.load() is None
    assert "could not load" in model_widget.info.value and "still tiny" in model_widget.info.value


def test_the_chain_family_can_be_chosen_here(viewer, model_widget, sr_widget):
    model_widget.bundled.value = "chain"
    model = model_widget.load()
    assert model.name == "chain-x2" and sr_widget.method.value == "filter" and sr_widget.model.value == "chain"
