from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_nssr.core.errors import ResourceError, SettingsError, TrainingError
from napari_nssr.core.kernels import GallerySettings
from napari_nssr.networks.lcnn import LCNNSettings
from napari_nssr.objectives.chain import ChainSettings
from napari_nssr.objectives.dil import DILLossSettings, DILObjective
from napari_nssr.training.presets import PAPER_RECIPE
from napari_nssr.training.trainer import (
    Cancelled,
    TrainSettings,
    build_objective,
    iter_train,
    solve_closed_form,
    train_model,
)

SMALL_NET = LCNNSettings(depth=3, width=8)


def test_tiny_training_reaches_the_closed_form_optimum(tiny_result):
    r = tiny_result
    assert r.converged
    assert r.relative_gap < 0.01
    assert r.loss < r.identity_loss  # it learned something beyond doing nothing
    assert r.model.dc_gain == pytest.approx(1.0, abs=1e-6)
    assert r.history[-1] < r.history[0]


def test_free_sum_training_converges_too(tiny_gallery):
    r = train_model(
        tiny_gallery,
        SMALL_NET,
        DILLossSettings(hold_sum_at_one=False),
        TrainSettings(epochs=600, learning_rate=3e-3, lr_step=200, device="cpu"),
    )
    assert r.converged, r.relative_gap


def test_paper_recipe_is_flagged(tiny_gallery):
    recipe = replace(PAPER_RECIPE, epochs=3, device="cpu")
    try:
        r = train_model(tiny_gallery, LCNNSettings(), DILLossSettings(hold_sum_at_one=False), recipe)
    except TrainingError:
        return  # diverged to NaN: reported as an error
    assert not r.converged
    assert r.loss > 2 * r.optimum_loss


def test_training_is_seeded(tiny_gallery):
    settings = TrainSettings(epochs=30, device="cpu", seed=5)
    a = train_model(tiny_gallery, SMALL_NET, train=settings).model.filter
    b = train_model(tiny_gallery, SMALL_NET, train=settings).model.filter
    torch.testing.assert_close(a, b)


def test_progress_and_cancel(tiny_gallery):
    seen = []
    with pytest.raises(Cancelled):
        train_model(
            tiny_gallery,
            SMALL_NET,
            train=TrainSettings(epochs=100, device="cpu"),
            progress=seen.append,
            cancel=lambda: len([p for p in seen if p.epoch]) >= 3,
        )
    assert [p.epoch for p in seen if p.epoch] == [1, 10, 20]


def test_generator_yields_progress_and_returns_result(tiny_gallery):
    steps = iter_train(tiny_gallery, SMALL_NET, train=TrainSettings(epochs=20, device="cpu"))
    reports = []
    with pytest.raises(StopIteration) as stop:
        while True:
            reports.append(next(steps))
    assert [p.epoch for p in reports if p.epoch] == [1, 10, 20]
    assert stop.value.value.model.kind == "lcnn"
    setup = [p for p in reports if not p.epoch]
    assert setup[0].text.startswith("drawing") and setup[-1].text == "kernel statistics: 48 of 48"


def test_training_can_be_stopped_while_the_statistics_accumulate(tiny_gallery):
    # a large gallery's statistics take seconds: a cancel must not wait for them to finish
    seen = []
    with pytest.raises(Cancelled):
        train_model(
            GallerySettings(count=1024, size=15),
            SMALL_NET,
            train=TrainSettings(epochs=10, device="cpu"),
            progress=seen.append,
            cancel=lambda: any(p.phase.startswith("kernel statistics") for p in seen),
        )
    assert seen[-1].text == "kernel statistics: 256 of 1024" and seen[-1].fraction < 0.1


def test_user_kernels_and_minibatches(tiny_gallery):
    psf = np.zeros((3, 15, 15), np.float32)
    psf[:, 6:9, 6:9] = 1
    r = train_model(tiny_gallery, SMALL_NET, train=TrainSettings(epochs=5, batch_size=2, device="cpu"), kernels=psf)
    assert r.model.training["kernel_count"] == 3 and r.model.training["user_kernels"]


def test_closed_form_model(tiny_gallery):
    m = solve_closed_form(tiny_gallery, filter_size=7)
    assert m.kind == "closed_form" and m.filter.shape == (7, 7)
    assert m.dc_gain == pytest.approx(1.0, abs=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error when CUDA is absent")
def test_cuda_request_without_cuda_is_a_clear_error(tiny_gallery):
    with pytest.raises(SettingsError, match="CUDA"):
        train_model(tiny_gallery, SMALL_NET, train=TrainSettings(epochs=1, device="cuda"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_on_cuda(tiny_gallery):
    r = train_model(tiny_gallery, SMALL_NET, train=TrainSettings(epochs=50, device="cuda"))
    assert r.model.filter.device.type == "cpu"


@pytest.mark.parametrize(
    "bad",
    [
        dict(epochs=0),
        dict(learning_rate=-1),
        dict(init="zeros"),
        dict(batch_size=0),
        dict(lr_gamma=2.0),
        dict(learning_rate=float("nan")),
    ],
)
def test_bad_train_settings(bad):
    with pytest.raises(SettingsError):
        TrainSettings(**bad)


def test_mini_batches_are_for_the_identity_objective_only(tiny_gallery):
    with pytest.raises(SettingsError, match="mini-batches"):
        next(iter_train(tiny_gallery, SMALL_NET, train=TrainSettings(batch_size=4), chain=ChainSettings()))


def test_build_objective_picks_the_identity_or_the_chain(tiny_gallery):
    kernels = np.zeros((2, 15, 15), np.float32)
    kernels[:, 7, 7] = 1
    assert isinstance(build_objective(kernels, tiny_gallery, DILLossSettings(), 5, None), DILObjective)
    chain = build_objective(kernels, GallerySettings(scale=2.0), DILLossSettings(), 5, ChainSettings(image_size=48))
    assert not isinstance(chain, DILObjective) and chain.size == 5


def test_small_gallery_size_fits_network(tiny_gallery):
    # a 15x15 gallery with a 7x7 filter network still trains
    r = train_model(GallerySettings(count=4, size=15), SMALL_NET, train=TrainSettings(epochs=2, device="cpu"))
    assert r.model.filter.shape == (7, 7)


def test_a_gallery_too_big_for_memory_is_refused_before_drawing(monkeypatch, tiny_gallery):
    from napari_nssr.core import resources

    monkeypatch.setattr(resources, "available_memory", lambda: 2**30)
    drawn = []
    import napari_nssr.training.trainer as trainer

    monkeypatch.setattr(trainer, "make_gallery", lambda g: drawn.append(g))
    with pytest.raises(ResourceError, match="GiB of memory"):
        train_model(GallerySettings(count=200_000), SMALL_NET, train=TrainSettings(epochs=1, device="cpu"))
    assert drawn == []


def test_statistics_memory_does_not_grow_with_the_gallery():
    # a view of one row kept each batch's 100 MB map alive: 3.9 GB for 8,000 kernels
    from napari_nssr.objectives.dil import DILStatistics

    kernels = np.zeros((600, 21, 21), np.float32)
    kernels[:, 10, 10] = 1
    stats = DILStatistics.from_kernels(kernels, 11)
    assert stats.centre_rows._base is None  # a copy, not a view into a batch


def test_single_pixel_kernels_are_refused_before_training(tiny_gallery):
    # a delta has nothing to invert; its optimum loss is 0 and the convergence ratio divided by it
    with pytest.raises(SettingsError, match="single pixel"):
        train_model(tiny_gallery, SMALL_NET, train=TrainSettings(epochs=1, device="cpu"), kernels=np.ones((1, 1, 1)))


def test_a_zero_optimum_is_converged_not_a_division_by_zero(tiny_result):
    from dataclasses import replace as swap

    exact = swap(tiny_result, loss=0.0, optimum_loss=0.0)
    assert exact.relative_gap == 0.0


def test_wrong_arguments_and_zero_kernels_are_refused_for_what_they_are():
    from napari_nssr.core.errors import SettingsError

    with pytest.raises(SettingsError, match="train_preset"):
        train_model("default")
    with pytest.raises(SettingsError, match="kernel 1 sums to 0"):
        train_model(kernels=np.stack([np.eye(5) / 5, np.zeros((5, 5))]))
