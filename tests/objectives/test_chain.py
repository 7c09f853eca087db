import numpy as np
import pytest
import torch

from napari_nssr import GallerySettings, TrainSettings, super_resolve, train_model, upsample_bicubic
from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.filters import convolve, delta_filter
from napari_nssr.core.kernels import div2krk_kernel, make_gallery
from napari_nssr.networks.lcnn import LCNNSettings
from napari_nssr.objectives.base import Objective
from napari_nssr.objectives.chain import ChainSettings, ChainStatistics, random_natural_image
from napari_nssr.objectives.dil import DILLossSettings
from napari_nssr.training.trainer import solve_closed_form

SMALL = ChainSettings(image_size=64, seed=3)
GALLERY = GallerySettings(family="div2krk", count=8, scale=2.0, seed=4)


@pytest.fixture(scope="module")
def stats():
    return ChainStatistics.from_kernels(make_gallery(GALLERY), 2, 7, SMALL)


def test_random_images_have_a_power_law_spectrum():
    img = random_natural_image(128, 2.0, np.random.default_rng(0))
    assert img.mean() == pytest.approx(0.5) and img.std() == pytest.approx(0.25)
    power = np.abs(np.fft.fft2(img - img.mean())) ** 2
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128), indexing="ij"))
    low, high = power[(f > 0.02) & (f < 0.04)].mean(), power[(f > 0.2) & (f < 0.4)].mean()
    assert 30 < low / high < 1000  # 1/f^2 predicts ~100 between these bands


def test_optimum_is_the_constrained_minimum(stats):
    h = stats.optimum()
    assert float(h.sum()) == pytest.approx(1.0, abs=1e-9)
    best = float(stats.loss(h))
    gen = torch.Generator().manual_seed(0)
    for _ in range(30):
        step = torch.randn(7, 7, generator=gen, dtype=torch.float64) * 1e-3
        assert float(stats.loss(h + step - step.mean())) >= best - 1e-12
    assert best < float(stats.loss(delta_filter(7, torch.float64)))  # better than plain bicubic


def test_statistics_predict_the_pipeline_error(stats):
    # the quadratic form must equal the mean squared error of actually running the chain
    h = stats.optimum()
    rng = np.random.default_rng(SMALL.seed)
    errors, count = 0.0, 0
    for kernel in make_gallery(GALLERY).astype(np.float64):
        x = random_natural_image(64, SMALL.alpha, rng)
        lr = blur_subsample(x, kernel, 2) + rng.normal(0.0, SMALL.noise, (32, 32))
        up = torch.from_numpy(upsample_bicubic(lr.astype(np.float32), 2).astype(np.float64))
        z = convolve(up[None, None], h, padding="valid")[0, 0].numpy()
        m = 12
        diff = (z - x[3:-3, 3:-3])[m:-m, m:-m]
        errors += float((diff**2).sum())
        count += diff.size
    expected = float(stats.loss(h)) - stats.ridge * float((h**2).sum())
    assert errors / count == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("scale, noise", [(2, 0.004), (3, 0.0), (4, 0.02)])
def test_expected_statistics_agree_with_sampled_ones(scale, noise):
    # many sampled images of one kernel converge to the exact expectation; the exact optimum is
    # then as good as the sampled one under the sampled statistics
    kernel = div2krk_kernel(21, scale, np.random.default_rng(scale))
    settings = ChainSettings(noise=noise, seed=scale)
    exact = ChainStatistics.expected(kernel[None], scale, 7, settings)
    sampled = ChainStatistics.from_kernels(np.repeat(kernel[None], 60, 0), scale, 7, settings)
    assert float((exact.gram - sampled.gram).abs().max()) < 0.03 * float(sampled.gram.abs().max())
    assert float((exact.cross - sampled.cross).abs().max()) < 0.03 * float(sampled.cross.abs().max())
    assert exact.energy == pytest.approx(sampled.energy, rel=0.03)
    h_exact, h_sampled = exact.optimum(), sampled.optimum()
    bicubic = float(sampled.loss(delta_filter(7, torch.float64)))
    best = float(sampled.loss(h_sampled))
    assert best < 0.9 * bicubic  # the case is one where the filter matters
    assert float(sampled.loss(h_exact)) - best < 0.02 * (bicubic - best)
    assert float(exact.loss(h_exact)) == pytest.approx(best, rel=0.05)


def test_expected_statistics_are_deterministic_and_validated():
    kernels = make_gallery(GALLERY)
    a = ChainStatistics.expected(kernels, 2, 7, ChainSettings(seed=1))
    b = ChainStatistics.expected(kernels, 2, 7, ChainSettings(seed=2))
    assert torch.equal(a.gram, b.gram) and torch.equal(a.cross, b.cross)
    with pytest.raises(SettingsError, match="integer scale"):
        ChainStatistics.expected(kernels, 2.5, 7, ChainSettings())
    with pytest.raises(SettingsError, match="noise"):
        ChainSettings(noise=-1.0)
    for bad in (kernels[:0], kernels[:, :-1, :-1], kernels[0]):
        with pytest.raises(SettingsError, match="odd-sided kernels"):
            ChainStatistics.expected(bad, 2, 7, ChainSettings())


def test_trained_network_agrees_with_closed_form():
    closed = solve_closed_form(GALLERY, DILLossSettings(), filter_size=7, chain=SMALL)
    trained = train_model(
        GALLERY,
        LCNNSettings(depth=3, width=8),
        DILLossSettings(),
        TrainSettings(epochs=400, learning_rate=3e-3, lr_step=150, device="cpu"),
        chain=SMALL,
    )
    assert trained.converged and trained.relative_gap < 0.01
    assert trained.optimum_loss == pytest.approx(closed.training["optimum_loss"], rel=1e-9)
    assert trained.model.chain == SMALL and trained.model.dc_gain == pytest.approx(1.0, abs=1e-6)


def test_bundled_chain_models_beat_bicubic_on_a_synthetic_case():
    rng = np.random.default_rng(11)
    for scale in (2, 3, 4):
        x = random_natural_image(192, 2.0, rng)
        lr = blur_subsample(x, div2krk_kernel(21, scale, rng), scale).astype(np.float32)
        m = 3 * scale

        def err(img, m=m, x=x):
            return np.mean((img[m:-m, m:-m] - x[m:-m, m:-m]) ** 2)

        assert err(super_resolve(lr, scale, "chain")) < 0.9 * err(upsample_bicubic(lr, scale))


@pytest.mark.parametrize("bad", [dict(alpha=-1), dict(noise=float("nan")), dict(image_size=8), dict(ridge=-1)])
def test_bad_chain_settings(bad):
    with pytest.raises(SettingsError):
        ChainSettings(**bad)


def test_chain_statistics_are_an_objective(stats):
    objective: Objective = stats
    assert objective.size == 7 and objective.to("cpu").size == 7


def test_chain_needs_an_integer_scale():
    with pytest.raises(SettingsError, match="integer scale"):
        ChainStatistics.from_kernels(make_gallery(GALLERY), 2.5, 7, SMALL)


def test_widefield_gallery_filter_beats_bicubic_on_widefield_blur():
    from napari_nssr.apps.samples import degraded_sample
    from napari_nssr.core.kernels import widefield_psf
    from napari_nssr.core.metrics import psnr_y

    optics = GallerySettings(family="widefield", count=12, size=15, numerical_aperture=0.9, defocus_um=0.3)
    model = solve_closed_form(optics, filter_size=11, chain=ChainSettings(image_size=64))
    assert model.dc_gain == pytest.approx(1.0, abs=1e-6)
    hr = degraded_sample("nuclei", 2, max_side=160).hr
    lr = blur_subsample(hr, widefield_psf(optics, 0.15), 2).astype(np.float32)
    ours = psnr_y(hr, super_resolve(lr, 2, model), 2)
    assert ours > psnr_y(hr, upsample_bicubic(lr, 2), 2) + 0.5
