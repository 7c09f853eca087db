import numpy as np
import pytest
import torch

from napari_nssr import GallerySettings
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.filters import project_sum_to_one
from napari_nssr.core.kernels import make_gallery
from napari_nssr.objectives.dil import (
    DILLossSettings,
    DILObjective,
    DILStatistics,
    closed_form_filter,
    dil_loss,
    validate_kernel_tensor,
)


@pytest.fixture(scope="module")
def kernels():
    return torch.tensor(make_gallery(GallerySettings(count=40, size=15, seed=2)), dtype=torch.float64)


@pytest.mark.parametrize("hold, ridge", [(True, 0.0), (False, 0.0), (True, 0.01)])
def test_statistics_give_the_same_loss_as_convolving(kernels, hold, ridge):
    settings = DILLossSettings(hold_sum_at_one=hold, ridge=ridge)
    stats = DILStatistics.from_kernels(kernels, 7)
    h = torch.randn(7, 7, dtype=torch.float64) * 0.1
    h[3, 3] += 1
    assert float(stats.loss(h, settings)) == pytest.approx(float(dil_loss(h, kernels, settings)), rel=1e-10)


@pytest.mark.parametrize("hold, ridge", [(True, 0.0), (False, 0.0), (True, 1e-3)])
def test_closed_form_is_the_minimum(kernels, hold, ridge):
    settings = DILLossSettings(hold_sum_at_one=hold, ridge=ridge)
    stats = DILStatistics.from_kernels(kernels, 7)
    h = closed_form_filter(stats, settings)
    best = float(stats.loss(h, settings))
    if hold:
        assert float(h.sum()) == pytest.approx(1.0, abs=1e-12)
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        step = torch.randn(7, 7, generator=gen, dtype=torch.float64) * 1e-3
        if hold:
            step -= step.mean()  # stay on sum(h) = 1
        assert float(stats.loss(h + step, settings)) >= best - 1e-12


def test_paper_loss_optimum_gain_is_near_one_not_1p11(kernels):
    # the pure least-squares part has a gain well above 1; the absolute terms pull it back
    stats = DILStatistics.from_kernels(kernels, 7)
    h = closed_form_filter(stats, DILLossSettings(hold_sum_at_one=False))
    least_squares = torch.linalg.solve(stats.gram, stats.centre_rows.mean(0))
    assert abs(float(h.sum()) - 1) < abs(float(least_squares.sum()) - 1)


def test_projection_keeps_shape_and_fixes_sum():
    h = torch.rand(5, 5, dtype=torch.float64)
    p = project_sum_to_one(h)
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose((p - h).numpy(), np.full((5, 5), float(p[0, 0] - h[0, 0])), atol=1e-6)


def test_ridge_tames_the_inverse_of_a_single_kernel():
    one = torch.tensor(make_gallery(GallerySettings(count=1, size=15, sigma_min=1.5, sigma_max=1.5)))
    stats = DILStatistics.from_kernels(one, 7)
    wild = closed_form_filter(stats, DILLossSettings())
    tame = closed_form_filter(stats, DILLossSettings(ridge=1e-2))
    assert float(tame.norm()) < 0.2 * float(wild.norm())
    assert float(tame.sum()) == pytest.approx(1.0, abs=1e-9)


def test_closed_form_never_returns_a_worse_iterate():
    # a small widefield gallery on which plain IRLS jumped from 0.796 (30 steps) to 1.154 (60 steps)
    optics = GallerySettings(
        family="widefield", count=16, size=9, numerical_aperture=1.2, wavelength_um=0.6, pixel_um=0.08, defocus_um=0.3
    )
    stats = DILStatistics.from_kernels(make_gallery(optics), 5)
    settings = DILLossSettings(hold_sum_at_one=True)
    losses = [float(stats.loss(closed_form_filter(stats, settings, iterations=n), settings)) for n in (30, 60, 200)]
    assert losses[1] <= losses[0] + 1e-12 and losses[2] <= losses[1] + 1e-12
    assert losses[2] < 0.8


def test_the_objective_wraps_statistics_and_settings(kernels):
    settings = DILLossSettings(hold_sum_at_one=True)
    objective = DILObjective(DILStatistics.from_kernels(kernels, 7), settings)
    h = objective.optimum()
    assert objective.size == 7 and float(objective.loss(h)) <= float(objective.to("cpu").loss(h)) + 1e-12


@pytest.mark.parametrize("bad", [dict(sum_weight=-1), dict(ridge=float("inf")), dict(hold_sum_at_one="yes")])
def test_bad_loss_settings(bad):
    with pytest.raises(SettingsError):
        DILLossSettings(**bad)


def test_kernel_stacks_are_checked():
    with pytest.raises(SettingsError, match="non-empty"):
        validate_kernel_tensor(torch.zeros(0, 3, 3))
    with pytest.raises(SettingsError, match="NaN"):
        validate_kernel_tensor(torch.full((1, 3, 3), float("nan")))
