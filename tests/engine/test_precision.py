"""The working precision of a plane and the result's range: integers and floats beyond float32 exact."""

import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr.core.errors import ImageError
from napari_nssr.engine.precision import to_result, working_dtype


@pytest.mark.parametrize("method", ["chain", "blind", "default"])
def test_integers_beyond_float32_are_exact(method):
    # float32 holds 24 bits: 4294967000 used to come back as 0 (its clip bound rounded up and wrapped)
    for dtype, value in [(np.uint32, 4294967000), (np.int32, -(2**31)), (np.int64, 2**40 + 1)]:
        out = super_resolve(np.full((40, 40), value, dtype), 2, method)
        assert out.dtype == dtype and np.all(out == value)
    top = super_resolve(np.full((8, 8), np.iinfo(np.uint64).max, np.uint64), 2, "chain")
    # float64 carries 53 bits: within 1e-12 of the top (a few float64 steps), never a wrap to 0
    assert top.min() > np.iinfo(np.uint64).max * (1 - 1e-12)


def test_float64_beyond_float32_range_is_computed_in_float64(rng):
    image = rng.random((32, 32))
    reference = super_resolve(image, 2, "chain").astype(np.float64)
    for factor in (1e-300, 1e-39, 1e300):
        out = super_resolve(image * factor, 2, "chain")
        assert np.isfinite(out).all()
        scaled = super_resolve(image * 1e-250, 2, "chain") * 1e250  # float64 throughout
        np.testing.assert_allclose(out / factor, scaled, rtol=1e-9)
    assert np.abs(reference - scaled).max() < 1e-5  # float32 at ordinary values agrees


def test_float32_too_close_to_its_limit_is_refused(rng):
    with pytest.raises(ImageError, match="too close to the largest float32"):
        super_resolve((rng.random((16, 16)) * 3e38).astype(np.float32), 2, "chain")
    ok = super_resolve((rng.random((16, 16)) * 1e36).astype(np.float32), 2, "chain")
    assert np.isfinite(ok).all()


def test_working_precision():
    assert working_dtype(np.dtype(np.uint16), np.zeros(3)) == np.float32
    assert working_dtype(np.dtype(np.uint32), np.zeros(3)) == np.float64
    assert working_dtype(np.dtype(np.float64), np.array([0.5, 2.0])) == np.float32
    assert working_dtype(np.dtype(np.float64), np.array([1e-35, 2.0])) == np.float64


def test_results_are_rounded_and_clipped_to_their_integer_type():
    values = np.array([-3.2, 0.4, 70000.6], np.float32)
    np.testing.assert_array_equal(to_result(values.copy(), np.dtype(np.uint16), np.dtype(np.float32)), [0, 0, 65535])
    assert to_result(values, np.dtype(np.float64), np.dtype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32])
def test_a_result_written_into_its_place_equals_the_returned_one(dtype):
    # OpenCV's one-pass cast for small integers must round half to even and clip as numpy does
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "ui" else None
    low, high = (info.min - 40, info.max + 40) if info else (-5.0, 5.0)
    values = rng.uniform(low, high, (37, 53)).astype(np.float32)
    values[0, :6] = [0.5, 1.5, 2.5, -0.5, -1.5, 3.5]
    expected = to_result(values.copy(), np.dtype(dtype), np.dtype(np.float32))
    out = np.empty((37, 53), dtype)
    assert to_result(values.copy(), np.dtype(dtype), np.dtype(np.float32), out=out) is out
    np.testing.assert_array_equal(out, expected)
    strided = np.empty((37, 53, 2), dtype)[..., 0]  # a channel of a colour plane: the numpy path
    to_result(values.copy(), np.dtype(dtype), np.dtype(np.float32), out=strided)
    np.testing.assert_array_equal(strided, expected)
