"""ZSSR's per-image training: steps, augmentation, tiled inference, back-projection, and that a
short run on a small image with a known kernel beats bicubic, reproducibly."""

import numpy as np
import pytest
import torch
from skimage import data

from napari_nssr.core.degrade import downscale
from napari_nssr.core.resample import resample_plane
from napari_nssr.networks.zssr import ZSSRNet
from napari_nssr.training import zssr

CPU = torch.device("cpu")


def _drain(steps):
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def _psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((a - b) ** 2))


@pytest.mark.parametrize(
    "scale, gradual, expected",
    [(2, True, [2.0]), (4, True, [2.0, 4.0]), (3, True, [2.0, 3.0]), (8, True, [2.0, 4.0, 8.0]), (4, False, [4.0])],
)
def test_scale_steps(scale, gradual, expected):
    assert zssr.scale_steps(scale, gradual) == expected


def test_every_transform_is_undone(rng):
    x = rng.random((5, 7))
    for k in range(8):
        np.testing.assert_array_equal(zssr._undo_dihedral(zssr._dihedral(x, k), k), x)
    assert zssr.transforms(False) == [0, 2] and zssr.transforms(True, ensemble=False) == [0]


def test_tiled_inference_equals_the_whole(rng):
    net = ZSSRNet(depth=4, width=6, init_variance=2.0)
    up = rng.random((70, 53)).astype(np.float32) * 0.5 + 0.25
    whole = zssr.run_net(net, up, CPU, tile=1000)
    np.testing.assert_allclose(zssr.run_net(net, up, CPU, tile=16), whole, atol=1e-6)


def test_back_projection_makes_the_result_consistent_with_its_input(rng):
    lr = rng.random((20, 24)).astype(np.float32)
    sr = resample_plane(lr, (40, 48)) * 0.8 + 0.1
    before = np.abs(downscale(sr, lr.shape) - lr).mean()
    after = np.abs(downscale(zssr.back_project(sr, lr, None, 10), lr.shape) - lr).mean()
    assert after < 0.3 * before


def test_a_short_run_beats_bicubic_and_the_seed_reproduces_it():
    hr = data.camera().astype(np.float32)[96:224, 96:224] / 255
    lr = downscale(hr, (64, 64))  # the known kernel: anti-aliased bicubic, what ZSSR assumes
    recipe = zssr.ZSSRRecipe(iterations=120, crop=40, width=24, depth=5, back_projection=0, ensemble=False)
    steps = _drain(zssr.train_zssr(lr, 2.0, recipe, lambda f: None, True, CPU))
    out = zssr.upscale(lr, steps, recipe, CPU)
    bicubic = np.clip(resample_plane(lr, hr.shape), 0, 1)
    # the network alone (no back-projection, no ensemble) after 120 iterations: about +1 dB here
    assert _psnr(out, hr) > _psnr(bicubic, hr) + 0.5
    again = zssr.upscale(lr, _drain(zssr.train_zssr(lr, 2.0, recipe, lambda f: None, True, CPU)), recipe, CPU)
    np.testing.assert_allclose(again, out, atol=1e-5)


def test_progress_counts_iterations_over_all_steps(rng):
    lr = rng.random((24, 24)).astype(np.float32)
    recipe = zssr.ZSSRRecipe(iterations=20, crop=16, width=4, depth=2, back_projection=0, ensemble=False)
    reports = []
    steps = zssr.train_zssr(lr, 4.0, recipe, lambda f: None, True, CPU)
    while True:
        try:
            reports.append(next(steps))
        except StopIteration as done:
            trained = done.value
            break
    assert [s.factor for s in trained] == [2.0, 4.0]  # x2 first, its result a father of the x4 step
    assert reports[-1].done == reports[-1].total == 40 and "ZSSR x4" in reports[-1].text
