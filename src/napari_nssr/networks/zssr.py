"""ZSSR's image-specific network (Shocher, Cohen, Irani, CVPR 2018).

A plain stack of 3x3 convolutions with ReLU between them (8 layers, 64 channels in the paper) that
learns the residual over its interpolated input: ``output = input + body(input)``. The weights
start small (normal, variance ``init_variance / fan_in``), so an untrained network is close to
the interpolation it starts from.
"""

from __future__ import annotations

import math

import torch
from torch import nn

RECEPTIVE_RADIUS_PER_LAYER = 1  # a 3x3 convolution sees one pixel further on each side


class ZSSRNet(nn.Module):
    """Residual CNN over an interpolated single-channel image.

    Parameters
    ----------
    depth : int
        Convolution layers (8 in the paper), at least 2.
    width : int
        Channels of the hidden layers (64 in the paper).
    init_variance : float
        Scale of the initial weights (0.1 in the paper's residual configuration).
    """

    def __init__(self, depth: int = 8, width: int = 64, init_variance: float = 0.1) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        channels = [1] + [width] * (depth - 1) + [1]
        layers: list[nn.Module] = []
        for k, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
            conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=True)
            nn.init.normal_(conv.weight, std=math.sqrt(init_variance / (9 * c_in)))
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)
            layers.append(conv)
            if k < depth - 1:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)
        self.depth = depth

    @property
    def receptive_radius(self) -> int:
        """Pixels of context the network reads on each side of an output pixel."""
        return self.depth * RECEPTIVE_RADIUS_PER_LAYER

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x + body(x)`` for a ``(n, 1, H, W)`` batch of interpolated images."""
        return x + self.body(x)
