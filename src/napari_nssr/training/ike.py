"""Training IKE on one image: the encoding and decoding phases, alternated.

Everything is learned from the input image ``I`` alone (a plane scaled to [0, 1]):

- **Encoding** (IKENet's forward pass, the downscaler, and the discriminator ``D_down``): a random
  crop ``x`` of ``I`` is shrunk to ``y``. *Forward cross-scale recurrence*: ``D_down`` learns to tell
  ``y``'s patches from patches of ``I`` itself and the downscaler learns to fool it (the shrunk image
  must look like the image, as KernelGAN asks; least-squares GAN, weight 0.1: see :data:`WEIGHTS`). *Local energy
  preservation*: ``y``'s local means (a 5x5 box) must match those of ``x`` box-shrunk, with a weight
  falling linearly from 4 to 1 over the run.
- **Decoding** (the Z-upscale module and ``D_up``; IKENet's weights held): *backward cross-scale
  recurrence*: ``x`` must come back from ``y`` through the inverse pass with the predicted ``z``
  (L1, weight 5): the image-specific super-resolution of the learned degradation. *Interpolation
  loss*: the super-resolved crop of ``I`` must follow its bicubic upsampling where that is flat (a
  Sobel mask, weight 5). *Total variation* of the super-resolved crop (weight 1), and ``D_up`` tells
  its patches from patches of ``I`` (weight 1).

Choices where the paper is silent are the module's constants and :class:`IKERecipe`'s defaults,
written down in docs/method.md, section 10.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..core.progress import PrepareProgress
from ..networks.ike import IKENet, PatchDiscriminator, ZUpscale

REPORT_EVERY = 10
ENERGY_BOX = 5  # low-resolution pixels: the window of the local energy preservation
GRADIENT_CLIP = 1.0  # the flow's adversarial updates otherwise ran away after a few hundred iterations
SOBEL_SOFTNESS = 0.1  # gradients of this size (on [0, 1]) halve the interpolation loss's weight
# the paper's loss weights, except the forward adversarial one: with weight 1 the downscaler left
# energy preservation after about 300 iterations (camera x2: the result fell from +0.5 to -1.45 dB
# against bicubic by 450 iterations); 0.1 kept it (measured at the default sizes)
WEIGHTS = {
    "adversarial": 0.1,
    "backward": 5.0,
    "interpolation": 5.0,
    "tv": 1.0,
    "energy_start": 4.0,
    "energy_end": 1.0,
    "up_adversarial": 1.0,
}


@dataclass(frozen=True)
class IKERecipe:
    """How IKE trains (see :class:`~napari_nssr.methods.ike.IKESettings` for what each means)."""

    iterations: int = 3000
    crop: int = 64
    blocks: int = 4
    width: int = 32
    learning_rate: float = 2e-4
    downscaler_rate: float = 0.5
    upscaler_rate: float = 5.0
    seed: int = 0


@dataclass
class IKEModel:
    """IKE's trained networks for one integer scale."""

    net: IKENet
    z_up: ZUpscale
    scale: int
    losses: dict[str, float]


def _crops(image: torch.Tensor, size: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random ``size x size`` crops of a ``(1, 1, H, W)`` image."""
    _, _, rows, cols = image.shape
    r = torch.randint(0, rows - size + 1, (count,), generator=generator).tolist()
    c = torch.randint(0, cols - size + 1, (count,), generator=generator).tolist()
    return torch.cat([image[:, :, i : i + size, j : j + size] for i, j in zip(r, c)], 0)


def _sobel_flatness(image: torch.Tensor) -> torch.Tensor:
    """1 where ``image`` is flat, towards 0 at edges."""
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=image.dtype, device=image.device)
    kernels = torch.stack([kx, kx.T])[:, None] / 8.0
    grad = F.conv2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), kernels)
    magnitude = grad.pow(2).sum(1, keepdim=True).sqrt()
    return 1.0 / (1.0 + (magnitude / SOBEL_SOFTNESS) ** 2)


def _tv(image: torch.Tensor) -> torch.Tensor:
    return (image[..., 1:, :] - image[..., :-1, :]).abs().mean() + (image[..., :, 1:] - image[..., :, :-1]).abs().mean()


def _lsgan(scores: torch.Tensor, real: bool) -> torch.Tensor:
    return ((scores - (1.0 if real else 0.0)) ** 2).mean()


def super_resolve_plane(plane: np.ndarray, model: IKEModel, device: torch.device) -> np.ndarray:
    """IKENet's inverse pass on a whole plane (scaled to [0, 1]) with its predicted ``z``; float32."""
    with torch.no_grad():
        low = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None, None].to(device)
        high = model.net.inverse(low, model.z_up(low, model.net))
    return high[0, 0].cpu().numpy()


def train_ike(
    plane: np.ndarray, scale: int, recipe: IKERecipe, device: torch.device
) -> Generator[PrepareProgress, None, IKEModel]:
    """Train IKE on ``plane`` (2D, scaled to [0, 1]) for an integer ``scale``; yields progress every
    :data:`REPORT_EVERY` iterations and returns the trained model (closing the generator stops it).

    Parameters
    ----------
    plane : numpy.ndarray
        The image, at least ``crop`` pixels on each side.
    scale : int
        The factor (2 or more).
    recipe : IKERecipe
        Budget, crop, network sizes, learning rate, seed.
    device : torch.device
        Where to train.

    Returns
    -------
    IKEModel
    """
    torch.manual_seed(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    crop = min(recipe.crop, min(plane.shape)) // scale * scale
    if crop < 2 * scale or crop // scale < 8:
        raise ValueError(f"the image is too small for IKE at x{scale}: at least {8 * scale} pixels a side")
    image = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None, None]
    net = IKENet(scale, recipe.blocks, recipe.width).to(device)
    z_up = ZUpscale(scale, recipe.width).to(device)
    d_down, d_up = PatchDiscriminator().to(device), PatchDiscriminator().to(device)
    betas = (0.5, 0.999)
    opt_net = torch.optim.Adam(net.parameters(), recipe.learning_rate * recipe.downscaler_rate, betas=betas)
    opt_z = torch.optim.Adam(z_up.parameters(), recipe.learning_rate * recipe.upscaler_rate, betas=betas)
    opt_d_down = torch.optim.Adam(d_down.parameters(), recipe.learning_rate, betas=betas)
    opt_d_up = torch.optim.Adam(d_up.parameters(), recipe.learning_rate, betas=betas)
    batch = 4
    low_crop = crop // scale
    running: dict[str, list[float]] = {}
    for iteration in range(1, recipe.iterations + 1):
        x = _crops(image, crop, batch, generator).to(device)
        if iteration % 2 == 1:  # encoding: the downscaler and D_down
            y, _ = net(x)
            real = _crops(image, low_crop, batch, generator).to(device)
            opt_d_down.zero_grad()
            (_lsgan(d_down(real), True) + _lsgan(d_down(y.detach()), False)).backward()
            opt_d_down.step()
            progress = (iteration - 1) / max(recipe.iterations - 1, 1)
            energy_weight = WEIGHTS["energy_start"] + (WEIGHTS["energy_end"] - WEIGHTS["energy_start"]) * progress
            target = F.avg_pool2d(x, scale)
            energy = (F.avg_pool2d(y, ENERGY_BOX, 1) - F.avg_pool2d(target, ENERGY_BOX, 1)).abs().mean()
            adversarial = _lsgan(d_down(y), True)
            opt_net.zero_grad()
            (WEIGHTS["adversarial"] * adversarial + energy_weight * energy).backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), GRADIENT_CLIP)
            opt_net.step()
            terms = {"forward adversarial": adversarial.item(), "energy": energy.item()}
        else:  # decoding: the Z-upscale module and D_up, the downscaler held
            net.requires_grad_(False)
            with torch.no_grad():
                y, _ = net(x)
            back = net.inverse(y, z_up(y, net))
            backward = (back - x).abs().mean()
            low = _crops(image, low_crop, batch, generator).to(device)
            sr = net.inverse(low, z_up(low, net))
            bicubic = F.interpolate(low, scale_factor=scale, mode="bicubic", align_corners=False)
            interpolation = (_sobel_flatness(bicubic) * (sr - bicubic).abs()).mean()
            tv = _tv(sr)
            real = _crops(image, crop, batch, generator).to(device)
            opt_d_up.zero_grad()
            (_lsgan(d_up(real), True) + _lsgan(d_up(sr.detach()), False)).backward()
            opt_d_up.step()
            adversarial = _lsgan(d_up(sr), True)
            opt_z.zero_grad()
            loss = (
                WEIGHTS["backward"] * backward
                + WEIGHTS["interpolation"] * interpolation
                + WEIGHTS["tv"] * tv
                + WEIGHTS["up_adversarial"] * adversarial
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(z_up.parameters(), GRADIENT_CLIP)
            opt_z.step()
            net.requires_grad_(True)
            terms = {"backward": backward.item(), "interpolation": interpolation.item(), "tv": tv.item()}
        for name, value in terms.items():
            running.setdefault(name, []).append(value)
        if iteration % REPORT_EVERY == 0 or iteration == recipe.iterations:
            recent = np.mean(running.get("backward", [0.0])[-10:])
            yield PrepareProgress(
                iteration, recipe.iterations, f"IKE x{scale}: iteration {iteration}, L1 back {recent:.4f}"
            )
    net.eval()
    z_up.eval()
    losses = {name: float(np.mean(values[-20:])) for name, values in running.items()}
    return IKEModel(net, z_up, scale, losses)
