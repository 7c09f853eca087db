"""IKE's networks: IKENet's inverse undoes its forward pass, and untrained it shrinks by box averaging."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_nssr.networks.ike import IKENet, PatchDiscriminator, ZUpscale, block_mean_basis


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_block_mean_basis_averages_and_keeps_the_rest_orthonormal(scale):
    basis = block_mean_basis(scale)
    np.testing.assert_allclose(basis[0].numpy(), 1.0 / scale**2)
    detail = basis[1:]
    np.testing.assert_allclose((detail @ detail.T).numpy(), np.eye(scale**2 - 1), atol=1e-12)
    np.testing.assert_allclose((detail @ basis[0]).numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-7), (torch.float32, 1e-5)])
def test_the_inverse_undoes_the_forward_pass_whatever_the_weights(scale, dtype, tolerance):
    torch.manual_seed(scale)
    net = IKENet(scale, blocks=4, width=8).to(dtype)
    for parameter in net.parameters():  # far from the identity it starts as
        torch.nn.init.normal_(parameter, std=0.1)
    x = torch.rand(2, 1, 6 * scale, 5 * scale, dtype=dtype)
    low, z = net(x)
    assert low.shape == (2, 1, 6, 5) and z.shape == (2, scale**2 - 1, 6, 5)
    back = net.inverse(low, z)
    assert float((back - x).abs().max()) < tolerance  # the issue asks for 1e-5


def test_untrained_it_shrinks_by_box_averaging_and_its_upscaling_shrinks_back(rng):
    net, z_up = IKENet(2, width=8), ZUpscale(2, width=8)
    x = torch.from_numpy(rng.random((1, 1, 16, 20)).astype(np.float32))
    low, _ = net(x)
    np.testing.assert_allclose(low.detach().numpy(), F.avg_pool2d(x, 2).numpy(), atol=1e-6)
    with torch.no_grad():
        high = net.inverse(low, z_up(low, net))
    # the predicted detail is the bicubic upsampling's; the block means are the input's own
    np.testing.assert_allclose(F.avg_pool2d(high, 2).numpy(), low.detach().numpy(), atol=1e-5)


def test_the_discriminator_scores_patches():
    scores = PatchDiscriminator(width=8, layers=3)(torch.rand(2, 1, 20, 20))
    assert scores.shape == (2, 1, 14, 14) and float(scores.min()) >= 0 and float(scores.max()) <= 1
