"""The one prepare-then-apply path: prepared once, applied whole, lazily or on any window, all equal."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr import BlindSettings, make_request, prepare, super_resolve
from napari_nssr.core import request as request_module
from napari_nssr.core.errors import ImageError, ResourceError
from napari_nssr.engine import pipeline
from napari_nssr.engine.pipeline import apply_lazy, apply_window, iter_run


def test_strength_zero_prepares_nothing_and_the_plan_says_what_comes_out(rng):
    x = rng.random((3, 10, 12)).astype(np.float32)
    plan = make_request((2, 3), "paper", strength=0.5).plan(x)
    assert plan.shape == (3, 20, 36) and plan.strength == 0.5
    assert prepare(x, make_request(2, "blind", strength=0.0)).method == "bicubic"  # no estimate
    assert prepare(x, plan).model.name == "paper"


def test_huge_output_is_refused_before_work(monkeypatch):
    monkeypatch.setattr(request_module, "MAX_OUTPUT_BYTES", 1000)
    with pytest.raises(ResourceError, match="GiB"):
        next(iter_run(np.zeros((20, 20), np.float32), make_request(2)))


WINDOW_CASES = [
    ("chain", (70, 53), 2.0, None),
    ("blind", (70, 53), 2.5, None),  # the filter run where photon noise is stabilised
    (BlindSettings(noise="white", denoise="none"), (66, 66), 3.0, None),
    ("wiener", (40, 36), 2.0, None),  # a whole-plane method: its window is cut from the plane
    ("chain", (2, 40, 36), 2.0, (1,)),  # the second plane of a stack
    ("chain", (40, 36, 3), 2.0, ()),  # colour channels together
]


@pytest.mark.parametrize("method, shape, scale, index", WINDOW_CASES)
def test_a_window_equals_that_window_of_the_whole_result(rng, method, shape, scale, index):
    photons = rng.poisson(rng.random(shape) * 200 + 20).astype(np.uint16)
    request = make_request(scale, method)
    plan = request.plan(photons)
    prepared = prepare(photons, plan)  # once, for every window
    whole = super_resolve(photons, request, prepared=prepared)
    plane = whole[index] if index else whole
    rows, cols = plan.plane_shapes[1]
    for window in [(slice(0, 17), slice(5, 40)), (slice(rows - 30, rows), slice(cols - 9, cols)), (slice(20, 50),) * 2]:
        got = apply_window(photons, plan, prepared, window, index or ())
        np.testing.assert_array_equal(got, plane[window])  # integers: the same rounding


def test_a_window_reads_only_its_input_span(rng):
    image = rng.random((400, 300)).astype(np.float32)
    reads = []

    class Source:
        shape, dtype, ndim = image.shape, image.dtype, 2

        def __getitem__(self, key):
            reads.append(key)
            return image[key]

    request = make_request(2, "chain")
    plan, prepared = request.plan(image), prepare(image, request)
    out = apply_window(Source(), plan, prepared, (slice(100, 140), slice(200, 260)))
    np.testing.assert_allclose(out, super_resolve(image, 2, "chain")[100:140, 200:260], atol=1e-6)
    ((rows, cols),) = reads
    assert rows.stop - rows.start < 40 and cols.stop - cols.start < 50


def test_a_window_with_nodata_equals_the_whole(rng):
    image = (rng.random((60, 60)) * 1000 + 10).astype(np.uint16)
    image[:, :12] = 0
    request = make_request(2, "chain", nodata=0)
    plan, prepared = request.plan(image), prepare(image, request)
    whole = super_resolve(image, request, prepared=prepared)
    window = (slice(10, 50), slice(0, 60))
    np.testing.assert_array_equal(apply_window(image, plan, prepared, window), whole[window])
    assert (whole[:, :20] == 0).all()


def test_bad_windows_are_refused_with_one_line(rng):
    image = rng.random((20, 20)).astype(np.float32)
    request = make_request(2, "chain")
    plan, prepared = request.plan(image), prepare(image, request)
    with pytest.raises(ImageError, match="not within"):
        apply_window(image, plan, prepared, (slice(0, 41), slice(0, 10)))
    with pytest.raises(ImageError, match="leading axes"):
        apply_window(image, plan, prepared, (slice(0, 4), slice(0, 4)), (0,))


def test_prepared_once_is_reused_whole_lazy_and_eager(rng, monkeypatch):
    image = rng.random((48, 40)).astype(np.float32)
    request = make_request(2, "blind")
    prepared = prepare(image, request)
    calls = []
    monkeypatch.setattr(pipeline, "iter_prepare", lambda *a: calls.append(a) or iter(()))
    eager = super_resolve(image, request, prepared=prepared)
    lazy = apply_lazy(da.from_array(image, chunks=16), request.plan(image), prepared)
    assert not calls  # nothing prepared again
    monkeypatch.undo()
    np.testing.assert_allclose(lazy.compute(), eager, atol=1e-6)
    np.testing.assert_array_equal(eager, super_resolve(image, 2))


def test_the_generator_reports_preparing_then_tiles_and_returns_the_result(rng):
    image = rng.random((40, 40)).astype(np.float32)
    steps = iter_run(image, make_request(2, "chain", tile_size=16))
    phases = []
    while True:
        try:
            phases.append(next(steps).phase)
        except StopIteration as done:
            result = done.value
            break
    assert phases[0] == "preparing the method" and phases.count("super-resolving") >= 1
    assert result.shape == (80, 80)
