import numpy as np
import pytest

from napari_nssr.core.overlay import overlay_geometry


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
