"""The OpenCV engine equals the torch tiles (the reference arithmetic) and any region equals the whole."""

import numpy as np
import pytest
import torch

from napari_nssr import make_request, prepare
from napari_nssr.engine import cpu, tiles
from napari_nssr.methods.base import LinearFilter, TileProcessor


def _run(image, scale, method, backend, tile_size=1024, strength=1.0):
    plan = make_request(scale, method, tile_size=tile_size).plan(image)
    prepared = prepare(image, plan)
    steps = tiles.run_tiles(image, plan, prepared.processor.blended(strength), torch.device("cpu"), backend)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


@pytest.mark.parametrize(
    "shape, scale",
    [
        ((61, 47), 2),
        ((61, 45), 2.5),  # aligned rows every second input row
        ((61, 47), 2.37),  # no common factor: interpolated from the tap table
        ((33, 41), (3, 1.77)),
        ((3, 2), 7.3),
    ],
)
@pytest.mark.parametrize("method", ["default", "bicubic", "wiener"])
def test_opencv_equals_the_torch_tiles(rng, shape, scale, method):
    image = (rng.random(shape) * 4).astype(np.float32)
    reference = _run(image, scale, method, "torch", tile_size=16)
    for tile_size in (16, 1024):
        result = _run(image, scale, method, "opencv", tile_size=tile_size, strength=1.0)
        # float32 sums in a different order: a few units of the last place of the range 4
        np.testing.assert_allclose(result, reference, rtol=0, atol=4e-5)


def test_opencv_equals_torch_for_integers_and_float64(rng):
    for dtype, top in ((np.uint16, 60000), (np.int32, 2**30), (np.float64, 1e5)):
        image = (rng.random((40, 52)) * top).astype(dtype)
        a = _run(image, 2, "default", "opencv", tile_size=16).astype(np.float64)
        b = _run(image, 2, "default", "torch", tile_size=16).astype(np.float64)
        assert a.dtype == b.dtype
        assert np.abs(a - b).max() <= max(1.0, 1e-6 * top)  # integers: at most one rounding step apart


def test_a_constant_stays_exact_in_float64():
    image = np.full((30, 30), 4e9, np.uint32)
    out = _run(image, 2, "default", "opencv")
    assert (out == 4_000_000_000).all()


@pytest.mark.parametrize("scale", [2, 2.5, 2.37, 3])
def test_any_region_from_its_input_span_equals_the_whole(rng, scale):
    plane = (rng.random((57, 63)) * 10).astype(np.float32)
    h = torch.from_numpy(rng.normal(size=(7, 7)).astype(np.float32) * 0.1)
    h[3, 3] += 1
    processor = LinearFilter(h)
    in_shape = plane.shape
    out_shape = tuple(int(round(n * scale)) for n in in_shape)
    whole = cpu.region(plane, (0, 0), in_shape, out_shape, slice(0, out_shape[0]), slice(0, out_shape[1]), processor)
    for _ in range(12):
        r0, c0 = rng.integers(0, out_shape[0] - 1), rng.integers(0, out_shape[1] - 1)
        rows = slice(int(r0), int(rng.integers(r0 + 1, out_shape[0] + 1)))
        cols = slice(int(c0), int(rng.integers(c0 + 1, out_shape[1] + 1)))
        span_rows, span_cols = cpu.input_span(in_shape, out_shape, rows, cols, processor.halo)
        block = plane[span_rows, span_cols]  # only what the region needs, as a dask chunk gets it
        part = cpu.region(block, (span_rows.start, span_cols.start), in_shape, out_shape, rows, cols, processor)
        np.testing.assert_allclose(part, whole[rows, cols], rtol=0, atol=1e-5)


def test_strips_cover_the_plane_and_whole_plane_processors_get_one():
    parts = cpu.strips(100, 3, 16)
    assert parts[0].start == 0 and parts[-1].stop == 100
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))
    assert cpu.strips(100, None, 16) == [slice(0, 100)]


def test_the_default_process_same_mirrors_as_the_opencv_filter(rng):
    class TorchOnly(TileProcessor):
        def __init__(self, inner):
            self.inner, self.halo = inner, inner.halo

        def __call__(self, block):
            return self.inner(block)

    h = torch.from_numpy(rng.normal(size=(5, 5)).astype(np.float32))
    block = rng.random((20, 17)).astype(np.float32)
    expected = LinearFilter(h).process_same(block)
    np.testing.assert_allclose(TorchOnly(LinearFilter(h)).process_same(block), expected, rtol=0, atol=1e-5)
