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


def test_remote_sensing_metrics_score_what_they_should():
    from napari_nssr.core.metrics import ergas, spectral_angle, uiqi

    rng = np.random.default_rng(0)
    ref = rng.random((2, 40, 40)) * 100 + 50
    assert ergas(ref, ref, 0.5) == 0.0 and spectral_angle(ref, ref) < 1e-6
    # ERGAS: 100 * ratio * sqrt(mean_b (rmse_b / mean_b)^2)
    off = ref + np.array([2.0, 4.0])[:, None, None]
    expected = 100 * 0.5 * np.sqrt(np.mean([(2 / ref[0].mean()) ** 2, (4 / ref[1].mean()) ** 2]))
    assert ergas(ref, off, 0.5) == pytest.approx(expected)
    # SAM sees colour, not brightness: a scaled spectrum has angle 0, a swapped one does not
    assert spectral_angle(ref, ref * 3.0) < 1e-6
    assert spectral_angle(ref, ref[::-1]) > 1.0
    valid = np.zeros((40, 40), bool)
    valid[:20] = True
    spoiled = off.copy()
    spoiled[:, 20:] = 0
    assert ergas(ref, spoiled, 0.5, valid) == pytest.approx(ergas(ref[:, :20], off[:, :20], 0.5))
    # UIQI: 1 for the same band, lower for a blurred or biased one
    band = ref[0]
    assert uiqi(band, band) == pytest.approx(1.0)
    assert uiqi(band, band + 20) < 0.99 and uiqi(band, np.full_like(band, band.mean())) < 0.1
    with pytest.raises(ValueError):
        spectral_angle(ref[0], ref[0])
