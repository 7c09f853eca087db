"""The L-CNN (a stack of bias-free linear convolutions) and its folding into one filter.

Convention: a filter is stored as its *impulse response* ``h``; applying it means true
convolution, ``y = x (*) h``. Because every layer is linear and shift-invariant, the whole
network equals convolution with ``h = net(delta)`` (KernelGAN's ``calc_curr_k`` trick).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._config import SettingsError


@dataclass
class LCNNSettings:
    """Architecture of the linear CNN: ``depth`` conv layers of ``width`` channels, no activations."""

    depth: int = 5
    width: int = 32
    kernel_size: int = 3

    def validate(self) -> None:
        """Raise :class:`SettingsError` if the architecture is unusable."""
        for name in ("depth", "width", "kernel_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SettingsError(f"L-CNN {name} must be a positive integer, got {value!r}")
        if self.kernel_size % 2 == 0:
            raise SettingsError(f"L-CNN kernel_size must be odd, got {self.kernel_size}")
        if self.depth > 64 or self.width > 1024 or self.filter_size > 129:
            raise SettingsError("L-CNN is unreasonably large (depth <= 64, width <= 1024, filter <= 129)")

    @property
    def filter_size(self) -> int:
        """Side of the one equivalent filter: the network's receptive field."""
        return self.depth * (self.kernel_size - 1) + 1


class LCNN(nn.Module):
    """Linear CNN of the NSSR-DIL paper: same-size output, zero padding, no bias, no activation."""

    def __init__(self, settings: LCNNSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or LCNNSettings()
        self.settings.validate()
        d, w, k = self.settings.depth, self.settings.width, self.settings.kernel_size
        chans = [1] + [w] * (d - 1) + [1]
        self.layers = nn.ModuleList(
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
            for layer in self.layers:
                weight = layer.weight
                weight.normal_(0.0, noise, generator=generator)
                weight[0, 0, centre, centre] += 1.0

    def fold(self) -> torch.Tensor:
        """The network's one equivalent filter (impulse response), differentiable.

        An impulse in a canvas of the receptive field's size is never cropped by the per-layer
        zero padding, so the result is exact.
        """
        size = self.settings.filter_size
        param = self.layers[0].weight
        delta = torch.zeros(1, 1, size, size, dtype=param.dtype, device=param.device)
        delta[0, 0, size // 2, size // 2] = 1.0
        return self(delta)[0, 0]


def convolve(images: torch.Tensor, h: torch.Tensor, padding: str = "reflect") -> torch.Tensor:
    """Convolve ``(n, c, H, W)`` images with filter ``h`` (true convolution, same-size output).

    ``padding`` is ``"reflect"`` (image borders mirrored, as at inference), ``"zeros"`` (as
    for kernels, which are zero outside their window), or ``"valid"`` (no padding, smaller output).
    """
    r0, r1 = h.shape[-2] // 2, h.shape[-1] // 2
    n, c, height, width = images.shape
    x = images.reshape(n * c, 1, height, width)
    weight = h.flip(-2, -1).reshape(1, 1, *h.shape[-2:]).to(images.dtype)
    if padding == "zeros":
        out = F.conv2d(x, weight, padding=(r0, r1))
    elif padding == "reflect":
        out = F.conv2d(F.pad(x, (r1, r1, r0, r0), mode="reflect"), weight)
    elif padding == "valid":
        out = F.conv2d(x, weight)
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return out.reshape(n, c, *out.shape[-2:])


def delta_filter(size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Identity filter of side ``size`` (odd)."""
    if size < 1 or size % 2 == 0:
        raise SettingsError(f"filter size must be odd, got {size}")
    h = torch.zeros(size, size, dtype=dtype)
    h[size // 2, size // 2] = 1.0
    return h


def blend_with_identity(h: torch.Tensor, strength: float) -> torch.Tensor:
    """``(1 - strength) * delta + strength * h``: 0 is plain bicubic, 1 the full inverse filter.

    The DC gain stays that of ``h`` at strength 1 and 1 at strength 0, so a sum-1 filter keeps
    the image's brightness at every strength.
    """
    return (1.0 - strength) * delta_filter(h.shape[-1], h.dtype).to(h.device) + strength * h
