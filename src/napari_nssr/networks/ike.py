"""The invertible kernel estimator's networks (IKE, "Find the way back"): IKENet, its Z-upscale
module, and KernelGAN's patch discriminator.

IKENet is one invertible map between a high-resolution image and its low-resolution version with
the detail the shrinking removed. Forward: pixel-shuffle space-to-depth (``s x s`` blocks to
``s**2`` channels), a fixed orthogonal mix whose first channel is the block mean (so an untrained
network shrinks by box averaging and its inverse expands by block replication), then ``K``
invertible tri-channel coupling blocks. The first output channel is the low-resolution image, the
others are ``z``, the detail. The inverse runs the same blocks backwards: given a low-resolution
image and its ``z`` it gives the high-resolution image, exactly.

The coupling block splits the channels in three: ``a`` (the image), ``b`` and ``c`` (the detail,
halved), and updates each from the other two::

    a' = a + F(b, c)
    b' = b * exp(S_b(a', c)) + T_b(a', c)
    c' = c * exp(S_c(a', b')) + T_c(a', b')

with small CNNs for F, S, T (the scales bounded by ``tanh``). Each update can be undone from the
others, so the inverse is exact whatever the weights. The CNNs' last layers start at zero: an
untrained block is the identity.

The Z-upscale module predicts ``z`` for an image that has no detail channels (the input to be
super-resolved): the detail IKENet's forward pass finds in the image's bicubic upsampling, plus a
learned correction (zero at the start, so an untrained module gives bicubic-like detail).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def block_mean_basis(scale: int) -> torch.Tensor:
    """An ``s**2 x s**2`` invertible matrix whose first row averages a flattened ``s x s`` block and
    whose other rows are orthonormal to it (the block's detail): float64."""
    n = scale * scale
    rng = np.random.default_rng(0)
    first = np.full(n, 1.0 / math.sqrt(n))
    # Gram-Schmidt on a fixed random basis: the rest of an orthonormal basis containing ``first``
    q, _ = np.linalg.qr(np.column_stack([first, rng.standard_normal((n, n - 1))]))
    basis = q.T.copy()  # rows 1.. are orthonormal, and orthogonal to the first (+-first)
    basis[0] = first / math.sqrt(n)  # the mean itself, not the orthonormal sum / s
    return torch.from_numpy(basis)


def _subnet(c_in: int, c_out: int, width: int) -> nn.Sequential:
    last = nn.Conv2d(width, c_out, 3, padding=1)
    nn.init.zeros_(last.weight)
    if last.bias is not None:
        nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(c_in, width, 3, padding=1),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(width, width, 3, padding=1),
        nn.LeakyReLU(0.2, inplace=True),
        last,
    )


class TriCoupling(nn.Module):
    """One invertible tri-channel coupling block (see the module docstring)."""

    def __init__(self, channels: int, image_channels: int, width: int, clamp: float = 1.0) -> None:
        super().__init__()
        rest = channels - image_channels
        if rest < 2:
            raise ValueError(f"a tri-channel coupling needs at least 2 detail channels, got {rest}")
        self.split = (image_channels, rest // 2, rest - rest // 2)
        a, b, c = self.split
        self.f = _subnet(b + c, a, width)
        self.s_b, self.t_b = _subnet(a + c, b, width), _subnet(a + c, b, width)
        self.s_c, self.t_c = _subnet(a + b, c, width), _subnet(a + b, c, width)
        self.clamp = clamp

    def _scale(self, raw: torch.Tensor) -> torch.Tensor:
        return self.clamp * torch.tanh(raw / self.clamp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's forward update of ``(n, channels, h, w)``."""
        a, b, c = torch.split(x, list(self.split), dim=1)
        a = a + self.f(torch.cat([b, c], 1))
        ac = torch.cat([a, c], 1)
        b = b * torch.exp(self._scale(self.s_b(ac))) + self.t_b(ac)
        ab = torch.cat([a, b], 1)
        c = c * torch.exp(self._scale(self.s_c(ab))) + self.t_c(ab)
        return torch.cat([a, b, c], 1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Undo :meth:`forward` exactly."""
        a, b, c = torch.split(y, list(self.split), dim=1)
        ab = torch.cat([a, b], 1)
        c = (c - self.t_c(ab)) * torch.exp(-self._scale(self.s_c(ab)))
        ac = torch.cat([a, c], 1)
        b = (b - self.t_b(ac)) * torch.exp(-self._scale(self.s_b(ac)))
        a = a - self.f(torch.cat([b, c], 1))
        return torch.cat([a, b, c], 1)


class IKENet(nn.Module):
    """The invertible downscaler (see the module docstring).

    Parameters
    ----------
    scale : int
        The integer factor (2 or more).
    blocks : int
        Coupling blocks ``K`` (the paper's 4).
    width : int
        Channels of the coupling blocks' CNNs.
    image_channels : int
        Channels of the image (1: the method runs plane by plane).
    """

    basis: torch.Tensor
    basis_inverse: torch.Tensor

    def __init__(self, scale: int, blocks: int = 4, width: int = 32, image_channels: int = 1) -> None:
        super().__init__()
        if scale < 2:
            raise ValueError(f"IKENet needs an integer scale of at least 2, got {scale}")
        self.scale, self.image_channels = scale, image_channels
        basis = block_mean_basis(scale)
        self.register_buffer("basis", basis.float())
        self.register_buffer("basis_inverse", torch.linalg.inv(basis).float())
        channels = image_channels * scale * scale
        self.blocks: list[TriCoupling] = nn.ModuleList(  # type: ignore[assignment]
            TriCoupling(channels, image_channels, width) for _ in range(blocks)
        )

    def _mix(self, x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        # the same s^2 x s^2 mix for each image channel; its first output channel per image channel
        # goes first, so the low-resolution image is the leading ``image_channels`` channels
        n, _, h, w = x.shape
        groups = x.reshape(n, self.image_channels, self.scale**2, h, w)
        mixed = torch.einsum("ij,ncjhw->ncihw", matrix.to(x.dtype), groups)
        return mixed.transpose(1, 2).reshape(n, -1, h, w)

    def _unmix(self, y: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        n, _, h, w = y.shape
        groups = y.reshape(n, self.scale**2, self.image_channels, h, w).transpose(1, 2)
        return torch.einsum("ij,ncjhw->ncihw", matrix.to(y.dtype), groups).reshape(n, -1, h, w)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(low-resolution image, z)`` of a ``(n, C, H, W)`` batch (H, W multiples of the scale)."""
        y = self._mix(F.pixel_unshuffle(x, self.scale), self.basis)
        for block in self.blocks:
            y = block(y)
        return y[:, : self.image_channels], y[:, self.image_channels :]

    def inverse(self, low: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The high-resolution image whose forward pass is ``(low, z)``."""
        y = torch.cat([low, z], 1)
        for block in reversed(self.blocks):
            y = block.inverse(y)
        return F.pixel_shuffle(self._unmix(y, self.basis_inverse), self.scale)


class ZUpscale(nn.Module):
    """Predicts IKENet's ``z`` for a low-resolution image: the detail of its bicubic upsampling,
    corrected by a CNN that starts at zero."""

    def __init__(self, scale: int, width: int = 32, image_channels: int = 1) -> None:
        super().__init__()
        self.scale = scale
        detail = image_channels * (scale * scale - 1)
        self.correction = _subnet(image_channels * scale * scale + image_channels, detail, width)

    def forward(self, low: torch.Tensor, net: IKENet) -> torch.Tensor:
        """``z`` for ``low`` (``(n, C, h, w)``) under ``net``."""
        up = F.interpolate(low, scale_factor=self.scale, mode="bicubic", align_corners=False)
        _, z_up = net(up)
        return z_up + self.correction(torch.cat([F.pixel_unshuffle(up, self.scale), low], 1))


class PatchDiscriminator(nn.Module):
    """KernelGAN's discriminator: a 7x7 convolution, then 1x1 convolutions with batch norm, giving a
    map of per-patch scores (least-squares GAN: near 1 for real patches, 0 for generated ones)."""

    def __init__(self, width: int = 64, layers: int = 7) -> None:
        super().__init__()
        modules: list[nn.Module] = [nn.utils.spectral_norm(nn.Conv2d(1, width, 7))]
        for _ in range(layers - 2):
            modules += [
                nn.utils.spectral_norm(nn.Conv2d(width, width, 1)),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
        modules += [nn.utils.spectral_norm(nn.Conv2d(width, 1, 1)), nn.Sigmoid()]
        self.body = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-patch scores of a ``(n, 1, h, w)`` batch."""
        return self.body(x)
