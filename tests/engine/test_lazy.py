import dask.array as da
import numpy as np

from napari_nssr import super_resolve
from napari_nssr.engine.lazy import super_resolve_lazy


def test_dask_input_gives_lazy_equal_result(rng):
    x = rng.random((3, 16, 20)).astype(np.float32)
    lazy = super_resolve(da.from_array(x, chunks=(1, 8, 8)), 2)
    assert isinstance(lazy, da.Array) and lazy.shape == (3, 32, 40)
    np.testing.assert_allclose(lazy.compute(), super_resolve(x, 2), atol=1e-6)


def test_lazy_rgb_and_plane_methods(rng):
    rgb = rng.random((12, 10, 3)).astype(np.float32)
    lazy = super_resolve_lazy(da.from_array(rgb, chunks=(6, 5, 1)), 2, "wiener")
    assert lazy.shape == (24, 20, 3) and lazy.dtype == np.float32
    np.testing.assert_allclose(lazy.compute(), super_resolve(rgb, 2, "wiener"), atol=1e-5)
