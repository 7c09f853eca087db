"""IKE behind the method interface: registered, settings, integer factors, every layout, progress,
cancel, lazy."""

import dask.array as da
import numpy as np
import pytest

from napari_nssr import iter_super_resolve, make_request, prepare, super_resolve
from napari_nssr.core.errors import SettingsError
from napari_nssr.methods import IKESettings
from napari_nssr.methods.base import method_names
from napari_nssr.methods.resolve import resolve_method

TINY = IKESettings(iterations=4, crop=16, width=4, blocks=2)


def test_registered_with_the_papers_settings():
    assert "ike" in method_names()
    _, settings = resolve_method("ike")
    assert settings.iterations == 3000 and settings.blocks == 4 and settings.device == "auto"
    with pytest.raises(SettingsError, match="device"):
        IKESettings(device="tpu")


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
    assert float(out.min()) >= float(image.min()) - 1e-6 and float(out.max()) <= float(image.max()) + 1e-6


def test_integer_equal_factors_only(rng):
    image = rng.random((24, 24)).astype(np.float32)
    for scale in (2.5, (2, 3)):
        with pytest.raises(SettingsError, match="integer factor"):
            super_resolve(image, scale, TINY)


def test_progress_cancel_record_and_lazy(rng):
    y, x = np.mgrid[:40, :40]
    image = (np.sin(x / 3) * np.cos(y / 4) + 2).astype(np.float32)
    steps = iter_super_resolve(image, 2, IKESettings(iterations=200, crop=16, width=4, blocks=1))
    phases = [next(steps) for _ in range(3)]
    assert phases[0].phase == "preparing the method" and "IKE x2: iteration" in phases[1].phase
    steps.close()  # Cancel: no more iterations are run
    prepared = prepare(image, make_request(2, TINY))
    assert prepared.describe()["method"] == "ike" and prepared.info["iterations"] == 4
    whole = super_resolve(image, 2, prepared)
    lazy = super_resolve(da.from_array(image, chunks=20), 2, prepared).compute()
    np.testing.assert_allclose(lazy, whole, atol=1e-5)  # one chunk per plane: the same computation


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs CUDA")
def test_cuda_gives_what_the_cpu_gives(rng):
    image = rng.random((32, 32)).astype(np.float32)
    on_cpu = super_resolve(image, 2, IKESettings(iterations=4, crop=16, width=4, device="cpu"))
    on_gpu = super_resolve(image, 2, IKESettings(iterations=4, crop=16, width=4, device="cuda"))
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-3)  # GPU arithmetic differs in the last bits
