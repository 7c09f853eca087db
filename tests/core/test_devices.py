import pytest
import torch

from napari_nssr.core.devices import available_devices, resolve_device
from napari_nssr.core.errors import SettingsError


def test_auto_and_cpu():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert "cpu" in available_devices()


@pytest.mark.parametrize("name", ["tpu", "mps", "gpu0"])
def test_unknown_devices_are_refused(name):
    with pytest.raises(SettingsError):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_cuda_without_cuda():
    with pytest.raises(SettingsError, match="CUDA"):
        resolve_device("cuda")
