"""The lazy engine: chunked like the output tiles, each chunk reading only the input it needs, and
equal to the in-memory result whatever the input's chunks."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr import BlindSettings, super_resolve
from napari_nssr.core.errors import ImageError


def test_dask_input_gives_lazy_equal_result(rng):
    x = rng.random((3, 16, 20)).astype(np.float32)
    lazy = super_resolve(da.from_array(x, chunks=(1, 8, 8)), 2)
    assert isinstance(lazy, da.Array) and lazy.shape == (3, 32, 40)
    np.testing.assert_allclose(lazy.compute(), super_resolve(x, 2), atol=1e-6)


@pytest.mark.parametrize(
    "shape, chunks, scale, method",
    [
        ((2, 90, 100), (1, 50, 70), 2, None),  # small planes: the default denoises whole planes
        ((2, 90, 100), (1, 50, 70), 2, BlindSettings(denoise="none")),
        ((70, 60, 3), (40, 30, 3), 2.5, "default"),
        ((61, 53), (33, 20), 2.37, "default"),  # no aligned rows: the tap-table path
        ((50, 40), (20, 20), 3, "wiener"),  # a whole-plane method: one chunk per plane
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.uint16, np.float64])
def test_lazy_equals_in_memory_whatever_the_chunks(rng, shape, chunks, scale, method, dtype):
    x = (rng.random(shape) * 1000).astype(dtype)
    lazy = super_resolve(da.from_array(x, chunks=chunks), scale, method, tile_size=32)
    result = lazy.compute()
    expected = super_resolve(x, scale, method)
    assert result.dtype == expected.dtype and result.shape == expected.shape
    # float32 arithmetic on a range of 1000; integers: one rounding step at most
    tolerance = 1 if dtype == np.uint16 else 2e-3
    np.testing.assert_allclose(result.astype(np.float64), expected.astype(np.float64), rtol=0, atol=tolerance)
    row_axis = -3 if shape[-1] == 3 else -2
    whole_planes = method in ("wiener", None)
    assert max(lazy.chunks[row_axis]) == (expected.shape[row_axis] if whole_planes else 32)


def test_lazy_rgb_and_plane_methods(rng):
    rgb = rng.random((12, 10, 3)).astype(np.float32)
    lazy = super_resolve(da.from_array(rgb, chunks=(6, 5, 1)), 2, "wiener")
    assert lazy.shape == (24, 20, 3) and lazy.dtype == np.float32
    np.testing.assert_allclose(lazy.compute(), super_resolve(rgb, 2, "wiener"), atol=1e-5)


class _CountingSource:
    """An array-like that records which rows and columns are read (as a file's store would)."""

    def __init__(self, data):
        self.data, self.shape, self.dtype, self.ndim, self.reads = data, data.shape, data.dtype, data.ndim, []

    def __getitem__(self, key):
        self.reads.append(key)
        return self.data[key]


def test_a_chunk_reads_only_the_input_it_needs(rng):
    source = _CountingSource(rng.random((400, 400)).astype(np.float32))
    image = da.from_array(source, chunks=(50, 50), asarray=True)
    lazy = super_resolve(image, 2, "default", tile_size=64)
    source.reads.clear()  # preparing read the plane once, for the method
    corner = lazy[:64, :64].compute()
    rows = max(key[0].stop for key in source.reads)
    cols = max(key[1].stop for key in source.reads)
    assert rows <= 50 and cols <= 50  # one 50x50 input chunk of 64 input chunks: 32 px + halo + taps
    np.testing.assert_allclose(corner, super_resolve(source.data, 2, "default")[:64, :64], atol=1e-5)


def test_bad_values_are_reported_when_computed(rng):
    x = rng.random((40, 40)).astype(np.float32)
    x[30, 30] = np.nan
    lazy = super_resolve(da.from_array(x, chunks=20), 2, "default", tile_size=32)
    with pytest.raises(ImageError, match="NaN"):
        lazy.compute()
