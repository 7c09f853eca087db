"""A processor run in the variance-stabilised domain: the torch and OpenCV paths agree, tiles equal
the whole, and a flat filter leaves bright values where they were."""

import numpy as np
import pytest
import torch

from napari_nssr import BlindSettings, super_resolve
from napari_nssr.core.noise import NoiseModel
from napari_nssr.methods.base import Identity, LinearFilter
from napari_nssr.methods.blind.stabilised import Stabilised


def test_torch_and_numpy_paths_agree(rng):
    noise = NoiseModel(0.01, 0.02)
    h = torch.full((5, 5), 1 / 25, dtype=torch.float64)
    processor = Stabilised(LinearFilter(h, unit_sum=True), noise)
    block = (0.05 + rng.random((40, 40))).astype(np.float64)
    same = processor.process_same(block)
    tile = processor.to(torch.device("cpu"), torch.float64)(torch.from_numpy(block)).numpy()
    np.testing.assert_allclose(tile, same[2:-2, 2:-2], rtol=1e-9, atol=1e-12)
    low = np.array([[0.0, 1e-4, 0.003, 0.2]])  # the table's range, its closed-form side and below zero
    back = Stabilised(Identity(), noise)(torch.from_numpy(low)).numpy()
    np.testing.assert_allclose(back, noise.unstabilise(noise.stabilise(low)), rtol=1e-9, atol=1e-12)


def test_bright_values_come_back_where_they_were():
    noise = NoiseModel(0.001, 0.002)  # 1000 photons for 1.0
    values = np.linspace(0.1, 1.0, 50).reshape(5, 10)
    back = Stabilised(Identity(), noise).process_same(values)
    # the unbiased inverse of a value (not of a mean) differs from it by a fraction of a photon
    np.testing.assert_allclose(back, values, rtol=0, atol=0.5 / 1000)


def test_tiles_equal_the_whole_with_a_camera_model(rng):
    clean = 0.2 + 0.6 * rng.random((60, 70))
    image = (rng.poisson(clean * 200) + 100).astype(np.uint16)  # a camera: offset 100, 1 DN per electron
    settings = BlindSettings(noise="gain=1,offset=100,read=0")
    whole = super_resolve(image.astype(np.float32), 2, settings, tile_size=4096)
    tiled = super_resolve(image.astype(np.float32), 2, settings, tile_size=24)
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-3)  # of a 100..400 range: float32 rounding
    assert float(whole.min()) >= 99.0  # nothing below the black level the camera writes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    noise = NoiseModel(0.01, 0.0)
    block = np.full((8, 8), 0.5, dtype=dtype)
    assert Stabilised(Identity(), noise).process_same(block).dtype == dtype


def test_the_denoised_processor_announces_its_steps():
    from napari_nssr.core.progress import drain
    from napari_nssr.methods.blind.stabilised import DenoisedStabilised

    noise = NoiseModel(0.01, 0.0)
    plane = np.random.default_rng(2).poisson(50.0, (32, 32)).astype(np.float32) * 0.01
    processor = DenoisedStabilised(Identity(), noise, 0.5)
    steps = processor.iter_process_source(plane, (64, 64))
    assert [next(steps), next(steps)] == ["denoising", "filtering"]
    out = drain(steps)
    np.testing.assert_array_equal(out, processor.process_source(plane, (64, 64)))
    assert out.shape == (64, 64) and out.dtype == np.float32


def test_a_constant_plane_among_noisy_ones_stays_exactly_constant():
    # found by the second hostile round: a constant plane of a photon-noisy stack, 200, became 213
    from scipy import ndimage

    from napari_nssr import KnownPSFSettings, PSFSettings, super_resolve
    from napari_nssr.engine.lens import Lens, View
    from napari_nssr.methods.blind.solve import BlindSettings

    rng = np.random.default_rng(1)

    def counts():
        field = ndimage.gaussian_filter(rng.standard_normal((96, 96)), 3)
        field = (field - field.min()) / (field.max() - field.min())
        return np.clip(rng.poisson(field * 115 + 5) * 2, 0, 255).astype(np.uint8)

    stack = np.stack([counts(), counts(), counts(), np.full((96, 96), 200, np.uint8)])
    restore = KnownPSFSettings(psf=PSFSettings(sigma=1.5), restore="denoise-deconvolve")
    for method in ("blind", BlindSettings(denoise="none"), restore):
        result = super_resolve(stack, 2, method)
        assert (result[3] == 200).all() and not (result[0] == result[0].flat[0]).all()
    shown = Lens(stack, BlindSettings(), rgb=False).render(View((3,), (10.0, 50.0), (10.0, 50.0), 2.0))
    assert (shown.data == 200).all()
