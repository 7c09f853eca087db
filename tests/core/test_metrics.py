import numpy as np
import pytest

from napari_nssr.core.metrics import compare_to_reference, luminance, psnr_y, ssim_y


def test_metrics():
    img = np.random.default_rng(0).random((32, 32, 3))
    assert psnr_y(img, img) == np.inf
    assert ssim_y(img, img) == pytest.approx(1.0)
    shifted = np.clip(img + 0.01, 0, 1)
    assert 30 < psnr_y(img, shifted, shave=2) < 60
    assert luminance(np.ones((4, 4))).max() == pytest.approx(235.0)
    with pytest.raises(ValueError):
        psnr_y(img, img[:10])


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
