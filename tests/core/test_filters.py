import pytest
import torch

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.filters import blend_with_identity, convolve, delta_filter, project_sum_to_one, solve_quadratic


def test_convolve_is_true_convolution():
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 4] = 1.0
    h = torch.arange(9.0).reshape(3, 3)
    torch.testing.assert_close(convolve(x, h, padding="zeros")[0, 0, 3:6, 3:6], h)
    assert convolve(x, h, padding="valid").shape == (1, 1, 7, 7)
    assert convolve(x, h, padding="reflect").shape == (1, 1, 9, 9)
    with pytest.raises(ValueError):
        convolve(x, h, padding="wrap")


def test_blend_with_identity():
    h = torch.rand(5, 5)
    torch.testing.assert_close(blend_with_identity(h, 0.0), delta_filter(5))
    torch.testing.assert_close(blend_with_identity(h, 1.0), h)


def test_delta_filter_needs_an_odd_size():
    assert float(delta_filter(3).sum()) == 1.0
    with pytest.raises(SettingsError):
        delta_filter(4)


def test_projection_fixes_the_sum():
    h = torch.rand(5, 5, dtype=torch.float64)
    assert float(project_sum_to_one(h).sum()) == pytest.approx(1.0, abs=1e-12)


def test_solve_quadratic_with_and_without_the_unit_sum():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    gram = a @ a.T + torch.eye(6, dtype=torch.float64)
    cross = torch.randn(6, generator=gen, dtype=torch.float64)
    free = solve_quadratic(gram, cross, unit_sum=False)
    torch.testing.assert_close(gram @ free, cross)
    held = solve_quadratic(gram, cross, unit_sum=True)
    assert float(held.sum()) == pytest.approx(1.0, abs=1e-12)

    def loss(w):
        return float(w @ gram @ w - 2 * cross @ w)

    for _ in range(20):  # no feasible step lowers the loss
        step = torch.randn(6, generator=gen, dtype=torch.float64) * 1e-3
        assert loss(held + step - step.mean()) >= loss(held) - 1e-12
