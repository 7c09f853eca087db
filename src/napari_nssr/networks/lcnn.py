"""The L-CNN (a stack of bias-free linear convolutions) and its folding into one filter.

Convention: a filter is stored as its *impulse response* ``h``; applying it means true
convolution, ``y = x (*) h``. Because every layer is linear and shift-invariant, the whole
network equals convolution with ``h = net(delta)`` (KernelGAN's ``calc_curr_k`` trick).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.errors import SettingsError
from ..core.settings import Settings, setting


@dataclass(frozen=True)
class LCNNSettings(Settings):
    """Architecture of the linear CNN: ``depth`` conv layers of ``width`` channels, no activations."""

    depth: int = setting(5, "number of convolution layers", min=1, max=64, label="Layers")
    width: int = setting(32, "channels of the hidden layers", min=1, max=1024, label="Channels")
    kernel_size: int = setting(3, "side of each layer's kernel (odd)", min=1, max=129, unit="px")

    def check(self) -> None:
        """The kernel side is odd and the folded filter at most 129 pixels wide."""
        if self.kernel_size % 2 == 0:
            raise SettingsError(f"L-CNN kernel_size must be odd, got {self.kernel_size}")
        if self.filter_size > 129:
            raise SettingsError(f"the L-CNN's folded filter would be {self.filter_size} px wide; at most 129")

    @property
    def filter_size(self) -> int:
        """Side of the one equivalent filter: the network's receptive field."""
        return self.depth * (self.kernel_size - 1) + 1


class LCNN(nn.Module):
    """Linear CNN of the NSSR-DIL paper: same-size output, zero padding, no bias, no activation."""

    def __init__(self, settings: LCNNSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or LCNNSettings()
        d, w, k = self.settings.depth, self.settings.width, self.settings.kernel_size
        chans = [1] + [w] * (d - 1) + [1]
        self.layers: nn.ModuleList = nn.ModuleList(
            nn.Conv2d(cin, cout, k, padding=k // 2, bias=False) for cin, cout in zip(chans[:-1], chans[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the network to ``(n, 1, h, w)`` images."""
        for layer in self.layers:
            x = layer(x)
        return x

    def reset_near_identity(self, noise: float = 1e-2, generator: torch.Generator | None = None) -> None:
        """Start from the identity map: channel 0 passes a delta through, the rest is small noise.

        The paper's default init starts far from any inverse filter and, with lr 0.1, diverges;
        a near-identity start sits next to the optimum (an inverse blur kernel is delta-like).
        """
        centre = self.settings.kernel_size // 2
        with torch.no_grad():
            for weight in self.parameters():  # one kernel tensor per layer (no biases)
                weight.normal_(0.0, noise, generator=generator)
                weight[0, 0, centre, centre] += 1.0

    def fold(self) -> torch.Tensor:
        """The network's one equivalent filter (impulse response), differentiable.

        An impulse in a canvas of the receptive field's size is never cropped by the per-layer
        zero padding, so the result is exact.
        """
        size = self.settings.filter_size
        param = next(self.parameters())
        delta = torch.zeros(1, 1, size, size, dtype=param.dtype, device=param.device)
        delta[0, 0, size // 2, size // 2] = 1.0
        return self(delta)[0, 0]
