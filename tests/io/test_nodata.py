"""A file's nodata: the declared value, or the zero fill at a georeferenced scene's edges."""

import numpy as np
import pytest

from napari_nssr.core.errors import SettingsError
from napari_nssr.io.nodata import check_nodata_option, choose_nodata, edge_zero_fill


def test_zero_fill_at_a_scene_s_edges_is_found_from_its_border_alone():
    scene = np.ones((40, 50), np.uint16)
    assert not edge_zero_fill(scene, None)
    scene[:, :5] = 0  # a tenth of the border
    assert edge_zero_fill(scene, None)
    assert edge_zero_fill(np.stack([np.ones((40, 50)), scene, np.ones((40, 50))]), None)  # the middle plane


def test_the_declared_value_wins_and_only_georeferenced_scenes_get_zero_fill():
    scene = np.ones((40, 50), np.uint16)
    scene[:, :5] = 0
    assert choose_nodata("auto", scene, 7.0, True, None) == 7.0
    assert choose_nodata("auto", scene, None, True, None) == 0.0
    assert choose_nodata("auto", scene, None, False, None) is None  # a micrograph's zeros are data
    assert choose_nodata("none", scene, 7.0, True, None) is None
    assert choose_nodata("-9999", scene, None, False, None) == -9999.0


def test_a_bad_option_is_refused_before_any_work():
    check_nodata_option("nan")
    with pytest.raises(SettingsError, match="auto, none or a number"):
        check_nodata_option("abc")
