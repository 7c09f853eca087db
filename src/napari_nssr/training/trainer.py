"""Training the L-CNN with Deep Identity Learning, checked against the closed-form optimum.

Recipe (see docs/method.md): near-identity initialisation, Adam at lr 1e-3 with the learning
rate halved every 300 steps, full-batch steps over the whole gallery, 1000 steps. The paper's
own recipe (default init, lr 0.1, batches of 32) is available as ``PAPER_RECIPE`` and diverges.

The network is linear, so each step folds it into its one filter (a tiny forward pass on an
impulse) and scores that filter with the gallery's precomputed :class:`DILStatistics`: the same
loss value as convolving every kernel, at a thousandth of the cost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.devices import resolve_device
from ..core.errors import Cancelled, ModelFileError, SettingsError, TrainingError
from ..core.filters import delta_filter, project_sum_to_one
from ..core.kernels import GallerySettings, make_gallery
from ..core.progress import drain, relay, run_steps
from ..core.resources import check_fits
from ..core.settings import Settings, setting, settings_to_dict
from ..models.model import NSSRModel
from ..networks.lcnn import LCNN, LCNNSettings
from ..objectives.base import Objective
from ..objectives.chain import ChainSettings, ChainStatistics
from ..objectives.dil import DILLossSettings, DILObjective, DILStatistics, dil_loss

__all__ = [
    "TrainProgress",
    "TrainResult",
    "TrainSettings",
    "TrainingError",
    "build_objective",
    "iter_train",
    "solve_closed_form",
    "train_model",
]


# a loss this close to the optimum is converged whatever the optimum (which is 0 for a delta kernel)
ABSOLUTE_TOLERANCE = 1e-9


def estimated_bytes(gallery: GallerySettings, filter_size: int, user_kernels: np.ndarray | None = None) -> int:
    """Peak memory of training or solving on a gallery, estimated before anything is drawn.

    Parameters
    ----------
    gallery : GallerySettings
        Its count and kernel size (ignored for ``user_kernels``).
    filter_size : int
        Side of the filter.
    user_kernels : numpy.ndarray, optional
        Kernels given instead of drawing the gallery.

    Returns
    -------
    int
        Bytes: the kernels three times (drawn in float64, kept in float32 and as a tensor), two rows
        of statistics per kernel, and one batch of the statistics' linear maps.
    """
    count, side = (
        (user_kernels.shape[0], user_kernels.shape[-1])
        if user_kernels is not None
        else (
            gallery.count,
            gallery.size,
        )
    )
    taps = filter_size**2
    per_kernel = side * side * (8 + 4 + 4) + 2 * taps * 8
    batch = 256 * side * side * taps * 8 * 3
    return int(count * per_kernel + batch)


def _check_not_all_deltas(kernels: np.ndarray) -> None:
    """Refuse kernels that do not sum to a positive number (all zero, say: nothing blurs), and a
    gallery whose every kernel is a single pixel: there is no blur to invert."""
    flat = kernels.reshape(len(kernels), -1)
    sums = flat.sum(axis=1) if len(flat) else np.zeros(0)
    if len(flat) and not (np.isfinite(sums) & (sums > 0)).all():
        bad = int(np.flatnonzero(~(np.isfinite(sums) & (sums > 0)))[0])
        raise SettingsError(f"kernel {bad} sums to {float(sums[bad]):g}: a blur kernel's taps sum to a positive number")
    if len(flat) and bool((flat.max(axis=1) >= flat.sum(axis=1) * (1 - 1e-6)).all()):
        raise SettingsError("every kernel is a single pixel (no blur): there is nothing to invert")


@dataclass(frozen=True)
class TrainSettings(Settings):
    """Optimiser settings. An epoch is one pass over the gallery (one step when full-batch).

    Examples
    --------
    >>> from napari_nssr import TrainSettings
    >>> TrainSettings(epochs=200, learning_rate=1e-3).epochs
    200
    """

    epochs: int = setting(
        1000, "passes over the gallery (one optimiser step each when full-batch)", min=1, max=1_000_000
    )
    learning_rate: float = setting(
        1e-3, "Adam's learning rate", min=0, max=10, min_exclusive=True, step=1e-4, label="Learning rate", flag="lr"
    )
    lr_step: int = setting(300, "epochs between learning-rate drops", min=1, advanced=True)
    lr_gamma: float = setting(0.5, "factor of each learning-rate drop", min=0, max=1, min_exclusive=True, advanced=True)
    init: str = setting(
        "near_identity",
        "start from the identity map (converges) or PyTorch's default init (the paper's, diverges at lr 0.1)",
        choices=("near_identity", "default"),
        advanced=True,
    )
    init_noise: float = setting(1e-2, "std of the noise added to the near-identity start", min=0, advanced=True)
    batch_size: int | None = setting(
        None, "kernels per step; none: the whole gallery (full batch)", min=1, advanced=True
    )
    device: str = setting("auto", "where to train: auto (CUDA when present), cpu, cuda or cuda:N")
    seed: int = setting(
        0,
        "seed of the network's initialisation and batch order",
        min=0,
        max=2**31 - 1,
        advanced=True,
        flag="train-seed",
    )
    tolerance: float = setting(
        0.01, "convergence: final loss within this fraction of the exact optimum", min=0, advanced=True
    )


def build_objective(
    kernels: np.ndarray, gallery: GallerySettings, loss: DILLossSettings, size: int, chain: ChainSettings | None
) -> Objective:
    """The identity objective, or the degradation-aware one when ``chain`` is given.

    Parameters
    ----------
    kernels : numpy.ndarray
        ``(n, k, k)`` gallery.
    gallery : GallerySettings
        Its settings (``scale`` is the chain objective's scale).
    loss : DILLossSettings
        Loss weights and whether the sum is held at 1.
    size : int
        Side of the filters.
    chain : ChainSettings or None
        The degradation-aware objective's prior and noise; ``None`` for the paper's loss.

    Returns
    -------
    Objective
    """
    return drain(iter_build_objective(kernels, gallery, loss, size, chain))


def iter_build_objective(
    kernels: np.ndarray, gallery: GallerySettings, loss: DILLossSettings, size: int, chain: ChainSettings | None
) -> Generator[tuple[int, int], None, Objective]:
    """:func:`build_objective`, yielding ``(kernels done, total)`` as the statistics accumulate."""
    if chain is None:
        stats = yield from DILStatistics.iter_from_kernels(kernels, size)
        return DILObjective(stats, loss)
    return (
        yield from ChainStatistics.iter_from_kernels(kernels, gallery.scale, size, chain, hold_sum=loss.hold_sum_at_one)
    )


# the share of a training run's progress bar given to drawing the gallery and its statistics
SETUP_SHARE = 0.1


@dataclass
class TrainProgress:
    """One progress report: epoch done (1-based; 0 while setting up), total epochs, current loss
    (NaN while setting up), what is being done, and the fraction of the whole run done."""

    epoch: int
    epochs: int
    loss: float
    phase: str = "training"
    fraction: float = 0.0

    @property
    def text(self) -> str:
        """What a progress line shows."""
        if self.epoch == 0:
            return self.phase
        return f"epoch {self.epoch} of {self.epochs}: loss {self.loss:.5g}"


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
        """``(loss - optimum) / optimum``: how far above the closed-form optimum training ended
        (0 when both are 0, as for kernels that need no inverting)."""
        gap = self.loss - self.optimum_loss
        if self.optimum_loss <= 0:
            return 0.0 if gap <= ABSOLUTE_TOLERANCE else math.inf
        return gap / self.optimum_loss


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
    """Train step by step, yielding progress; the generator returns the result.

    Parameters
    ----------
    gallery : GallerySettings, optional
        The kernel gallery (the paper's by default).
    architecture : LCNNSettings, optional
        The L-CNN (the paper's: 5 layers of 32 channels).
    loss : DILLossSettings, optional
        Loss weights and whether the filter sum is held at 1.
    train : TrainSettings, optional
        The optimiser.
    kernels : numpy.ndarray, optional
        ``(n, k, k)`` kernels used instead of drawing ``gallery`` (user-supplied PSFs).
    name : str
        The model's name.
    report_every : int
        Epochs between progress reports.
    chain : ChainSettings, optional
        Train on the degradation-aware objective (at ``gallery.scale``) instead of the paper's.

    Yields
    ------
    TrainProgress
        Every ``report_every`` epochs and at the end.

    Returns
    -------
    TrainResult
        The model, its loss history and the convergence check against the exact optimum.

    Raises
    ------
    TrainingError
        When the loss becomes NaN or the trained filter is unusable (the paper's recipe diverges).

    Notes
    -----
    Stopping iteration early is the way to cancel (napari's ``thread_worker`` does this on ``quit()``).

    References
    ----------
    .. [1] S. Vamsidhar and R. K. Gorthi, "NSSR-DIL: Null-Shot Image Super-Resolution Using Deep
       Identity Learning", arXiv:2409.12165, 2024 (the gallery, the L-CNN and the DIL loss).

    Examples
    --------
    >>> from napari_nssr import GallerySettings, TrainSettings, iter_train
    >>> steps = iter_train(GallerySettings(count=32, size=15), train=TrainSettings(epochs=20, device="cpu"))
    >>> first = next(steps)
    >>> first.epochs
    20
    >>> steps.close()
    """
    for value, kind, argument in (
        (gallery, GallerySettings, "gallery"),
        (architecture, LCNNSettings, "architecture"),
        (loss, DILLossSettings, "loss"),
        (train, TrainSettings, "train"),
    ):
        if value is not None and not isinstance(value, kind):
            hint = "; to train a bundled model's recipe again use train_preset(name)" if isinstance(value, str) else ""
            raise SettingsError(f"{argument} must be a {kind.__name__}, got {value!r}{hint}")
    gallery = gallery or GallerySettings()
    architecture = architecture or LCNNSettings()
    loss = loss or DILLossSettings()
    train = train or TrainSettings()
    if chain is not None and train.batch_size is not None:
        raise SettingsError("mini-batches apply to the identity objective only; use batch_size=None with chain")
    device = resolve_device(train.device)
    started = time.perf_counter()
    kernel_array, objective = yield from _iter_objective(gallery, loss, architecture.filter_size, train, kernels, chain)
    # one generator draws the start and then the batches, in that order (a seed gives one result)
    gen = torch.Generator().manual_seed(train.seed)
    net = _new_network(architecture, train, device, gen)
    history = yield from _iter_epochs(net, objective, kernel_array, loss, train, device, gen, report_every)
    model, final_loss, optimum_loss, identity_loss, converged = _trained_model(
        net,
        objective,
        name,
        (gallery, architecture, loss, train, chain),
        len(kernel_array),
        kernels is not None,
        started,
    )
    seconds = float(model.training["seconds"])
    return TrainResult(model, history, final_loss, optimum_loss, identity_loss, converged, seconds)


def _iter_objective(
    gallery: GallerySettings,
    loss: DILLossSettings,
    size: int,
    train: TrainSettings,
    kernels: np.ndarray | None,
    chain: ChainSettings | None,
) -> Generator[TrainProgress, None, tuple[np.ndarray, Objective]]:
    """The gallery's kernels and the objective built on them (its statistics reported as they grow)."""
    count = gallery.count if kernels is None else len(kernels)
    check_fits(estimated_bytes(gallery, size, kernels), f"training on {count} kernels")
    yield TrainProgress(0, train.epochs, math.nan, f"drawing {count} kernels", 0.0)
    kernel_array = make_gallery(gallery) if kernels is None else np.asarray(kernels, dtype=np.float32)
    _check_not_all_deltas(kernel_array)
    building = iter_build_objective(kernel_array, gallery, loss, size, chain)

    def statistics_step(counts: tuple[int, int]) -> TrainProgress:
        done, total = counts
        return TrainProgress(
            0, train.epochs, math.nan, f"kernel statistics: {done} of {total}", SETUP_SHARE * done / total
        )

    objective = yield from relay(building, statistics_step)
    return kernel_array, objective


def _new_network(architecture: LCNNSettings, train: TrainSettings, device: torch.device, gen: torch.Generator) -> LCNN:
    """The L-CNN at its starting weights (seeded), on ``device``."""
    torch.manual_seed(train.seed)  # nn.Conv2d's default init draws from the global generator
    net = LCNN(architecture)
    if train.init == "near_identity":
        net.reset_near_identity(train.init_noise, generator=gen)
    return net.to(device)


def _iter_epochs(
    net: LCNN,
    objective: Objective,
    kernel_array: np.ndarray,
    loss: DILLossSettings,
    train: TrainSettings,
    device: torch.device,
    gen: torch.Generator,
    report_every: int,
) -> Generator[TrainProgress, None, list[float]]:
    """Adam on the folded network for ``train.epochs`` epochs; returns the loss after each epoch."""
    objective_dev = objective.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=train.learning_rate)
    scheduler = torch.optim.lr_scheduler.StepLR(optimiser, step_size=train.lr_step, gamma=train.lr_gamma)
    kernels_dev = torch.as_tensor(kernel_array, device=device)
    n = kernels_dev.shape[0]
    history: list[float] = []
    for epoch in range(1, train.epochs + 1):
        batches: list[torch.Tensor | None]
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
        # epoch 1 too: the first steps carry torch's start-up cost (about 1 s before epoch 10)
        if epoch == 1 or epoch % report_every == 0 or epoch == train.epochs:
            fraction = SETUP_SHARE + (1 - SETUP_SHARE) * epoch / train.epochs
            yield TrainProgress(epoch, train.epochs, epoch_loss, "training", fraction)
    return history


def _trained_model(
    net: LCNN,
    objective: Objective,
    name: str,
    recipe: tuple[GallerySettings, LCNNSettings, DILLossSettings, TrainSettings, ChainSettings | None],
    count: int,
    user_kernels: bool,
    started: float,
) -> tuple[NSSRModel, float, float, float, bool]:
    """The trained network as a model, checked against the exact optimum: the model, its loss, the
    optimum's, the identity's and whether it converged."""
    gallery, architecture, loss, train, chain = recipe
    net = net.to("cpu", torch.float64)
    with torch.no_grad():
        h = _effective_filter(net, loss)
    optimum_loss = float(objective.loss(objective.optimum()))
    final_loss = float(objective.loss(h))
    identity_loss = float(objective.loss(delta_filter(architecture.filter_size, torch.float64)))
    converged = final_loss <= optimum_loss * (1 + train.tolerance) + ABSOLUTE_TOLERANCE
    training = {
        "settings": settings_to_dict(train),
        "final_loss": final_loss,
        "optimum_loss": optimum_loss,
        "identity_loss": identity_loss,
        "converged": converged,
        "seconds": round(time.perf_counter() - started, 3),
        "kernel_count": int(count),
        "user_kernels": user_kernels,
    }
    try:
        model = NSSRModel(
            filter=h,
            name=name,
            kind="lcnn",
            gallery=gallery,
            architecture=architecture,
            loss=loss,
            chain=chain,
            training=training,
            network_state={k: v.to(torch.float32) for k, v in net.state_dict().items()},
        )
    except ModelFileError as exc:  # a filter no model may hold: the paper's recipe, say
        raise TrainingError(
            f"training diverged to an unusable filter ({exc}); lower the learning rate or use init='near_identity'"
        ) from exc
    return model, final_loss, optimum_loss, identity_loss, converged


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
    """Train to the end (see :func:`iter_train` for the settings).

    Parameters
    ----------
    gallery, architecture, loss, train, kernels, name, chain
        As for :func:`iter_train`.
    progress : callable, optional
        Called with each :class:`TrainProgress`.
    cancel : callable, optional
        Polled after each report; returning True raises :class:`~napari_nssr.core.errors.Cancelled`.

    Returns
    -------
    TrainResult

    References
    ----------
    .. [1] S. Vamsidhar and R. K. Gorthi, "NSSR-DIL: Null-Shot Image Super-Resolution Using Deep
       Identity Learning", arXiv:2409.12165, 2024.

    Examples
    --------
    >>> from napari_nssr import GallerySettings, TrainSettings, train_model
    >>> result = train_model(GallerySettings(count=32, size=15), train=TrainSettings(epochs=20, device="cpu"))
    >>> result.model.size, round(result.model.dc_gain, 6)  # the filter's taps sum to 1: brightness kept
    (11, 1.0)
    """
    steps = iter_train(gallery, architecture, loss, train, kernels, name, chain=chain)
    return run_steps(
        steps, progress, cancel, lambda p: Cancelled(f"training cancelled at epoch {p.epoch} of {p.epochs}")
    )


def solve_closed_form(
    gallery: GallerySettings | None = None,
    loss: DILLossSettings | None = None,
    filter_size: int = 11,
    kernels: np.ndarray | None = None,
    name: str = "closed-form",
    chain: ChainSettings | None = None,
) -> NSSRModel:
    """The exact optimum of the DIL loss (or, with ``chain``, the degradation-aware one) as a model.

    Parameters
    ----------
    gallery : GallerySettings, optional
        The kernel gallery.
    loss : DILLossSettings, optional
        Loss weights and whether the sum is held at 1.
    filter_size : int
        Side of the filter (odd).
    kernels : numpy.ndarray, optional
        Kernels used instead of drawing ``gallery``.
    name : str
        The model's name.
    chain : ChainSettings, optional
        Solve the degradation-aware objective instead of the paper's.

    Returns
    -------
    NSSRModel
        A ``closed_form`` model.

    Examples
    --------
    >>> from napari_nssr import GallerySettings
    >>> from napari_nssr.training import solve_closed_form
    >>> model = solve_closed_form(GallerySettings(count=32, size=15))
    >>> model.size, round(model.dc_gain, 4)
    (11, 1.0)
    """
    gallery = gallery or GallerySettings()
    loss = loss or DILLossSettings()
    check_fits(estimated_bytes(gallery, filter_size, kernels), f"solving for {gallery.count} kernels")
    kernel_array = make_gallery(gallery) if kernels is None else np.asarray(kernels, dtype=np.float32)
    objective = build_objective(kernel_array, gallery, loss, filter_size, chain)
    h = objective.optimum()
    training = {"optimum_loss": float(objective.loss(h)), "kernel_count": int(kernel_array.shape[0])}
    return NSSRModel.closed_form(h, name, gallery, chain, training, loss)
