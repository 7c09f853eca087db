"""ZSSR's network: a residual stack of convolutions whose receptive field is known."""

import pytest
import torch

from napari_nssr.networks.zssr import ZSSRNet


def test_the_network_learns_a_residual_over_its_input():
    net = ZSSRNet(depth=4, width=8)
    for p in net.body.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(1, 1, 10, 12)
    assert torch.equal(net(x), x)  # no residual: the interpolation itself


def test_the_receptive_field_is_the_depth():
    net = ZSSRNet(depth=5, width=4)
    assert net.receptive_radius == 5
    x = torch.zeros(1, 1, 21, 21)
    x[0, 0, 10, 10] = 1.0
    with torch.no_grad():
        change = (net(x) - net(torch.zeros_like(x)))[0, 0]
    reached = torch.nonzero(change.abs() > 0)
    assert int((reached - 10).abs().max()) <= 5


def test_too_shallow_is_refused():
    with pytest.raises(ValueError, match="depth"):
        ZSSRNet(depth=1)
