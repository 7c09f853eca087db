"""IKE as a method: an invertible downscaler learned on the image, run backwards to upscale it.

The invertible kernel estimator ("Find the way back") learns, from the input image alone, a
flow-based network whose forward pass shrinks the image so that its patches recur across scales
and whose inverse pass, fed the detail its Z-upscale module predicts, enlarges it
(``networks/ike.py``, ``training/ike.py``). Here it runs behind the same interface as the other
methods, for comparison: :meth:`IKE.iter_prepare` trains on the image's representative plane (a
centred crop of at most :data:`TRAIN_SIDE` pixels), reporting every 10 iterations; the processor
then super-resolves every plane (each scaled to [0, 1] by its own range) with the inverse pass.
Integer factors only, the same on both axes. Training and inference run on CUDA when present.
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
from ..core.progress import PrepareProgress, drain
from ..core.request import Plan
from ..core.settings import setting
from ..training.ike import IKEModel, IKERecipe, super_resolve_plane, train_ike
from .base import Method, MethodSettings, Prepared, UnitRangeLearner, register_method

TRAIN_SIDE = 1024  # training takes random crops: a centred crop this wide holds plenty of them


@dataclass(frozen=True)
class IKESettings(MethodSettings):
    """IKE: an invertible downscaler learned on the image alone (the paper's budget by default)."""

    iterations: int = setting(
        3000,
        "training iterations, encoding and decoding phases alternated (the paper's 3000)",
        min=1,
        max=100000,
    )
    crop: int = setting(64, "side of the random high-resolution training crops", min=16, max=1024, unit="px")
    blocks: int = setting(4, "invertible coupling blocks K (the paper's 4)", min=1, max=16, advanced=True)
    width: int = setting(32, "channels of the coupling blocks' networks", min=4, max=256, advanced=True)
    learning_rate: float = setting(
        2e-4, "Adam's learning rate (KernelGAN's)", min=0, max=1, min_exclusive=True, advanced=True
    )
    downscaler_rate: float = setting(
        0.5,
        "the downscaler learns at this fraction of the learning rate (faster ran away from the image)",
        min=0,
        max=1,
        min_exclusive=True,
        advanced=True,
    )
    upscaler_rate: float = setting(
        5.0,
        "the Z-upscale module learns at this multiple of the learning rate",
        min=0,
        max=100,
        min_exclusive=True,
        advanced=True,
    )
    seed: int = setting(0, "random seed of the weights and crops (the same seed gives the same result)", min=0)
    device: str = setting("auto", "where to train and run: auto (CUDA when present), cpu, cuda, cuda:N")

    def check(self) -> None:
        """The device must be a device name."""
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise SettingsError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")

    def recipe(self) -> IKERecipe:
        """The training recipe these settings stand for."""
        return IKERecipe(
            iterations=self.iterations,
            crop=self.crop,
            blocks=self.blocks,
            width=self.width,
            learning_rate=self.learning_rate,
            downscaler_rate=self.downscaler_rate,
            upscaler_rate=self.upscaler_rate,
            seed=self.seed,
        )


class IKEProcessor(UnitRangeLearner):
    """Super-resolves whole low-resolution planes with IKENet's inverse pass."""

    def __init__(self, model: IKEModel, device: str) -> None:
        self.model, self.device = model, device

    def upscale_unit(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        return super_resolve_plane(plane, self.model, torch.device(self.device))


@register_method
class IKE(Method):
    """The invertible kernel estimator: a flow trained on the image itself (comparison method).

    References
    ----------
    .. [1] The invertible kernel estimator ("Find the way back"), as we read it: docs/method.md,
       section 10, says which parts follow the paper and which are our choices.
    .. [2] S. Bell-Kligler, A. Shocher and M. Irani, "Blind Super-Resolution Kernel Estimation using an
       Internal-GAN", NeurIPS 2019 (the patch discriminators).
    """

    name = "ike"
    summary = "IKE: an invertible downscaler learned on the image, run backwards (slow: minutes on a CPU)"
    settings_type = IKESettings

    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Train on the image (see :meth:`iter_prepare`)."""
        return drain(self.iter_prepare(image, plan))

    def iter_prepare(self, image: Any, plan: Plan) -> Generator[PrepareProgress, None, Prepared]:
        """Train IKE on the representative plane, yielding progress every 10 iterations."""
        scale, layout, settings = plan.scale, plan.layout, plan.settings
        factor = float(scale[0])
        if abs(scale[0] - scale[1]) > 1e-9 or factor != round(factor) or factor < 2:
            raise SettingsError(
                f"IKE takes one integer factor of 2 or more for both axes, got {scale[0]:g} x {scale[1]:g}"
            )
        device = resolve_device(settings.device)
        plane = layout.representative_plane(image, TRAIN_SIDE)
        lo, hi = float(plane.min()), float(plane.max())
        scaled = ((plane - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)
        started = time.perf_counter()
        try:
            model = yield from train_ike(scaled, int(round(factor)), settings.recipe(), device)
        except ValueError as exc:  # too small an image for its crops
            raise SettingsError(str(exc)) from None
        info = {
            "iterations": settings.iterations,
            "final_losses": {k: round(v, 5) for k, v in model.losses.items()},
            "training_seconds": round(time.perf_counter() - started, 2),
            "device": str(device),
        }
        return Prepared(self.name, settings, IKEProcessor(model, str(device)), info=info)
