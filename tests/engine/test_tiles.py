"""The in-memory engine: tiles equal the whole, every mode gives the results it gave before the
method interface existed, and resources are checked before work."""

from pathlib import Path

import numpy as np
import pytest

from napari_nssr import super_resolve
from napari_nssr.core.errors import ResourceError
from napari_nssr.engine import tiles
from napari_nssr.engine.tiles import iter_super_resolve, plan, prepare

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
    # within 1e-4 of the image's range on any CPU (on the recording machine: bit for bit)
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
