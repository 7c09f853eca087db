import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.request import Request
from napari_nssr.methods.fixed_filter import Filter, FilterSettings


def test_the_filter_of_a_family_member_is_picked_per_scale(rng):
    x = rng.random((12, 12)).astype(np.float32)
    for scale, name in [(2.0, "chain-x2"), (2.6, "chain-x3"), (4.0, "chain-x4")]:
        prepared = Filter().prepare(x, Request((scale, scale), FilterSettings(model="chain")).plan(x))
        assert prepared.model.name == name and prepared.processor.halo == prepared.model.size // 2
        assert prepared.describe()["model"] == name


def test_models_by_name_and_object(tiny_result, rng):
    x = rng.random((12, 12)).astype(np.float32)
    a = super_resolve(x, 2, "paper")
    b = super_resolve(x, 2, tiny_result.model)
    assert a.shape == b.shape == (24, 24) and not np.allclose(a, b)
    with pytest.raises(SettingsError, match="not a bundled model"):
        super_resolve(x, 2, "no-such-model.safetensors")
    with pytest.raises(SettingsError, match="no model 'blind'"):
        FilterSettings(model="blind")
