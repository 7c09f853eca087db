"""The in-memory engine: tiles equal the whole, every mode gives the results it gave before the
method interface existed, and resources are checked before work."""

from pathlib import Path

import numpy as np
import pytest

from napari_nssr import BlindSettings, super_resolve
from napari_nssr.core.errors import ImageError, ResourceError
from napari_nssr.engine import tiles
from napari_nssr.engine.tiles import iter_super_resolve, plan, prepare, working_dtype

REGRESSION = Path(__file__).parents[1] / "data" / "regression_modes.npz"


def test_tiles_equal_untiled(rng):
    x = rng.random((50, 37)).astype(np.float32)
    for method in ("chain", "blind"):
        whole = super_resolve(x, 2.5, method, tile_size=4096)
        tiled = super_resolve(x, 2.5, method, tile_size=16)
        np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-6)


def _recorded_cases():
    data = np.load(REGRESSION)
    inputs = {key[3:]: data[key] for key in data.files if key.startswith("in_")}
    for key in data.files:
        if key.startswith("in_"):
            continue
        source, mode = key.split("_")[:2]
        scale = float(key.rsplit("_x", 1)[1])
        strength = 0.5 if "half" in key else (0.0 if mode == "bicubic" else 1.0)
        yield pytest.param(inputs[source], scale, None if mode == "bicubic" else mode, strength, data[key], id=key)


@pytest.mark.parametrize("image, scale, method, strength, expected", list(_recorded_cases()))
def test_every_mode_gives_the_results_recorded_before_the_method_interface(image, scale, method, strength, expected):
    # recorded with commit 3fad230 (before the restructuring) on small synthetic inputs; equal to
    # within 1e-4 of the image's range on any CPU (on the recording machine: bit for bit).
    # u16_blind_x2 re-recorded when the blur fit's noise floor got a lower bound: its fit had run
    # out of evaluations creeping towards zero noise, and stopped wherever rounding left it.
    # The blind default has since measured Poisson-Gaussian noise and the image's own spectrum
    # (issue #13); the settings below are the blind mode as it was, which must still give these.
    if method == "blind":
        method = BlindSettings(noise="white", spectrum="natural", noise_margin=1.5, planes=1)
    out = super_resolve(image, scale, method, strength=strength, device="cpu")
    assert out.dtype == expected.dtype and out.shape == expected.shape
    spread = float(expected.max()) - float(expected.min())
    tolerance = 1 if out.dtype.kind in "ui" else 1e-4 * spread  # integers: one step of rounding
    np.testing.assert_allclose(out.astype(np.float64), expected.astype(np.float64), rtol=0, atol=tolerance)


def test_huge_output_is_refused_before_work(monkeypatch):
    monkeypatch.setattr(tiles, "MAX_OUTPUT_BYTES", 1000)
    with pytest.raises(ResourceError, match="GiB"):
        next(iter_super_resolve(np.zeros((20, 20), np.float32), 2))


def test_plan_and_prepare(rng):
    x = rng.random((3, 10, 12)).astype(np.float32)
    checked = plan(x, (2, 3), 0.5)
    assert checked.shape == (3, 20, 36) and checked.strength == 0.5
    assert prepare(x, plan(x, 2, 0.0), "blind").method == "bicubic"  # strength 0 does not estimate
    assert prepare(x, checked, "paper").model.name == "paper"


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


def test_flipped_strided_and_read_only_arrays(rng):
    image = rng.random((20, 24)).astype(np.float32)
    expected = super_resolve(np.ascontiguousarray(np.flipud(image)), 2, "chain")
    np.testing.assert_array_equal(super_resolve(np.flipud(image), 2, "chain"), expected)
    np.testing.assert_array_equal(super_resolve(image[::2, ::-2], 2, "chain").shape, (20, 24))
    np.testing.assert_array_equal(super_resolve(np.asfortranarray(image), 2, "chain"), super_resolve(image, 2, "chain"))
    frozen = image.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(super_resolve(frozen, 2, "chain"), super_resolve(image, 2, "chain"))


def test_working_precision():
    assert working_dtype(np.dtype(np.uint16), np.zeros(3)) == np.float32
    assert working_dtype(np.dtype(np.uint32), np.zeros(3)) == np.float64
    assert working_dtype(np.dtype(np.float64), np.array([0.5, 2.0])) == np.float32
    assert working_dtype(np.dtype(np.float64), np.array([1e-35, 2.0])) == np.float64
