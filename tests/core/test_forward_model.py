"""The imaging model as an operator, and Richardson-Lucy under it."""

import numpy as np
import pytest

from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.forward_model import SamplingOperator, richardson_lucy_path
from napari_nssr.core.kernels import gaussian_kernel

#: a rotated elliptical Gaussian (applied as a 2D filter) and a round one (as a row and a column filter)
KERNELS = {"rotated": (1.3, 0.9, 0.4), "round": (1.2, 1.2, 0.0)}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("scale", [2, 3])
def test_forward_is_blur_subsample(scale, kernel):
    rng = np.random.default_rng(0)
    hr = rng.random((24 * scale, 20 * scale))
    psf = gaussian_kernel(11, *KERNELS[kernel])
    operator = SamplingOperator(psf, scale, (24, 20))
    assert operator.separable == (kernel == "round")
    # float32: a millionth of the values' range
    np.testing.assert_allclose(operator.forward(hr), blur_subsample(hr, psf, scale), atol=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_adjoint_is_the_transpose_away_from_the_borders(kernel):
    rng = np.random.default_rng(1)
    operator = SamplingOperator(gaussian_kernel(9, *KERNELS[kernel]), 2, (32, 32))
    x, y = np.zeros((64, 64)), np.zeros((32, 32))
    x[12:-12, 12:-12] = rng.random((40, 40))
    y[6:-6, 6:-6] = rng.random((20, 20))
    assert float(np.sum(operator.forward(x) * y)) == pytest.approx(float(np.sum(x * operator.adjoint(y))), rel=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_the_separable_path_equals_the_2d_filter(kernel):
    rng = np.random.default_rng(4)
    operator = SamplingOperator(gaussian_kernel(11, *KERNELS[kernel]), 3, (17, 22))
    general = SamplingOperator(gaussian_kernel(11, *KERNELS[kernel]), 3, (17, 22))
    general.separable = False
    hr, lr = rng.random(operator.hr_shape), rng.random(operator.lr_shape)
    np.testing.assert_allclose(operator.forward(hr), general.forward(hr), atol=1e-6)
    np.testing.assert_allclose(operator.adjoint(lr), general.adjoint(lr), atol=1e-6)
    # the spread plane is reused: a second call must not see the first one's values
    np.testing.assert_allclose(operator.adjoint(lr * 0), 0.0, atol=0)


def _psf(kind: str) -> np.ndarray:
    """Kernels whose outermost taps matter: a box (separable) and random positive taps (not)."""
    psf = np.ones((15, 15)) if kind == "box" else np.random.default_rng(5).random((15, 15))
    return psf / psf.sum()


@pytest.mark.parametrize("kernel", ["box", "random"])
@pytest.mark.parametrize(("scale", "shape"), [(2, (40, 33)), (3, (9, 50)), (4, (31, 31)), (2, (5, 7))])
def test_the_normaliser_built_from_a_small_plane_is_the_adjoint_of_ones(scale, shape, kernel):
    psf = _psf(kernel)
    operator = SamplingOperator(psf, scale, shape)
    direct = operator.adjoint(np.ones(shape, np.float32))
    assert operator.norm.shape == operator.hr_shape
    np.testing.assert_allclose(operator.norm, direct, rtol=1e-5, atol=1e-9)


def test_richardson_lucy_fits_clean_data_better_with_each_iteration_and_stays_above_the_floor():
    rng = np.random.default_rng(2)
    psf = gaussian_kernel(11, 1.5, 1.5, 0.0)
    truth = np.zeros((64, 64))
    truth[rng.integers(4, 60, 40), rng.integers(4, 60, 40)] = 1.0  # sparse points on a black background
    operator = SamplingOperator(psf, 2, (32, 32))
    observed = operator.forward(truth) + 0.1
    start = np.full((64, 64), float(observed.mean()))
    path = list(richardson_lucy_path(observed, start, operator, [0, 5, 20, 60], floor=0.1))
    assert [count for count, _ in path] == [0, 5, 20, 60]
    misfit = [float(np.mean((operator.forward(x) - observed) ** 2)) for _, x in path]
    assert misfit == sorted(misfit, reverse=True) and misfit[-1] < 0.05 * misfit[0]
    assert all(float(x.min()) >= 0.1 for _, x in path)
    errors = [float(np.mean((x - 0.1 - truth) ** 2)) for _, x in path]
    assert errors[-1] < errors[0]


def test_bad_iteration_counts_and_scales_are_refused():
    operator = SamplingOperator(gaussian_kernel(5, 1.0, 1.0, 0.0), 2, (8, 8))
    with pytest.raises(SettingsError, match="iteration"):
        next(richardson_lucy_path(np.ones((8, 8)), np.ones((16, 16)), operator, [-1]))
    with pytest.raises(SettingsError, match="integer scale"):
        SamplingOperator(gaussian_kernel(5, 1.0, 1.0, 0.0), 2.5, (8, 8))
