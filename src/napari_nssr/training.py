"""Training the L-CNN with Deep Identity Learning, checked against the closed-form optimum.

Recipe (see docs/method.md): near-identity initialisation, Adam at lr 1e-3 with the learning
rate halved every 300 steps, full-batch steps over the whole gallery, 1000 steps. The paper's
own recipe (default init, lr 0.1, batches of 32) is available as ``PAPER_RECIPE`` and diverges.

The network is linear, so each step folds it into its one filter (a tiny forward pass on an
impulse) and scores that filter with the gallery's precomputed :class:`DILStatistics`: the same
loss value as convolving every kernel, at a thousandth of the cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ._config import SettingsError, is_finite_number
from ._progress import run_steps
from .chain import ChainSettings, ChainStatistics
from .devices import resolve_device
from .dil import DILLossSettings, DILStatistics, closed_form_filter, dil_loss, project_sum_to_one
from .kernels import GallerySettings, make_gallery
from .model import LCNN, LCNNSettings, delta_filter
from .model_file import NSSRModel


class TrainingCancelled(RuntimeError):
    """Training was stopped by the caller before it finished."""


class TrainingError(RuntimeError):
    """Training failed (for example the loss became NaN)."""


@dataclass
class TrainSettings:
    """Optimiser settings. An epoch is one pass over the gallery (one step when full-batch)."""

    epochs: int = 1000
    learning_rate: float = 1e-3
    lr_step: int = 300
    lr_gamma: float = 0.5
    init: str = "near_identity"
    init_noise: float = 1e-2
    batch_size: int | None = None
    device: str = "auto"
    seed: int = 0
    tolerance: float = 0.01

    def validate(self) -> None:
        """Raise :class:`SettingsError` on unusable values."""
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= 1_000_000:
            raise SettingsError(f"epochs must be an integer in 1..1e6, got {self.epochs!r}")
        if not is_finite_number(self.learning_rate) or not 0 < self.learning_rate <= 10:
            raise SettingsError(f"learning_rate must be in (0, 10], got {self.learning_rate!r}")
        if not isinstance(self.lr_step, int) or self.lr_step < 1:
            raise SettingsError(f"lr_step must be a positive integer, got {self.lr_step!r}")
        if not is_finite_number(self.lr_gamma) or not 0 < self.lr_gamma <= 1:
            raise SettingsError(f"lr_gamma must be in (0, 1], got {self.lr_gamma!r}")
        if self.init not in ("near_identity", "default"):
            raise SettingsError(f"init must be 'near_identity' or 'default', got {self.init!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise SettingsError(f"batch_size must be None (full batch) or a positive integer, got {self.batch_size!r}")
        if not is_finite_number(self.tolerance) or self.tolerance < 0:
            raise SettingsError(f"tolerance must be >= 0, got {self.tolerance!r}")


# The paper's stated recipe: it diverges (kept to show that, and for comparison).
PAPER_RECIPE = TrainSettings(epochs=50, learning_rate=0.1, lr_step=20, lr_gamma=0.5, init="default", batch_size=32)


@dataclass
class Preset:
    """Everything needed to reproduce a bundled model with ``napari-nssr train --preset``."""

    gallery: GallerySettings
    architecture: LCNNSettings
    loss: DILLossSettings
    train: TrainSettings
    description: str
    chain: ChainSettings | None = None


PRESETS: dict[str, Preset] = {
    "default": Preset(
        GallerySettings(sigma_is="variance"),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=True),
        TrainSettings(),
        "Paper loss with the filter sum held at exactly 1; sigma range read as variances "
        "(as DIV2KRK's generator does); convergent recipe.",
    ),
    "paper": Preset(
        GallerySettings(sigma_is="std"),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=False),
        TrainSettings(),
        "Paper-faithful: paper gallery and loss as written (sum not held), convergent recipe.",
    ),
}
for _scale in (2, 3, 4):
    PRESETS[f"chain-x{_scale}"] = Preset(
        GallerySettings(family="div2krk", count=300, scale=float(_scale)),
        LCNNSettings(),
        DILLossSettings(hold_sum_at_one=True),
        TrainSettings(),
        f"Degradation-aware x{_scale}: blur, subsample, bicubic and filter scored on synthetic 1/f^2 images "
        "over DIV2KRK kernels for this scale; sum held at 1.",
        ChainSettings(),
    )


@dataclass
class _DILObjective:
    """The paper's identity objective in the interface the trainer uses (``loss``, ``optimum``, ``to``)."""

    stats: DILStatistics
    settings: DILLossSettings

    @property
    def size(self) -> int:
        return self.stats.size

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        return self.stats.loss(h, self.settings)

    def optimum(self) -> torch.Tensor:
        return closed_form_filter(self.stats, self.settings)

    def to(self, device: torch.device | str) -> _DILObjective:
        return _DILObjective(self.stats.to(device), self.settings)


def build_objective(
    kernels: np.ndarray, gallery: GallerySettings, loss: DILLossSettings, size: int, chain: ChainSettings | None
) -> _DILObjective | ChainStatistics:
    """The identity objective, or the degradation-aware one when ``chain`` is given."""
    if chain is None:
        return _DILObjective(DILStatistics.from_kernels(kernels, size), loss)
    return ChainStatistics.from_kernels(kernels, gallery.scale, size, chain, hold_sum=loss.hold_sum_at_one)


@dataclass
class TrainProgress:
    """One progress report: epoch done (1-based), total epochs, current loss."""

    epoch: int
    epochs: int
    loss: float


@dataclass
class TrainResult:
    """A trained model, its loss history and the convergence check against the closed form."""

    model: NSSRModel
    history: list[float] = field(repr=False)
    loss: float
    optimum_loss: float
    identity_loss: float
    converged: bool
    seconds: float

    @property
    def relative_gap(self) -> float:
        """``(loss - optimum) / optimum``: how far above the closed-form optimum training ended."""
        return (self.loss - self.optimum_loss) / self.optimum_loss


def _effective_filter(net: LCNN, loss: DILLossSettings) -> torch.Tensor:
    h = net.fold()
    return project_sum_to_one(h) if loss.hold_sum_at_one else h


def iter_train(
    gallery: GallerySettings | None = None,
    architecture: LCNNSettings | None = None,
    loss: DILLossSettings | None = None,
    train: TrainSettings | None = None,
    kernels: np.ndarray | None = None,
    name: str = "trained",
    report_every: int = 10,
    chain: ChainSettings | None = None,
) -> Generator[TrainProgress, None, TrainResult]:
    """Train step by step, yielding :class:`TrainProgress`; the generator returns a :class:`TrainResult`.

    ``kernels`` overrides the gallery drawn from ``gallery`` (for user-supplied PSFs). With
    ``chain`` the degradation-aware objective replaces the identity one (its scale is
    ``gallery.scale``). Stopping iteration early is the way to cancel (napari's ``thread_worker``
    does this on ``quit()``).
    """
    gallery = gallery or GallerySettings()
    architecture = architecture or LCNNSettings()
    loss = loss or DILLossSettings()
    train = train or TrainSettings()
    for settings in (gallery, architecture, loss, train, chain):
        if settings is not None:
            settings.validate()
    if chain is not None and train.batch_size is not None:
        raise SettingsError("mini-batches apply to the identity objective only; use batch_size=None with chain")
    device = resolve_device(train.device)
    started = time.perf_counter()
    kernel_array = make_gallery(gallery) if kernels is None else np.asarray(kernels, dtype=np.float32)
    size = architecture.filter_size
    objective = build_objective(kernel_array, gallery, loss, size, chain)
    objective_dev = objective.to(device)

    gen = torch.Generator().manual_seed(train.seed)
    torch.manual_seed(train.seed)  # nn.Conv2d's default init draws from the global generator
    net = LCNN(architecture)
    if train.init == "near_identity":
        net.reset_near_identity(train.init_noise, generator=gen)
    net.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=train.learning_rate)
    scheduler = torch.optim.lr_scheduler.StepLR(optimiser, step_size=train.lr_step, gamma=train.lr_gamma)
    kernels_dev = torch.as_tensor(kernel_array, device=device)
    n = kernels_dev.shape[0]
    history: list[float] = []

    for epoch in range(1, train.epochs + 1):
        if train.batch_size is None or train.batch_size >= n:
            batches = [None]
        else:
            order = torch.randperm(n, generator=gen).to(device)
            batches = [order[i : i + train.batch_size] for i in range(0, n, train.batch_size)]
        for batch in batches:
            h = _effective_filter(net, loss)
            value = objective_dev.loss(h) if batch is None else dil_loss(h, kernels_dev[batch], loss)
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
        scheduler.step()
        with torch.no_grad():
            epoch_loss = float(objective_dev.loss(_effective_filter(net, loss)))
        if not np.isfinite(epoch_loss):
            raise TrainingError(
                f"training diverged: the loss became {epoch_loss} at epoch {epoch}; "
                "lower the learning rate or use init='near_identity'"
            )
        history.append(epoch_loss)
        if epoch % report_every == 0 or epoch == train.epochs:
            yield TrainProgress(epoch, train.epochs, epoch_loss)

    net = net.to("cpu", torch.float64)
    with torch.no_grad():
        h = _effective_filter(net, loss)
    optimum_loss = float(objective.loss(objective.optimum()))
    final_loss = float(objective.loss(h))
    identity_loss = float(objective.loss(delta_filter(size, torch.float64)))
    converged = final_loss <= optimum_loss * (1 + train.tolerance)
    seconds = time.perf_counter() - started
    model = NSSRModel(
        filter=h,
        name=name,
        kind="lcnn",
        gallery=gallery,
        architecture=architecture,
        loss=loss,
        chain=chain,
        training={
            "settings": {k: v for k, v in vars(train).items()},
            "final_loss": final_loss,
            "optimum_loss": optimum_loss,
            "identity_loss": identity_loss,
            "converged": converged,
            "seconds": round(seconds, 3),
            "kernel_count": int(n),
            "user_kernels": kernels is not None,
        },
        network_state={k: v.to(torch.float32) for k, v in net.state_dict().items()},
    )
    return TrainResult(model, history, final_loss, optimum_loss, identity_loss, converged, seconds)


def train_model(
    gallery: GallerySettings | None = None,
    architecture: LCNNSettings | None = None,
    loss: DILLossSettings | None = None,
    train: TrainSettings | None = None,
    kernels: np.ndarray | None = None,
    name: str = "trained",
    progress: Callable[[TrainProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    chain: ChainSettings | None = None,
) -> TrainResult:
    """Train to the end, calling ``progress`` on each report; raise :class:`TrainingCancelled` if ``cancel()``."""
    steps = iter_train(gallery, architecture, loss, train, kernels, name, chain=chain)
    return run_steps(
        steps, progress, cancel, lambda p: TrainingCancelled(f"training cancelled at epoch {p.epoch} of {p.epochs}")
    )


def train_preset(name: str, **overrides: object) -> TrainResult:
    """Train a bundled model's preset; ``overrides`` replace fields of its :class:`TrainSettings`."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    preset = PRESETS[name]
    return train_model(
        preset.gallery,
        preset.architecture,
        preset.loss,
        replace(preset.train, **overrides),
        name=name,
        chain=preset.chain,
    )


def solve_closed_form(
    gallery: GallerySettings | None = None,
    loss: DILLossSettings | None = None,
    filter_size: int = 11,
    kernels: np.ndarray | None = None,
    name: str = "closed-form",
    chain: ChainSettings | None = None,
) -> NSSRModel:
    """The exact optimum of the DIL loss (or, with ``chain``, the degradation-aware one) as a model."""
    gallery = gallery or GallerySettings()
    loss = loss or DILLossSettings()
    for settings in (gallery, loss, chain):
        if settings is not None:
            settings.validate()
    kernel_array = make_gallery(gallery) if kernels is None else np.asarray(kernels, dtype=np.float32)
    objective = build_objective(kernel_array, gallery, loss, filter_size, chain)
    h = objective.optimum()
    return NSSRModel(
        filter=h,
        name=name,
        kind="closed_form",
        gallery=gallery,
        architecture=None,
        loss=loss,
        chain=chain,
        training={"optimum_loss": float(objective.loss(h)), "kernel_count": int(kernel_array.shape[0])},
    )
