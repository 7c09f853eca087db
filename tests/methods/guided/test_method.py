import numpy as np
import pytest

from napari_nssr import GuidedSettings, super_resolve
from napari_nssr.core.errors import ImageError, SettingsError
from napari_nssr.methods import method_menu
from napari_nssr.methods.guided.lowpass import average_down
from napari_nssr.methods.guided.method import filled_guides, guide_planes

from .conftest import psnr


def coarse_of(truth: np.ndarray) -> np.ndarray:
    return average_down(truth, 2)


def test_guided_is_a_method_with_settings_and_takes_guides():
    assert "guided" in method_menu()
    settings = GuidedSettings(lowpass="mtf", mtf=0.3)
    assert settings.fusion().lowpass_sigma == pytest.approx(0.494, abs=1e-3)
    assert GuidedSettings(lowpass="average").fusion().lowpass_sigma == 0.0
    with pytest.raises(SettingsError):
        GuidedSettings(lowpass="sinc")


def test_super_resolve_with_a_guide_picks_the_method_and_the_scale(scene):
    coarse = coarse_of(scene["truth"])
    result = super_resolve(coarse, guide=scene["guide"])  # no scale, no method: the guide says both
    assert result.shape == scene["truth"].shape and result.dtype == np.float32
    assert psnr(scene["truth"], result) > psnr(scene["truth"], super_resolve(coarse, 2, "bicubic")) + 6
    # the same through the settings object, and with a stack of bands as one guide
    again = super_resolve(coarse, 2, GuidedSettings(), guide=[scene["guide"]])
    np.testing.assert_allclose(again, result, rtol=1e-6, atol=1e-3)
    stacked = super_resolve(coarse, 2, guide=np.stack([scene["guide"], scene["noise"]]))
    assert psnr(scene["truth"], stacked) > psnr(scene["truth"], super_resolve(coarse, 2, "bicubic")) + 5


def test_integer_images_keep_their_type_and_strength_zero_is_bicubic(scene):
    truth = np.round(scene["truth"]).astype(np.uint16)
    coarse = np.round(coarse_of(truth.astype(np.float32))).astype(np.uint16)
    result = super_resolve(coarse, guide=scene["guide"].astype(np.uint16))
    assert result.dtype == np.uint16 and result.shape == truth.shape
    # the consistency step holds to the integers' rounding
    assert np.abs(average_down(result.astype(np.float32), 2) - coarse).max() <= 1.0
    plain = super_resolve(coarse, 2, "guided", guide=scene["guide"], strength=0)
    np.testing.assert_array_equal(plain, super_resolve(coarse, 2, "bicubic"))


def test_a_stack_of_bands_is_super_resolved_plane_by_plane_with_the_same_guides(scene):
    coarse = coarse_of(scene["truth"])
    stack = np.stack([coarse, coarse * 0.5 + 10])
    result = super_resolve(stack, guide=scene["guide"])
    assert result.shape == (2,) + scene["truth"].shape
    single = super_resolve(coarse, guide=scene["guide"])
    np.testing.assert_allclose(result[0], single, rtol=1e-5, atol=1e-2)


def test_target_nodata_stays_nodata_and_guide_nan_has_no_data(scene):
    coarse = coarse_of(scene["truth"])
    coarse[:6, :6] = 0
    guide = scene["guide"].copy()
    guide[-20:, -20:] = np.nan
    result = super_resolve(coarse, guide=guide, nodata=0)
    assert (result[:12, :12] == 0).all()
    assert np.isfinite(result).all() and (result[12:, 12:] != 0).all()


def test_bad_guides_and_scales_are_refused_in_one_line(scene):
    coarse = coarse_of(scene["truth"])
    with pytest.raises(ImageError, match="must lie on the result's grid"):
        super_resolve(coarse, 2, guide=scene["guide"][:100])
    with pytest.raises(SettingsError, match="integer scale"):
        super_resolve(coarse, 2.5, "guided", guide=np.zeros((160, 160), np.float32))
    with pytest.raises(SettingsError, match="takes no guide images"):
        super_resolve(coarse, 2, "blind", guide=scene["guide"])
    with pytest.raises(SettingsError, match="needs guide images"):
        super_resolve(coarse, 2, "guided")
    with pytest.raises(ImageError, match="no pixels with data"):
        super_resolve(coarse, 2, guide=np.full((128, 128), np.nan, np.float32))
    with pytest.raises(ImageError, match="2D plane or a"):
        super_resolve(coarse, 2, guide=np.zeros((1, 1, 128, 128)))
    with pytest.raises(SettingsError, match="give a scale"):
        super_resolve(coarse)


def test_guide_planes_and_their_fill():
    bands = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    bands[1, 0, 0] = -1
    planes = guide_planes([bands], (4, 4), nodata=-1)
    assert len(planes) == 2 and np.isnan(planes[1][0, 0])
    filled, valid = filled_guides(planes)
    assert np.isfinite(filled[1]).all() and not valid[0, 0] and valid.sum() == 15
    assert filled[1][0, 0] in (filled[1][0, 1], filled[1][1, 0])


def test_guides_from_a_file(tmp_path, scene):
    import tifffile

    path = tmp_path / "guide.tif"
    tifffile.imwrite(path, scene["guide"])
    coarse = coarse_of(scene["truth"])
    from_file = super_resolve(coarse, guide=str(path))
    np.testing.assert_allclose(from_file, super_resolve(coarse, guide=scene["guide"]), rtol=1e-6, atol=1e-3)


def test_guides_are_read_in_place_unless_they_hold_holes():
    integer = np.arange(16, dtype=np.uint16).reshape(4, 4)
    finite = integer.astype(np.float32)
    for guide in (integer, finite):  # an integer one is converted a strip at a time, where it is read
        plane = guide_planes([guide], (4, 4), None)[0]
        assert np.shares_memory(plane, guide) and plane.dtype == guide.dtype
    infinite = finite.copy()
    infinite[1, 1] = np.inf
    plane = guide_planes([infinite], (4, 4), None)[0]
    assert np.isnan(plane[1, 1]) and np.isinf(infinite[1, 1])  # the caller's array is left alone
    holed = guide_planes([integer], (4, 4), nodata=5)[0]
    assert holed.dtype == np.float32 and np.isnan(holed[1, 1]) and integer[1, 1] == 5
    with pytest.raises(ImageError, match="no pixels with data"):
        guide_planes([np.full((4, 4), 5, np.uint16)], (4, 4), nodata=5)
