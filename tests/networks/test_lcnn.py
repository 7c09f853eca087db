import pytest
import torch

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.filters import convolve, delta_filter
from napari_nssr.networks.lcnn import LCNN, LCNNSettings


def test_default_architecture_matches_paper():
    net = LCNN()
    assert len(net.layers) == 5
    assert sum(p.numel() for p in net.parameters()) == 28224
    assert all(layer.bias is None for layer in net.layers)
    assert net.settings.filter_size == 11


@pytest.mark.parametrize(
    "settings", [LCNNSettings(), LCNNSettings(depth=3, width=4, kernel_size=5), LCNNSettings(1, 1, 3)]
)
def test_folded_filter_equals_network_away_from_borders(settings):
    torch.manual_seed(0)
    net = LCNN(settings).double()  # default random init: asymmetric, so a flipped fold would fail
    x = torch.randn(2, 1, 40, 33, dtype=torch.float64)
    with torch.no_grad():
        h = net.fold()
        r = h.shape[0] // 2
        full = net(x)[..., r:-r, r:-r]
        folded = convolve(x, h, padding="valid")
    assert h.shape == (settings.filter_size,) * 2
    torch.testing.assert_close(full, folded, rtol=1e-10, atol=1e-10)


def test_near_identity_init_folds_to_almost_delta():
    net = LCNN()
    net.reset_near_identity(noise=0.0)
    torch.testing.assert_close(net.fold(), delta_filter(11))


@pytest.mark.parametrize(
    "bad", [dict(depth=0), dict(width=-1), dict(kernel_size=4), dict(depth=2.5), dict(depth=64, kernel_size=5)]
)
def test_bad_architecture(bad):
    with pytest.raises(SettingsError):
        LCNNSettings(**bad)
