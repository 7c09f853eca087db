import pytest
import torch

from napari_nssr.core.errors import ModelFileError
from napari_nssr.models.model import DC_GAIN_RANGE, MAX_NOISE_GAIN, NSSRModel


def test_a_model_keeps_a_float32_cpu_filter_and_describes_itself():
    model = NSSRModel(filter=torch.full((3, 3), 1 / 9, dtype=torch.float64), name="box", kind="closed_form")
    assert model.filter.dtype == torch.float32 and model.size == 3
    assert model.dc_gain == pytest.approx(1.0) and model.noise_gain == pytest.approx(1 / 3)
    info = model.describe()
    assert info["name"] == "box" and info["filter_size"] == 3 and info["gallery"]["family"] == "anisotropic_gaussian"


def test_models_compare_by_identity():
    # a drop-down looks its value up by equality: comparing tensors would be ambiguous
    a = NSSRModel(filter=torch.full((3, 3), 1 / 9))
    b = NSSRModel(filter=torch.full((3, 3), 1 / 9))
    assert a == a and a != b and a in [a, b] and {a: 1}[a] == 1


@pytest.mark.parametrize(
    "filter, message",
    [
        (torch.full((3, 3), float("nan")), "NaN"),
        (torch.ones(2, 2) / 4, "odd and square"),
        (torch.ones(3, 3, dtype=torch.int32), "floating point"),
        (torch.full((3, 3), DC_GAIN_RANGE[1] / 8), "sum to"),
        (torch.tensor([[0.0, -2000.0, 0.0], [0.0, 4001.0, 0.0], [0.0, -2000.0, 0.0]]), "multiplies noise"),
    ],
)
def test_unusable_filters_are_refused(filter, message):
    with pytest.raises(ModelFileError, match=message):
        NSSRModel(filter=filter)
    assert MAX_NOISE_GAIN < 4001


def test_unknown_kind_is_refused():
    with pytest.raises(ModelFileError, match="kind"):
        NSSRModel(filter=torch.ones(1, 1), kind="magic")
