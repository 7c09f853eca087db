"""The one place that resolves what callers pass as ``method``."""

import pytest

from napari_nssr import make_request, prepare
from napari_nssr.core.errors import SettingsError
from napari_nssr.methods.blind.solve import BlindSettings
from napari_nssr.methods.deconvolution import WienerSettings
from napari_nssr.methods.fixed_filter import FilterSettings
from napari_nssr.methods.resolve import DEFAULT_METHOD, method_menu, resolve_method
from napari_nssr.models.bundled import load_model


def test_none_means_the_default_method_everywhere():
    method, settings = resolve_method(None)
    assert method.name == DEFAULT_METHOD == "blind" and settings == BlindSettings()
    assert method_menu()[0] == DEFAULT_METHOD


@pytest.mark.parametrize(
    "spec, name, settings",
    [
        ("wiener", "wiener", WienerSettings()),
        ("blind", "blind", BlindSettings()),
        (WienerSettings(balance=0.2), "wiener", WienerSettings(balance=0.2)),
        ("chain", "filter", FilterSettings(model="chain")),
        ("paper", "filter", FilterSettings(model="paper")),
    ],
)
def test_names_settings_and_model_names(spec, name, settings):
    method, resolved = resolve_method(spec)
    assert method.name == name and resolved == settings


def test_models_and_files_mean_the_filter_method(tiny_result, tmp_path):
    from napari_nssr.models.files import save_model

    method, settings = resolve_method(tiny_result.model)
    assert method.name == "filter" and settings.model is tiny_result.model
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    assert resolve_method(path)[1] == FilterSettings(model=str(path))


def test_unknown_names_list_methods_and_models():
    with pytest.raises(SettingsError, match="no model .sharpest.*methods: blind, psf, filter"):
        resolve_method("sharpest")
    with pytest.raises(SettingsError, match="got int"):
        resolve_method(3)


def test_a_request_resolves_its_method_before_it_looks_at_the_image(rng):
    image = rng.random((20, 20)).astype("float32")
    prepared = prepare(image, make_request(2, "default"))
    assert prepared.method == "filter" and prepared.model.name == load_model("default").name
    with pytest.raises(SettingsError):
        make_request(2, FilterSettings(model="nope"))
