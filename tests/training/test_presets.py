import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.models.bundled import bundled_models, load_model
from napari_nssr.training.presets import PAPER_RECIPE, PRESETS, train_preset


def test_every_bundled_model_has_the_preset_that_made_it():
    assert set(PRESETS) == set(bundled_models())
    for name, preset in PRESETS.items():
        model = load_model(name)
        assert model.gallery == preset.gallery and model.loss == preset.loss and model.chain == preset.chain


def test_the_paper_recipe_is_the_paper_s():
    assert (PAPER_RECIPE.learning_rate, PAPER_RECIPE.batch_size, PAPER_RECIPE.init) == (0.1, 32, "default")


def test_train_preset_takes_overrides_and_refuses_unknown_presets():
    result = train_preset("paper", epochs=2, device="cpu")
    assert result.model.name == "paper" and len(result.history) == 2
    with pytest.raises(SettingsError, match="unknown preset"):
        train_preset("nope")
