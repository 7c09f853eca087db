"""Where the upsampled axes are, and the checks every entry point applies."""

import numpy as np
import pytest

from napari_nssr.core.errors import ImageError, ImageTypeError
from napari_nssr.core.layout import Layout, check_image, check_scale, check_strength, looks_rgb, output_shape


@pytest.mark.parametrize(
    "shape, rgb, expected",
    [
        ((20, 30), None, (False, (0, 1))),
        ((20, 30, 3), None, (True, (0, 1))),
        ((5, 20, 30, 4), None, (True, (1, 2))),
        ((5, 20, 3), False, (False, (1, 2))),
        ((2, 3, 20, 30), None, (False, (2, 3))),
    ],
)
def test_layout_finds_the_spatial_axes(shape, rgb, expected):
    layout = Layout.of(shape, rgb)
    assert (layout.rgb, layout.spatial) == expected


def test_planes_cover_leading_axes_and_channels():
    layout = Layout.of((2, 6, 7, 3), None)
    planes = list(layout.planes((2, 6, 7, 3)))
    assert len(planes) == 6
    image = np.arange(2 * 6 * 7 * 3).reshape(2, 6, 7, 3)
    assert all(image[p].shape == (6, 7) for p in planes)
    assert layout.representative_plane(image).shape == (6, 7)


def test_looks_rgb_is_napari_s_guess():
    assert looks_rgb((4, 5, 3)) and looks_rgb((4, 5, 4)) and not looks_rgb((4, 5, 2)) and not looks_rgb((3, 4))


@pytest.mark.parametrize("scale", [2, 2.5, np.float32(2.0), np.int64(3), (2, 3), [1.5, 2.0]])
def test_numbers_numpy_scalars_and_pairs_are_scales(scale):
    pair = check_scale(scale)
    assert len(pair) == 2 and all(isinstance(s, float) for s in pair)


@pytest.mark.parametrize(
    "scale, message", [(0.5, ">= 1"), (17, "<= 16"), (float("nan"), "finite"), ((2, 3, 4), "pair")]
)
def test_bad_scales(scale, message):
    with pytest.raises(ImageError, match=message):
        check_scale(scale)


def test_strength_and_images():
    assert check_strength(np.float64(0.5)) == 0.5
    with pytest.raises(ImageError, match="strength"):
        check_strength(5)
    with pytest.raises(ImageTypeError, match="bool"):
        check_image(np.zeros((4, 4), bool), None)
    with pytest.raises(ImageError, match="empty"):
        check_image(np.zeros((0, 4)), None)
    with pytest.raises(ImageError, match="3 or 4"):
        check_image(np.zeros((4, 4, 5)), True)
    layout = check_image(np.zeros((3, 4, 5)), None)
    assert output_shape((3, 4, 5), layout, (2.0, 2.5)) == (3, 8, 12)


def test_a_last_axis_of_two_is_not_taken_for_a_tiny_image():
    # (H, W, 2) channels-last used to become H planes of W x 2 pixels
    with pytest.raises(ImageError, match="moveaxis"):
        check_image(np.zeros((16, 16, 2)), None)
    assert check_image(np.zeros((16, 16, 2)), False).spatial == (1, 2)  # said on purpose
    assert check_image(np.zeros((16, 2)), None).spatial == (0, 1)
