"""Guide layers in the Super-resolve widget: the guided method, its scale from the guides' grid, and
the placement checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr import super_resolve
from napari_nssr._widgets._guides import check_overlay, guide_arrays, guide_scale
from napari_nssr.core.errors import ImageError


def scene(rng, side=96):
    fine = (ndimage.gaussian_filter(rng.normal(size=(side, side)), 1.2) * 300 + 1000).astype(np.uint16)
    guide = (0.7 * fine + 200).astype(np.uint16)
    coarse = fine.reshape(side // 2, 2, side // 2, 2).mean(axis=(1, 3)).round().astype(np.uint16)
    return fine, guide, coarse


def test_guided_run_takes_its_scale_from_the_guide_layer_and_overlays(viewer, sr_widget, rng, finish):
    fine, guide, coarse = scene(rng)
    # a 60 m band and a 30 m band placed in metres, as this plugin's reader places GeoTIFFs
    target = viewer.add_image(coarse, name="b2 60m", scale=(60, 60), translate=(1000 + 30, 2000 + 30))
    helper = viewer.add_image(guide, name="b3 30m", scale=(30, 30), translate=(1000 + 15, 2000 + 15))
    viewer.layers.selection.active = target
    assert not sr_widget.guides.native.isVisibleTo(sr_widget.native)
    sr_widget.method.value = "guided"
    assert sr_widget.guides.native.isVisibleTo(sr_widget.native)  # the picker belongs to the guided form
    sr_widget.guides.value = [helper]
    finish(sr_widget.task, sr_widget.run())
    out = viewer.layers[-1]
    assert out.data.shape == fine.shape and out.data.dtype == np.uint16
    np.testing.assert_allclose(out.scale, helper.scale)
    np.testing.assert_allclose(out.translate, helper.translate)
    expected = super_resolve(coarse, 2, "guided", guide=guide)
    np.testing.assert_allclose(out.data.astype(float), expected.astype(float), atol=1)
    assert out.metadata["nssr"]["method"] == "guided"


def test_a_guided_run_without_guides_says_what_to_do(viewer, sr_widget, rng):
    _, _, coarse = scene(rng)
    viewer.layers.selection.active = viewer.add_image(coarse, name="band")
    sr_widget.method.value = "guided"
    assert sr_widget.run() is None
    assert "guide layers" in sr_widget.task.status.value


def test_a_guide_off_the_result_grid_is_refused(viewer, rng):
    _, guide, coarse = scene(rng)
    target = viewer.add_image(coarse, name="band", scale=(60, 60), translate=(30, 30))
    shifted = viewer.add_image(guide, name="shifted", scale=(30, 30), translate=(15 + 30, 15))
    coarser = viewer.add_image(guide, name="coarser", scale=(45, 45), translate=(15, 15))
    with pytest.raises(ImageError, match="off the result's grid of 'band' by"):
        check_overlay(target, shifted, 2.0)
    with pytest.raises(ImageError, match="does not lie on the result's grid"):
        check_overlay(target, coarser, 2.0)
    with pytest.raises(ImageError, match="cannot guide itself"):
        guide_scale(target, [target])


def test_unplaced_layers_are_taken_by_their_shapes(viewer, rng):
    _, guide, coarse = scene(rng)
    target = viewer.add_image(coarse, name="band")
    helper = viewer.add_image(guide, name="guide")
    assert guide_scale(target, [helper]) == 2.0
    check_overlay(target, helper, 2.0)  # nothing placed: nothing to contradict the shapes
    odd = viewer.add_image(guide[:, :90], name="odd")
    with pytest.raises(ImageError, match="not one scale for both axes"):
        guide_scale(target, [odd])


def test_guide_arrays_mark_a_layers_own_nodata(viewer, rng):
    _, guide, _ = scene(rng)
    guide[:4] = 0
    layer = viewer.add_image(guide, name="guide")
    (plain,) = guide_arrays([layer], lambda _: None)
    assert plain is layer.data
    (marked,) = guide_arrays([layer], lambda _: 0.0)
    assert np.isnan(marked[:4]).all() and np.isfinite(marked[4:]).all()


def test_the_live_lens_says_it_does_not_run_the_guided_method(viewer, sr_widget, rng):
    _, _, coarse = scene(rng)
    viewer.layers.selection.active = viewer.add_image(coarse, name="band")
    sr_widget.method.value = "guided"
    sr_widget.lens_on.value = True
    assert not sr_widget.lens_on.value and "guides' grid" in sr_widget.lens_status.value
