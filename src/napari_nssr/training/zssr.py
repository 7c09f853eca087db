"""Training and running ZSSR on one image (Shocher, Cohen, Irani, "Zero-Shot" Super-Resolution, 2018).

The image is its own training set. A high-resolution "father" is a random crop of the image (or,
in later scale steps, of an earlier step's result); its low-resolution "son" is the father shrunk
by the step's factor with the downscaling kernel (anti-aliased bicubic in the ideal case, or an
estimated blur), with optional noise. The network (``networks/zssr.py``) learns to map the son,
interpolated back to the father's size, onto the father: L1 loss, Adam, one crop per iteration,
augmented by rotations and flips where the kernel allows.

The learning rate follows the paper's code: every ``check_every`` iterations (and at least
``min_iterations`` after the last change) a line is fitted to the recent reconstruction errors
(the network rebuilding the image from its own son, measured every ``test_every`` iterations);
when the fall is smaller than ``slope_ratio`` times its noise, the rate is divided by 10, and
training stops once it is below ``min_learning_rate`` (or after ``iterations``).

Large factors are reached gradually, as the paper's code does without a "base change": for x4, a
network is first trained for x2, its result on the image joins the fathers, and the x4 network is
then trained on both (every step's pairs are shrunk by the step's whole factor, and the input
stays the image). At test time the last step's network upscales the image: the median of its
outputs over the geometric self-ensemble, corrected by back-projection (the result, shrunk with
the kernel, must give back the image).

Values are scaled to [0, 1] by the plane's own range; outputs are clipped to it, as the paper's
code does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch

from ..core.degrade import downscale
from ..core.progress import PrepareProgress
from ..core.resample import resample_plane
from ..networks.zssr import ZSSRNet

TILE = 512  # test-time tiles (activations of 64 channels over a whole plane would not fit)


@dataclass(frozen=True)
class ZSSRRecipe:
    """How ZSSR trains and tests (the paper's code's values by default)."""

    iterations: int = 3000
    crop: int = 128
    learning_rate: float = 1e-3
    min_learning_rate: float = 9e-6
    min_iterations: int = 256
    check_every: int = 60
    test_every: int = 50
    slope_range: int = 256
    slope_ratio: float = 1.5
    noise_std: float = 0.0
    depth: int = 8
    width: int = 64
    init_variance: float = 0.1
    gradual: bool = True
    ensemble: bool = True
    back_projection: int = 10
    seed: int = 0


@dataclass
class ZSSRStep:
    """One trained scale step: its factor (relative to the image), network and kernel."""

    factor: float
    net: ZSSRNet
    kernel: np.ndarray | None
    rotations: bool
    iterations: int
    final_learning_rate: float
    losses: list[float]


def scale_steps(scale: float, gradual: bool) -> list[float]:
    """The cumulative factors trained one after the other: ``[2, 4]`` for x4, ``[2, 3]`` for x3,
    ``[2, 2.5]`` for x2.5, ``[scale]`` for factors up to 2 or without ``gradual``."""
    if not gradual or scale <= 2:
        return [float(scale)]
    steps = [2.0]
    while steps[-1] * 2 < scale - 1e-9:
        steps.append(steps[-1] * 2)
    return steps + [float(scale)]


def _dihedral(x: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 rotations/flips of ``x`` (``k`` in 0..7)."""
    y = np.rot90(x, k % 4)
    return np.fliplr(y) if k >= 4 else y


def _undo_dihedral(y: np.ndarray, k: int) -> np.ndarray:
    if k >= 4:
        y = np.fliplr(y)
    return np.rot90(y, -(k % 4))


def transforms(rotations: bool, ensemble: bool = True) -> list[int]:
    """The dihedral transforms in use: all 8 for a symmetric kernel, else identity and 180 degrees
    (which keeps any centred kernel, as a Gaussian, the same)."""
    if not ensemble:
        return [0]
    return list(range(8)) if rotations else [0, 2]


def _son_shape(shape: tuple[int, ...], factor: float) -> tuple[int, int]:
    return max(1, round(shape[0] / factor)), max(1, round(shape[1] / factor))


def father_to_son(father: np.ndarray, factor: float, kernel: np.ndarray | None) -> np.ndarray:
    """The low-resolution son of a father: shrunk by ``factor`` with ``kernel`` (default bicubic)."""
    return downscale(father, _son_shape(father.shape, factor), kernel)


def run_net(net: ZSSRNet, up: np.ndarray, device: torch.device, tile: int = TILE) -> np.ndarray:
    """The network on a whole interpolated plane, tile by tile with the receptive field as margin
    (exactly the untiled result)."""
    margin = net.receptive_radius
    rows, cols = up.shape
    out = np.empty_like(up)
    with torch.no_grad():
        for r0 in range(0, rows, tile):
            for c0 in range(0, cols, tile):
                r1, c1 = min(rows, r0 + tile), min(cols, c0 + tile)
                a0, a1 = max(0, r0 - margin), min(rows, r1 + margin)
                b0, b1 = max(0, c0 - margin), min(cols, c1 + margin)
                block = torch.from_numpy(np.ascontiguousarray(up[a0:a1, b0:b1], dtype=np.float32)).to(device)
                result = net(block[None, None])[0, 0].cpu().numpy()
                out[r0:r1, c0:c1] = result[r0 - a0 : r1 - a0, c0 - b0 : c1 - b0]
    return np.clip(out, 0.0, 1.0)


def back_project(sr: np.ndarray, lr: np.ndarray, kernel: np.ndarray | None, iterations: int) -> np.ndarray:
    """``sr`` corrected so that shrinking it with ``kernel`` gives back ``lr``."""
    for _ in range(iterations):
        residual = lr - downscale(sr, lr.shape, kernel)
        sr = np.clip(sr + resample_plane(residual, sr.shape), 0.0, 1.0)
    return sr


def upscale_step(plane: np.ndarray, step: ZSSRStep, recipe: ZSSRRecipe, device: torch.device) -> np.ndarray:
    """One step at test time: the self-ensemble's median, back-projected."""
    step.net.eval()
    out_shape = (round(plane.shape[0] * step.factor), round(plane.shape[1] * step.factor))
    outputs = []
    for k in transforms(step.rotations, recipe.ensemble):
        x = _dihedral(plane, k)
        target = out_shape if k % 2 == 0 else out_shape[::-1]
        y = _undo_dihedral(run_net(step.net, resample_plane(np.ascontiguousarray(x), target), device), k)
        outputs.append(back_project(np.ascontiguousarray(y), plane, step.kernel, recipe.back_projection))
    fused = np.median(np.stack(outputs), axis=0) if len(outputs) > 1 else outputs[0]
    return back_project(fused.astype(plane.dtype), plane, step.kernel, recipe.back_projection)


def upscale(plane: np.ndarray, steps: list[ZSSRStep], recipe: ZSSRRecipe, device: torch.device) -> np.ndarray:
    """A [0, 1] plane super-resolved by the last (full-factor) step; the earlier steps served its
    training."""
    return upscale_step(plane, steps[-1], recipe, device)


def _random_father(sources: list[np.ndarray], crop: int, rotations: bool, rng: np.random.Generator) -> np.ndarray:
    weights = np.array([s.size for s in sources], dtype=np.float64)
    source = sources[rng.choice(len(sources), p=weights / weights.sum())]
    h, w = min(crop, source.shape[0]), min(crop, source.shape[1])
    r0, c0 = rng.integers(0, source.shape[0] - h + 1), rng.integers(0, source.shape[1] - w + 1)
    father = source[r0 : r0 + h, c0 : c0 + w]
    k = int(rng.choice(transforms(rotations)))
    return np.ascontiguousarray(_dihedral(father, k))


def _reconstruction_error(net: ZSSRNet, image: np.ndarray, factor: float, kernel: np.ndarray | None, device) -> float:
    """How well the network rebuilds (a centred crop of) ``image`` from its son."""
    side = 256
    r0, c0 = max(0, (image.shape[0] - side) // 2), max(0, (image.shape[1] - side) // 2)
    crop = image[r0 : r0 + side, c0 : c0 + side]
    son = father_to_son(crop, factor, kernel)
    rebuilt = run_net(net, resample_plane(son, crop.shape), device)
    return float(np.mean((rebuilt - crop) ** 2))


def train_zssr(
    plane: np.ndarray,
    scale: float,
    recipe: ZSSRRecipe,
    kernel_for: Callable[[float], np.ndarray | None],
    rotations: bool,
    device: torch.device,
) -> Generator[PrepareProgress, None, list[ZSSRStep]]:
    """Train ZSSR's networks for ``plane`` (scaled to [0, 1]) at ``scale``; yields progress.

    Parameters
    ----------
    plane : numpy.ndarray
        2D float32 values in [0, 1].
    scale : float
        The factor (> 1).
    recipe : ZSSRRecipe
        Budget and hyper-parameters.
    kernel_for : callable
        The downscaling kernel for a step's relative factor (``None``: anti-aliased bicubic).
    rotations : bool
        Whether the kernel allows rotations and flips (a symmetric one); else 180 degrees only.
    device : torch.device
        Where to train.

    Returns
    -------
    list of ZSSRStep
    """
    factors = scale_steps(scale, recipe.gradual)
    total = recipe.iterations * len(factors)
    rng = np.random.default_rng(recipe.seed)
    sources = [plane]
    steps: list[ZSSRStep] = []
    done = 0
    for index, factor in enumerate(factors):
        kernel = kernel_for(factor)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(recipe.seed + index)
            net = ZSSRNet(recipe.depth, recipe.width, recipe.init_variance).to(device)
        optimiser = torch.optim.Adam(net.parameters(), lr=recipe.learning_rate)
        learning_rate = recipe.learning_rate
        errors: list[tuple[int, float]] = []
        changed_at = 0
        losses: list[float] = []
        iteration = 0
        for iteration in range(1, recipe.iterations + 1):
            father = _random_father(sources, recipe.crop, rotations, rng)
            son = father_to_son(father, factor, kernel)
            if recipe.noise_std > 0:
                son = son + rng.normal(0, recipe.noise_std, son.shape).astype(son.dtype)
            son_up = resample_plane(np.clip(son, 0, 1).astype(np.float32), father.shape)
            x = torch.from_numpy(son_up).to(device)[None, None]
            y = torch.from_numpy(father.astype(np.float32)).to(device)[None, None]
            net.train()
            loss = torch.mean(torch.abs(net(x) - y))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
            if iteration % recipe.test_every == 0:
                net.eval()
                errors.append((iteration, _reconstruction_error(net, plane, factor, kernel, device)))
            if iteration % recipe.check_every == 0 and iteration - changed_at > recipe.min_iterations:
                recent = errors[-max(2, recipe.slope_range // recipe.test_every) :]
                if len(recent) >= 3:
                    steps_at = np.array([r[0] for r in recent], dtype=np.float64)
                    values = np.array([r[1] for r in recent], dtype=np.float64)
                    (slope, _), covariance = np.polyfit(steps_at, values, 1, cov=True)
                    if -recipe.slope_ratio * slope < math.sqrt(max(covariance[0, 0], 0.0)):
                        learning_rate /= 10
                        changed_at = iteration
                        for group in optimiser.param_groups:
                            group["lr"] = learning_rate
            if iteration % 10 == 0 or iteration == recipe.iterations:
                text = f"ZSSR x{factor:g}: iteration {iteration} of at most {recipe.iterations}"
                yield PrepareProgress(done + iteration, total, f"{text}, L1 {np.mean(losses[-10:]):.4f}")
            if learning_rate < recipe.min_learning_rate:
                break
        done += recipe.iterations
        step = ZSSRStep(factor, net, kernel, rotations, iteration, learning_rate, losses)
        steps.append(step)
        if index < len(factors) - 1:  # this step's result on the image joins the next step's fathers
            sources.append(upscale_step(plane, step, recipe, device))
    return steps
