"""ZSSR as a method: an image-specific CNN trained on the input image alone, for comparison.

NSSR-DIL's claim is that it needs no per-image training; ZSSR (Shocher, Cohen, Irani, CVPR 2018)
is the zero-shot method it is measured against. Here it runs behind the same interface as the
other methods: :meth:`ZSSR.iter_prepare` trains on the image's representative plane (a centred
crop of at most :data:`TRAIN_SIDE` pixels), reporting every 10 iterations; the processor then
super-resolves every plane with the trained networks, the geometric self-ensemble and
back-projection (``training/zssr.py``). Training and inference run on CUDA when present.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core.devices import resolve_device
from ..core.errors import SettingsError
from ..core.kernels import gaussian_kernel
from ..core.layout import Layout
from ..core.progress import PrepareProgress, drain
from ..core.request import Plan
from ..core.settings import setting
from ..training.zssr import ZSSRRecipe, ZSSRStep, scale_steps, train_zssr, upscale
from .base import Method, MethodSettings, Prepared, UnitRangeLearner, register_method

TRAIN_SIDE = 1024  # ZSSR trains on random crops: a centred crop this wide holds plenty of them


@dataclass(frozen=True)
class ZSSRSettings(MethodSettings):
    """ZSSR: a CNN trained on the input image alone (the paper's settings by default)."""

    iterations: int = setting(
        3000,
        "most training iterations per scale step (the paper's 3000; training stops earlier once its "
        "learning rate has fallen below the minimum)",
        min=1,
        max=100000,
    )
    crop: int = setting(128, "side of the random training crops (the paper's 128)", min=8, max=1024, unit="px")
    kernel: str = setting(
        "bicubic",
        "how the training pairs are shrunk: bicubic (the paper's ideal case) or blind (the Gaussian blur the blind "
        "method estimates for this image, as KernelGAN+ZSSR uses an estimated kernel)",
        choices=("bicubic", "blind"),
    )
    gradual: bool = setting(True, "reach factors above 2 in x2 steps, each step's result joining the training images")
    ensemble: bool = setting(
        True, "test-time geometric self-ensemble: the median over 8 rotations and flips (2 for a blind kernel)"
    )
    back_projection: int = setting(10, "back-projection iterations at test time (the paper's 10)", min=0, max=100)
    noise_std: float = setting(
        0.0,
        "noise added to the training inputs, on the image scaled to [0, 1] (the paper: 0.0125 for real images)",
        min=0,
        max=0.5,
        step=0.005,
    )
    learning_rate: float = setting(
        0.001, "Adam's initial learning rate", min=0, max=1, min_exclusive=True, advanced=True
    )
    min_learning_rate: float = setting(
        9e-6, "training stops once the learning rate is below this", min=0, max=1, min_exclusive=True, advanced=True
    )
    depth: int = setting(8, "convolution layers (the paper's 8)", min=2, max=32, advanced=True)
    width: int = setting(64, "channels of the hidden layers (the paper's 64)", min=1, max=256, advanced=True)
    seed: int = setting(0, "random seed of the weights and crops (the same seed gives the same result)", min=0)
    device: str = setting("auto", "where to train and run the network: auto (CUDA when present), cpu, cuda, cuda:N")

    def check(self) -> None:
        """The device must be a device name."""
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise SettingsError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")

    def recipe(self) -> ZSSRRecipe:
        """The training recipe these settings stand for."""
        return ZSSRRecipe(
            iterations=self.iterations,
            crop=self.crop,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            noise_std=self.noise_std,
            depth=self.depth,
            width=self.width,
            gradual=self.gradual,
            ensemble=self.ensemble,
            back_projection=self.back_projection,
            seed=self.seed,
        )


class ZSSRProcessor(UnitRangeLearner):
    """Super-resolves whole low-resolution planes with trained ZSSR networks."""

    def __init__(self, steps: list[ZSSRStep], recipe: ZSSRRecipe, device: str) -> None:
        self.steps, self.recipe, self.device = steps, recipe, device

    def upscale_unit(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        return upscale(plane, self.steps, self.recipe, torch.device(self.device))


@register_method
class ZSSR(Method):
    """Zero-shot super-resolution: a CNN trained on the image itself (comparison method).

    References
    ----------
    .. [1] A. Shocher, N. Cohen and M. Irani, "'Zero-Shot' Super-Resolution using Deep Internal
       Learning", CVPR 2018.
    """

    name = "zssr"
    summary = "ZSSR: a CNN trained on the image itself, for comparison (slow: minutes on a CPU)"
    settings_type = ZSSRSettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Train on the image (see :meth:`iter_prepare`)."""
        return drain(self.iter_prepare(image, plan))

    def iter_prepare(self, image: Any, plan: Plan) -> Generator[PrepareProgress, None, Prepared]:
        """Train ZSSR on the representative plane, yielding progress every 10 iterations."""
        scale, layout, settings = plan.scale, plan.layout, plan.settings
        if abs(scale[0] - scale[1]) > 1e-9:
            raise SettingsError(f"ZSSR takes one factor for both axes, got {scale[0]:g} x {scale[1]:g}")
        factor = float(scale[0])
        device = resolve_device(settings.device)
        plane = layout.representative_plane(image, TRAIN_SIDE)
        lo, hi = float(plane.min()), float(plane.max())
        scaled = ((plane - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)
        kernel_for, rotations, found = _kernels(image, layout, settings)
        started = time.perf_counter()
        steps = yield from train_zssr(scaled, factor, settings.recipe(), kernel_for, rotations, device)
        info = {
            "steps": [
                {"factor": s.factor, "iterations": s.iterations, "final_learning_rate": s.final_learning_rate}
                for s in steps
            ],
            "scale_steps": scale_steps(factor, settings.gradual),
            "training_seconds": round(time.perf_counter() - started, 2),
            "device": str(device),
            **found,
        }
        processor = ZSSRProcessor(steps, settings.recipe(), str(device))
        return Prepared(self.name, settings, processor, info=info)


def _kernels(image: Any, layout: Layout, settings: ZSSRSettings) -> tuple[Any, bool, dict[str, Any]]:
    """The training pairs' downscaling kernel per relative factor, whether rotations keep it, and
    what was estimated."""
    if settings.kernel == "bicubic":
        return (lambda factor: None), True, {"kernel": "bicubic"}
    from .blind.estimate import estimate_blur

    estimate = estimate_blur(image, layout.rgb)
    major, minor, angle = estimate.axes

    def kernel_for(factor: float) -> np.ndarray:
        # the blur measured in low-resolution pixels, in the pixels of a father shrunk by factor
        widths = (max(major * factor, 0.2), max(minor * factor, 0.2))
        size = 2 * int(np.ceil(3 * widths[0])) + 1
        return np.asarray(gaussian_kernel(size, widths[0], widths[1], angle), dtype=np.float32)

    found = {"kernel": "blind", "blur_lr_px": [round(major, 3), round(minor, 3)], "angle_rad": round(angle, 3)}
    return kernel_for, False, found
