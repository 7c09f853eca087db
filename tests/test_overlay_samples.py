"""Qt-free helpers behind the napari plugin: overlay geometry, samples, reference scores, kernel pictures."""

import numpy as np
import pytest
import torch

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.diagnostics import kernel_mosaic, restored_kernels
from napari_nssr.kernels import GallerySettings, make_gallery
from napari_nssr.metrics import compare_to_reference
from napari_nssr.model import delta_filter
from napari_nssr.overlay import overlay_geometry
from napari_nssr.samples import SAMPLES, degraded_sample


def world(scale, translate, linear, index):
    return linear @ (np.asarray(scale) * np.asarray(index, dtype=float)) + np.asarray(translate)


@pytest.mark.parametrize("angle", [0.0, 0.4])
def test_output_pixels_land_on_their_input_positions(angle):
    c, s = np.cos(angle), np.sin(angle)
    linear = np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])
    scale_in, translate_in = (3.0, 0.5, 2.0), (1.0, -4.0, 7.0)
    shape_in, shape_out = (5, 10, 7), (5, 25, 18)  # leading axis unchanged, x2.5 rows, 18/7 cols
    scale_out, translate_out = overlay_geometry(scale_in, translate_in, shape_in, shape_out, linear)
    assert scale_out[0] == 3.0
    for j in [(0, 0, 0), (2, 7, 11), (4, 24, 17)]:
        ratio = np.array(shape_in) / np.array(shape_out)
        source = (np.array(j) + 0.5) * ratio - 0.5  # pixel-centre alignment of the upsampler
        np.testing.assert_allclose(
            world(scale_out, translate_out, linear, j), world(scale_in, translate_in, linear, source), atol=1e-12
        )


def test_overlay_geometry_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one entry per dimension"):
        overlay_geometry((1, 1), (0, 0, 0), (4, 4), (8, 8))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_overlay_their_ground_truth(name):
    sample = degraded_sample(name, 2, max_side=96)
    assert sample.hr.dtype == sample.lr.dtype == np.float32
    assert sample.lr.shape[:2] == (sample.hr.shape[0] // 2, sample.hr.shape[1] // 2)
    assert 0 <= sample.lr.min() and sample.lr.max() <= 1
    # bicubic of the LR image on the HR grid is close to the truth: the placement is right
    up = upsample_bicubic(sample.lr, 2, rgb=sample.rgb)
    shifted = upsample_bicubic(np.roll(sample.lr, 1, axis=1), 2, rgb=sample.rgb)
    assert np.abs(up - sample.hr).mean() < np.abs(shifted - sample.hr).mean()


def test_unknown_sample():
    with pytest.raises(ValueError, match="unknown sample"):
        degraded_sample("nope")


def test_compare_to_reference_grey_rgb_and_stacks(rng):
    ref = rng.random((2, 32, 32))
    assert compare_to_reference(ref, ref)[1] == pytest.approx(1.0)
    noisy = ref + rng.normal(0, 0.1, ref.shape)
    psnr, ssim = compare_to_reference(ref, noisy)
    expected = np.mean([10 * np.log10(np.ptp(ref) ** 2 / np.mean((r - n) ** 2)) for r, n in zip(ref, noisy)])
    assert psnr == pytest.approx(expected, rel=1e-6) and ssim < 0.99
    rgb = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    worse = np.clip(rgb.astype(int) + 20, 0, 255).astype(np.uint8)
    assert compare_to_reference(rgb, worse, rgb=True)[0] < compare_to_reference(rgb, rgb[:, :], rgb=True)[0]
    with pytest.raises(ValueError, match="differ in shape"):
        compare_to_reference(ref, ref[0])


def test_super_resolved_sample_beats_bicubic_against_truth():
    sample = degraded_sample("nuclei", 2, max_side=128)
    ours = compare_to_reference(sample.hr, super_resolve(sample.lr, 2, "chain"))
    bicubic = compare_to_reference(sample.hr, upsample_bicubic(sample.lr, 2))
    assert ours[0] > bicubic[0] and ours[1] > bicubic[1]


def test_restored_kernels_and_mosaic():
    kernels = make_gallery(GallerySettings(count=3, size=9, seed=2))
    np.testing.assert_allclose(restored_kernels(kernels, delta_filter(5)), kernels, atol=1e-7)
    # true convolution with an impulse at column offset -1 moves the kernel one column left
    shift = torch.zeros(3, 3)
    shift[1, 0] = 1.0
    np.testing.assert_allclose(restored_kernels(kernels, shift)[:, :, :-1], kernels[:, :, 1:], atol=1e-7)
    mosaic = kernel_mosaic(kernels, delta_filter(3), gap=1)
    assert mosaic.shape == (2 * 9 + 1, 3 * 9 + 2)
    np.testing.assert_allclose(mosaic[:9, :9], kernels[0] / kernels[0].max(), atol=1e-6)
    with pytest.raises(ValueError, match="stack of kernels"):
        kernel_mosaic(kernels[0], delta_filter(3))
