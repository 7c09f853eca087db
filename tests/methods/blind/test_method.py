"""The blind method end to end: registered, the default, and what it does to images."""

import dask.array as da
import numpy as np
from scipy import ndimage

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.apps.samples import degraded_sample
from napari_nssr.core.degrade import add_noise, blur_subsample
from napari_nssr.core.kernels import div2krk_kernel
from napari_nssr.core.metrics import psnr_y
from napari_nssr.core.request import Request
from napari_nssr.methods.blind.method import Blind
from napari_nssr.methods.blind.solve import BlindSettings


def test_blind_beats_bicubic_on_a_small_degraded_photo():
    sample = degraded_sample("astronaut", 2, max_side=160)
    blind = psnr_y(sample.hr, super_resolve(sample.lr, 2, "blind"), 2)
    bicubic = psnr_y(sample.hr, upsample_bicubic(sample.lr, 2), 2)
    assert blind > bicubic + 0.5


def test_blind_holds_back_on_noisy_input_where_a_fixed_filter_does_not():
    hr = degraded_sample("astronaut", 2, max_side=160).hr
    rng = np.random.default_rng(3)
    lr = add_noise(blur_subsample(hr, div2krk_kernel(21, 2, rng), 2), rng, poisson_peak=300).astype(np.float32)
    bicubic = psnr_y(hr, upsample_bicubic(lr, 2), 2)
    assert psnr_y(hr, super_resolve(lr, 2, "blind"), 2) > bicubic
    assert psnr_y(hr, super_resolve(lr, 2, "chain"), 2) < bicubic  # why the blind mode exists


def test_blind_works_on_rgb_stacks_and_dask(rng):
    rgb = rng.random((40, 48, 3)).astype(np.float32)
    assert super_resolve(rgb, 2, "blind").shape == (80, 96, 3)
    stack = ndimage.gaussian_filter(rng.random((3, 40, 40)), (0, 1, 1)).astype(np.float32)
    lazy = super_resolve(da.from_array(stack, chunks=(1, 40, 40)), 2, "blind")
    np.testing.assert_allclose(lazy.compute(), super_resolve(stack, 2, "blind"), atol=1e-6)


def test_blind_is_the_default_mode():
    lr = degraded_sample("astronaut", 2, max_side=96).lr
    np.testing.assert_array_equal(super_resolve(lr, 2), super_resolve(lr, 2, "blind"))
    assert not np.array_equal(super_resolve(lr, 2), super_resolve(lr, 2, "default"))


def test_prepare_records_the_estimate_and_the_settings():
    lr = degraded_sample("astronaut", 2, max_side=96).lr
    settings = BlindSettings(noise_margin=2.0)
    prepared = Blind().prepare(lr, Request((2.0, 2.0), settings).plan(lr))
    record = prepared.describe()
    assert record["method"] == "blind" and record["settings"]["noise_margin"] == 2.0
    assert {"major_hr", "minor_hr", "angle_deg", "noise"} <= set(record["estimate"])
    assert prepared.model is not None and prepared.model.training["blind"]["settings"]["noise_margin"] == 2.0
