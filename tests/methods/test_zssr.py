"""ZSSR behind the method interface: registered, settings, progress, cancel, every layout, lazy."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr import iter_super_resolve, make_request, prepare, super_resolve
from napari_nssr.core.errors import SettingsError
from napari_nssr.methods import ZSSRSettings
from napari_nssr.methods.base import method_names
from napari_nssr.methods.resolve import method_menu, resolve_method

TINY = ZSSRSettings(iterations=20, crop=16, width=4, depth=3, back_projection=1, ensemble=False)


def test_registered_with_its_settings():
    assert "zssr" in method_names() and "zssr" in method_menu()
    method, settings = resolve_method("zssr")
    assert settings.iterations == 3000 and settings.crop == 128 and settings.depth == 8 and settings.width == 64
    with pytest.raises(SettingsError, match="device"):
        ZSSRSettings(device="tpu")
    with pytest.raises(SettingsError, match="kernel"):
        ZSSRSettings(kernel="gaussian")


@pytest.mark.parametrize(
    "image, rgb",
    [
        (np.linspace(0, 4000, 24 * 30).reshape(24, 30).astype(np.uint16), None),
        (np.random.default_rng(0).random((2, 20, 22)).astype(np.float32), None),
        ((np.random.default_rng(1).random((18, 20, 3)) * 255).astype(np.uint8), True),
    ],
)
def test_every_layout_and_dtype(image, rgb):
    out = super_resolve(image, 2, TINY, rgb=rgb)
    spatial = (-3, -2) if rgb else (-2, -1)
    assert out.dtype == image.dtype
    assert [out.shape[a] for a in spatial] == [2 * image.shape[a] for a in spatial]
    # outputs stay within the plane's own range (the network's outputs are clipped to it)
    assert float(out.min()) >= float(image.min()) - 1e-6 and float(out.max()) <= float(image.max()) + 1e-6


def test_training_progress_is_reported_and_closing_stops_it(rng):
    image = rng.random((24, 24)).astype(np.float32)
    steps = iter_super_resolve(image, 2, ZSSRSettings(iterations=200, crop=16, width=4, depth=2))
    phases = [next(steps) for _ in range(4)]
    assert phases[0].phase == "preparing the method"
    assert all("ZSSR x2: iteration" in p.phase for p in phases[1:]) and phases[-1].total == 200
    steps.close()  # Cancel: no more iterations are run


def test_records_what_it_trained_and_refuses_unequal_factors(rng):
    image = rng.random((24, 24)).astype(np.float32)
    prepared = prepare(image, make_request(2, TINY))
    record = prepared.describe()
    assert record["method"] == "zssr" and record["steps"][0]["iterations"] == 20 and record["kernel"] == "bicubic"
    with pytest.raises(SettingsError, match="one factor"):
        super_resolve(image, (2, 3), TINY)


def test_the_blind_kernel_and_the_lazy_engine(rng):
    y, x = np.mgrid[:40, :40]
    image = (np.sin(x / 3) * np.cos(y / 4) + 2).astype(np.float32)
    settings = ZSSRSettings(iterations=10, crop=16, width=4, depth=2, kernel="blind", back_projection=1)
    prepared = prepare(image, make_request(2, settings))
    assert prepared.info["kernel"] == "blind" and len(prepared.info["blur_lr_px"]) == 2
    whole = super_resolve(image, 2, prepared)
    lazy = super_resolve(da.from_array(image, chunks=20), 2, prepared).compute()
    np.testing.assert_allclose(lazy, whole, atol=1e-5)  # one chunk per plane: the same computation
