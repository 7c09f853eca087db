"""Widget fields generated from settings metadata."""

from __future__ import annotations

import pytest

from napari_nssr._widgets._settings_form import SettingsForm
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.kernels import GallerySettings
from napari_nssr.methods.blind.solve import BlindSettings
from napari_nssr.methods.deconvolution import WienerSettings
from napari_nssr.training.trainer import TrainSettings


def test_values_keep_their_precision_and_read_back_exactly(qtbot):
    form = SettingsForm(GallerySettings, GallerySettings(sigma_min=0.175, count=12))
    assert form.settings() == GallerySettings(sigma_min=0.175, count=12)
    learning = SettingsForm(TrainSettings)
    assert learning.settings().learning_rate == 1e-3


def test_advanced_fields_stay_out_unless_asked_and_keep_their_values(qtbot):
    base = BlindSettings(hedge_low_x2=0.5)
    form = SettingsForm(BlindSettings, base)
    assert "noise_margin" in form.fields and "hedge_low_x2" not in form.fields
    assert form.settings().hedge_low_x2 == 0.5
    assert "hedge_low_x2" in SettingsForm(BlindSettings, advanced=True).fields


def test_optional_numbers_show_auto_and_nested_settings_a_sub_form(qtbot):
    form = SettingsForm(BlindSettings)
    size = form.fields["filter_size"]
    assert size.auto.value and not size.box.enabled and form.settings().filter_size is None
    size.value = 9
    assert not size.auto.value and size.box.enabled and form.settings().filter_size == 9
    size.auto.value = True
    assert form.settings().filter_size is None
    wiener = SettingsForm(WienerSettings)
    wiener.nested["psf"].fields["sigma"].value = 2.5
    assert wiener.settings().psf.sigma == 2.5


def test_tooltips_give_the_help_unit_and_range(qtbot):
    form = SettingsForm(GallerySettings)
    assert (
        "(µm)" in form.fields["wavelength_um"].tooltip and "0.2 <= value <= 2" in form.fields["wavelength_um"].tooltip
    )


def test_bad_combinations_are_settings_errors_naming_the_field(qtbot):
    form = SettingsForm(GallerySettings)
    form.fields["sigma_min"].value, form.fields["sigma_max"].value = 5.0, 1.0
    with pytest.raises(SettingsError, match="sigma_min"):
        form.settings()
