import numpy as np
import pytest

from napari_nssr.methods.guided.fusion import FusionSettings, bicubic, coarse_validity, fuse
from napari_nssr.methods.guided.lowpass import Lowpass, average_down
from napari_nssr.methods.guided.method import filled_guides

from .conftest import psnr

SETTINGS = FusionSettings(lowpass_sigma=0.0)


def unguided(coarse: np.ndarray) -> np.ndarray:
    """What the method falls back to: bicubic made consistent with the band."""
    return Lowpass(2, 0.0).project(bicubic(coarse, 2), coarse)


def test_a_guide_that_carries_the_detail_restores_it(scene):
    coarse = average_down(scene["truth"], 2)
    result, record = fuse(coarse, [scene["guide"]], 2, SETTINGS)
    assert psnr(scene["truth"], result) > psnr(scene["truth"], unguided(coarse)) + 6
    assert psnr(scene["truth"], result) > psnr(scene["truth"], bicubic(coarse, 2)) + 6
    assert record.guided_fraction > 0.8
    # the consistency step: degraded back, the result is the band (float32 rounding of values ~500)
    assert np.abs(average_down(result, 2) - coarse).max() < 1e-3


@pytest.mark.parametrize("kind", ["noise", "other"])
def test_a_guide_of_noise_or_of_another_scene_costs_at_most_a_tenth_of_a_db(scene, kind):
    coarse = average_down(scene["truth"], 2)
    result, record = fuse(coarse, [scene[kind]], 2, SETTINGS)
    assert psnr(scene["truth"], result) > psnr(scene["truth"], unguided(coarse)) - 0.1
    assert record.guided_fraction < 0.3


def test_without_the_safeguard_an_unrelated_guide_does_harm(scene):
    # the safeguard is what keeps the previous test within 0.1 dB (the test can fail)
    coarse = average_down(scene["truth"], 2)
    loose = FusionSettings(lowpass_sigma=0.0, safeguard=False)
    result, _ = fuse(coarse, [scene["other"]], 2, loose)
    assert psnr(scene["truth"], result) < psnr(scene["truth"], unguided(coarse)) - 0.1


def test_a_good_guide_beside_a_bad_one_still_helps(scene):
    coarse = average_down(scene["truth"], 2)
    both, _ = fuse(coarse, [scene["guide"], scene["noise"]], 2, SETTINGS)
    assert psnr(scene["truth"], both) > psnr(scene["truth"], unguided(coarse)) + 5


def test_pixels_without_data_stay_out_of_every_fit(scene):
    truth, guide = scene["truth"], scene["guide"]
    coarse = average_down(truth, 2)
    valid = np.ones(coarse.shape, bool)
    valid[:10, :10] = False  # the band has no data there
    guide_valid = np.ones(truth.shape, bool)
    guide_valid[-30:, -30:] = False  # nor the guide there
    spoiled_band, spoiled_guide = coarse.copy(), guide.copy()
    spoiled_band[~valid] = 9e4  # any value: the band's holes are fusion's to handle
    spoiled_guide[~guide_valid] = np.nan  # the guides' holes are filled first, as the method does
    (filled,), _ = filled_guides([spoiled_guide])
    clean, _ = fuse(coarse, [guide], 2, SETTINGS, valid, guide_valid)
    spoiled, _ = fuse(spoiled_band, [filled], 2, SETTINGS, valid, guide_valid)
    # away from the holes (the consistency and the interpolation reach a few pixels) nothing changed
    far = np.ones(truth.shape, bool)
    far[:30, :30] = False
    far[-44:, -44:] = False
    np.testing.assert_allclose(spoiled[far], clean[far], rtol=1e-4, atol=0.05)
    # where the guide has no data the result is the unguided one
    inside = (slice(-24, -4), slice(-24, -4))
    np.testing.assert_allclose(clean[inside], unguided(coarse)[inside], atol=0.5)


def test_coarse_validity_needs_every_fine_pixel():
    fine = np.ones((4, 4), bool)
    fine[0, 1] = False
    np.testing.assert_array_equal(coarse_validity(fine, 2), [[False, True], [True, True]])


def test_an_optics_footprint_is_estimated_and_kept_consistent(scene):
    lowpass = Lowpass(2, 1.0)
    coarse = lowpass.down(scene["truth"])
    result, record = fuse(coarse, [scene["guide"]], 2, FusionSettings())
    assert record.lowpass_sigma == pytest.approx(0.5)
    assert np.abs(lowpass.down(result) - coarse).max() < 1e-2
    assert psnr(scene["truth"], result) > psnr(scene["truth"], bicubic(coarse, 2)) + 3


@pytest.mark.parametrize("scale", [3, 7])
def test_scales_that_do_not_divide_the_strips_are_consistent_to_the_last_row(scale):
    # the strips hold whole coarse rows at any scale (x7 once broke on a plane of 240+ rows)
    rng = np.random.default_rng(11)
    from scipy import ndimage

    truth = ndimage.gaussian_filter(rng.random((40 * scale, 12 * scale)), 1.5).astype(np.float32) * 900
    coarse = average_down(truth, scale)
    result, _ = fuse(coarse, [truth], scale, SETTINGS)
    assert result.shape == truth.shape
    assert np.abs(average_down(result, scale) - coarse).max() < 1e-3


@pytest.mark.parametrize("sigma", [0.0, 0.4])  # the local and the global consistency step
def test_rows_handed_out_as_they_finish_make_the_same_plane(scene, sigma):
    coarse = average_down(scene["truth"], 2)
    settings = FusionSettings(lowpass_sigma=sigma)
    expected, _ = fuse(coarse, [scene["guide"]], 2, settings)
    streamed = np.full(expected.shape, np.nan, np.float32)
    seen: list[slice] = []

    def store(rows: slice, values: np.ndarray) -> None:
        seen.append(rows)
        streamed[rows] = values

    assert fuse(coarse, [scene["guide"]], 2, settings, store=store)[0] is None
    np.testing.assert_allclose(streamed, expected, atol=1e-3)
    assert sum(r.stop - r.start for r in seen) == expected.shape[0]


def test_an_integer_guide_gives_the_result_of_its_float_copy(scene):
    coarse = average_down(scene["truth"], 2)
    guide = np.round(scene["guide"] * 10).astype(np.uint16)
    as_integer, _ = fuse(coarse, [guide], 2, SETTINGS)
    as_float, _ = fuse(coarse, [guide.astype(np.float32)], 2, SETTINGS)
    np.testing.assert_allclose(as_integer, as_float, atol=1e-2)
