import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_nssr.core.resample import AxisPlan, bicubic_plane, resample_axis


@pytest.mark.parametrize(
    "shape, out", [((13, 17), (26, 34)), ((10, 7), (25, 18)), ((9, 9), (31, 40)), ((2, 2), (3, 5))]
)
def test_bicubic_plan_matches_torch(shape, out):
    x = torch.rand(*shape, dtype=torch.float64)
    ref = F.interpolate(x[None, None], size=out, mode="bicubic", align_corners=False)[0, 0]
    pr, pc = AxisPlan.bicubic(shape[0], out[0]), AxisPlan.bicubic(shape[1], out[1])
    mine = resample_axis(
        resample_axis(x, pr.index, pr.weight.astype(np.float64), 0), pc.index, pc.weight.astype(np.float64), 1
    )
    torch.testing.assert_close(mine, ref, rtol=1e-6, atol=1e-6)


def test_bicubic_plane_matches_torch_and_keeps_a_constant(rng):
    x = rng.random((11, 14)).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(x)[None, None], size=(33, 42), mode="bicubic", align_corners=False)[0, 0]
    np.testing.assert_allclose(bicubic_plane(x, 3.0), ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(bicubic_plane(np.full((5, 6), 2.0), (2.0, 3.0)), 2.0, rtol=1e-6)
    assert bicubic_plane(np.zeros((5, 6)), (2.0, 3.0)).shape == (10, 18)


def test_plan_rows_give_the_input_slice_a_block_needs():
    plan = AxisPlan.bicubic(10, 20)
    rows, taps, weights = plan.rows(np.arange(6, 10))
    assert rows.start <= plan.index[6].min() and rows.stop > plan.index[9].max()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    with pytest.raises(ValueError):
        AxisPlan.bicubic(0, 4)


def test_resample_plane_is_the_engine_bicubic_both_ways(rng):
    from napari_nssr.core.resample import resample_plane

    x = rng.random((21, 30)).astype(np.float32)
    np.testing.assert_allclose(resample_plane(x, (42, 60)), bicubic_plane(x, 2), rtol=0, atol=1e-6)  # OpenCV vs numpy
    small = resample_plane(np.full((20, 30), 3.0, np.float32), (7, 11))
    assert small.shape == (7, 11) and np.allclose(small, 3.0)  # weights sum to 1 shrinking too
