"""The restorations' torch path (what ``device="cuda"`` runs), checked against the CPU path on torch's
CPU device: non-local means, the imaging model, Richardson-Lucy and the whole methods."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from napari_nssr import KnownPSFSettings, PSFSettings, make_request, prepare
from napari_nssr.core.denoise import LEVELS_PER_STD, denoise_unit_noise, denoise_unit_noise_tensor
from napari_nssr.core.forward_model import (
    RichardsonLucy,
    SamplingOperator,
    TensorRichardsonLucy,
    TensorSamplingOperator,
)
from napari_nssr.core.kernels import gaussian_kernel
from napari_nssr.engine import tiles
from napari_nssr.methods.blind.stabilised import DenoisedStabilised
from napari_nssr.methods.psf.restore import KnownPSFRestoration

CPU = torch.device("cpu")


def _photon_counts(seed: int, shape=(72, 64), photons: float = 200.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal(shape), 2.5)
    field = 0.05 + 0.95 * (field - field.min()) / (field.max() - field.min())
    return (rng.poisson(field * photons) / photons).astype(np.float32)


@pytest.mark.parametrize("strength", [0.7, 1.2])
def test_non_local_means_in_torch_is_opencvs_to_a_level(strength):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:70, 0:83]
    clean = 20 + 6 * np.sin(x / 5) + 4 * np.cos(y / 7) + 10 * ((x - 40) ** 2 + (y - 35) ** 2 < 300)
    noisy = clean + rng.standard_normal(clean.shape)
    levels = (
        np.abs(
            denoise_unit_noise(noisy, strength) - denoise_unit_noise_tensor(torch.from_numpy(noisy), strength).numpy()
        )
        * LEVELS_PER_STD
    )
    # OpenCV's fixed-point weights against floats: a level (1/16 of the noise std) apart at a few pixels
    assert levels.max() <= 1.01 and np.mean(levels < 0.5) >= 0.99


@pytest.mark.parametrize("params", [(1.3, 0.9, 0.4), (1.2, 1.2, 0.0)])
@pytest.mark.parametrize(("scale", "shape"), [(2, (17, 22)), (3, (9, 13))])
def test_the_torch_imaging_model_and_iterations_equal_numpys(params, scale, shape):
    rng = np.random.default_rng(1)
    psf = gaussian_kernel(11, *params)
    ours, theirs = SamplingOperator(psf, scale, shape), TensorSamplingOperator(psf, scale, shape, CPU)
    hr, lr = rng.random(ours.hr_shape), rng.random(shape)
    np.testing.assert_allclose(theirs.forward(torch.from_numpy(hr)).numpy(), ours.forward(hr), atol=1e-6)
    np.testing.assert_allclose(theirs.adjoint(torch.from_numpy(lr)).numpy(), ours.adjoint(lr), atol=1e-6)
    np.testing.assert_allclose(theirs.norm.numpy(), ours.norm, rtol=1e-5)
    a = RichardsonLucy(lr + 0.5, hr + 0.5, ours, 0.1)
    b = TensorRichardsonLucy(torch.from_numpy(lr + 0.5), torch.from_numpy(hr + 0.5), theirs, 0.1)
    for _ in range(10):
        a.step()
        b.step()
    np.testing.assert_allclose(b.estimate().numpy(), a.estimate(), atol=2e-5)  # values about 1: float32


def _run(image, request, backend):
    plan = request.plan(image)
    steps = tiles.run_tiles(image, plan, prepare(image, plan).processor, CPU, backend)
    phases = []
    while True:
        try:
            phases.append(next(steps).phase)
        except StopIteration as done:
            return done.value, phases


@pytest.mark.parametrize(
    ("method", "processor"),
    [
        ("blind", DenoisedStabilised),
        (KnownPSFSettings(psf=PSFSettings(sigma=1.4), restore="denoise-deconvolve", iterations=6), KnownPSFRestoration),
    ],
)
def test_the_restorations_in_torch_equal_the_cpu_path(method, processor):
    image = _photon_counts(2)
    request = make_request(2.0, method)
    assert isinstance(prepare(image, request).processor, processor)  # the path under test is the one taken
    cpu, cpu_phases = _run(image, request, "opencv")
    in_torch, torch_phases = _run(image, request, "torch")
    assert any("(cpu)" in p for p in torch_phases) and not any("(cpu)" in p for p in cpu_phases)
    assert in_torch.shape == cpu.shape and in_torch.dtype == cpu.dtype
    spread = float(cpu.max() - cpu.min())
    difference = np.abs(in_torch.astype(np.float64) - cpu) / spread
    # what a level of non-local means at a few pixels becomes after the filter and the iterations
    assert float(np.percentile(difference, 99)) <= 1e-4 and float(difference.max()) <= 1e-2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(
    "method", ["blind", KnownPSFSettings(psf=PSFSettings(sigma=1.4), restore="denoise-deconvolve")]
)
def test_cuda_restorations_equal_the_cpu(method):
    from napari_nssr import super_resolve

    image = _photon_counts(3)
    cpu = np.asarray(super_resolve(image, 2, method, device="cpu"))
    gpu = np.asarray(super_resolve(image, 2, method, device="cuda"))
    difference = np.abs(gpu.astype(np.float64) - cpu) / float(cpu.max() - cpu.min())
    assert float(np.percentile(difference, 99)) <= 1e-4 and float(difference.max()) <= 1e-2
