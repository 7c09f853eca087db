"""The imaging model as an operator, and Richardson-Lucy under it."""

import numpy as np
import pytest

from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.forward_model import SamplingOperator, richardson_lucy_path
from napari_nssr.core.kernels import gaussian_kernel


@pytest.mark.parametrize("scale", [2, 3])
def test_forward_is_blur_subsample(scale):
    rng = np.random.default_rng(0)
    hr = rng.random((24 * scale, 20 * scale))
    psf = gaussian_kernel(11, 1.3, 0.9, 0.4)
    operator = SamplingOperator(psf, scale, (24, 20))
    np.testing.assert_allclose(operator.forward(hr), blur_subsample(hr, psf, scale), atol=1e-10)


def test_adjoint_is_the_transpose_away_from_the_borders():
    rng = np.random.default_rng(1)
    operator = SamplingOperator(gaussian_kernel(9, 1.1, 1.1, 0.0), 2, (32, 32))
    x, y = np.zeros((64, 64)), np.zeros((32, 32))
    x[12:-12, 12:-12] = rng.random((40, 40))
    y[6:-6, 6:-6] = rng.random((20, 20))
    assert float(np.sum(operator.forward(x) * y)) == pytest.approx(float(np.sum(x * operator.adjoint(y))), rel=1e-9)


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
