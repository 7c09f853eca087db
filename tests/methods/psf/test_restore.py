"""The psf method's restoration of photon-noisy images: denoise, filter, Richardson-Lucy, chosen by
splitting the noise."""

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
from scipy import ndimage

import napari_nssr.methods.psf.method as known_psf
from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.core.degrade import add_noise, blur_subsample
from napari_nssr.core.metrics import compare_to_reference
from napari_nssr.core.progress import PrepareProgress
from napari_nssr.core.request import Request
from napari_nssr.methods.base import LinearFilter
from napari_nssr.methods.psf.kernels import PSFSettings, make_psf
from napari_nssr.methods.psf.method import KnownPSF, KnownPSFSettings
from napari_nssr.methods.psf.restore import KnownPSFRestoration

SHARED = Path(__file__).parents[3] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
# the benchmark's optics (benchmarks/known_optics.py): 0.13 um camera pixels, 0.065 um at x2
OPTICS = PSFSettings(source="widefield", numerical_aperture=1.4, wavelength_um=0.61, pixel_um=0.13, size=21)


def photon_case(peak: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 192 x 192 crop of the real pollen stack's middle plane in [0, 1], blurred by OPTICS,
    subsampled by 2, with Poisson noise at ``peak`` photons and 2 photons of read noise."""
    plane = tifffile.imread(SHARED / "pollen.tif")[16].astype(np.float64)
    plane = (plane - plane.min()) / (plane.max() - plane.min())
    truth = plane[32:224, 32:224]
    lr = blur_subsample(truth, make_psf(OPTICS, 2), 2)
    lr = add_noise(lr, np.random.default_rng(seed), poisson_peak=peak, gaussian_sigma=2.0 / peak)
    return truth, lr.astype(np.float32)


def textured_counts(seed: int, photons: float = 300.0) -> np.ndarray:
    """A smooth 64 x 64 texture in [0.05, 1] with Poisson noise at ``photons`` at full scale."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal((64, 64)), 2.0)
    field = 0.05 + 0.95 * (field - field.min()) / (field.max() - field.min())
    return (rng.poisson(field * photons) / photons).astype(np.float32)


def prepared(lr, settings, scale=(2.0, 2.0)):
    return KnownPSF().prepare(lr, Request(scale, settings).plan(lr))


@needs_data
@pytest.mark.parametrize("peak", [100, 1000])
def test_restoration_beats_the_filter_alone_blind_and_bicubic_on_real_microscopy(peak):
    truth, lr = photon_case(peak)
    restored = compare_to_reference(truth, super_resolve(lr, 2, psf=OPTICS))[0]
    linear = compare_to_reference(truth, super_resolve(lr, 2, KnownPSFSettings(psf=OPTICS, restore="linear")))[0]
    blind = compare_to_reference(truth, super_resolve(lr, 2, "blind"))[0]
    bicubic = compare_to_reference(truth, upsample_bicubic(lr, 2))[0]
    # measured on this crop (100, 1000 photons): +0.70, +0.68 dB over the filter alone, +0.45, +1.47 over
    # blind, +1.28, +2.39 over bicubic
    assert restored > linear + 0.2 and restored > blind + 0.2 and restored > bicubic + 0.8


@needs_data
def test_the_split_chooses_more_iterations_for_cleaner_images_and_the_record_says_so():
    chosen = {}
    for peak in (100, 3000):
        _, lr = photon_case(peak)
        result = prepared(lr, KnownPSFSettings(psf=OPTICS))
        assert isinstance(result.processor, KnownPSFRestoration)
        estimate = result.describe()["estimate"]
        restoration = estimate["restoration"]
        chosen[peak] = restoration["iterations"]
        assert restoration["noise_factor"] in (1.0, 1.5, 2.0, 3.0)
        scores = {int(k): v for k, v in restoration["iteration_scores"].items()}
        assert min(scores, key=scores.get) == chosen[peak]
        assert estimate["noise_model"]["kind"] == "poisson-gaussian"
        assert "Richardson-Lucy iterations (chosen by splitting the noise)" in result.found()
    assert chosen[3000] > chosen[100]


@needs_data
def test_given_iterations_and_seeds_are_kept():
    _, lr = photon_case(300)
    fixed = prepared(lr, KnownPSFSettings(psf=OPTICS, iterations=5))
    assert fixed.processor.iterations == 5 and "chosen by" not in fixed.found()
    again = [super_resolve(lr, 2, KnownPSFSettings(psf=OPTICS, seed=3)) for _ in range(2)]
    np.testing.assert_array_equal(again[0], again[1])


def test_choosing_reports_progress_and_stops_when_closed():
    lr = textured_counts(3)
    steps = KnownPSF().iter_prepare(lr, Request((2.0, 2.0), KnownPSFSettings(psf=OPTICS)).plan(lr))
    first = [next(steps) for _ in range(3)]
    assert all(isinstance(p, PrepareProgress) for p in first)
    assert [p.done for p in first] == sorted(p.done for p in first) and first[0].total > first[-1].done
    steps.close()  # no error: the choice stops there


@pytest.mark.parametrize(
    ("settings", "scale", "reason"),
    [
        (KnownPSFSettings(psf=OPTICS, restore="linear"), (2.0, 2.0), "restore=linear"),
        (KnownPSFSettings(psf=OPTICS), (2.5, 2.5), "equal integer scales"),
        (KnownPSFSettings(psf=OPTICS, noise="0.01"), (2.0, 2.0), "noise=0.01"),
        (KnownPSFSettings(psf=OPTICS, noise="off"), (2.0, 2.0), "noise=off"),
    ],
)
def test_the_filter_alone_where_the_restoration_does_not_apply_and_why(settings, scale, reason):
    result = prepared(textured_counts(4), settings, scale)
    assert isinstance(result.processor, LinearFilter)
    assert result.describe()["estimate"]["restoration"] is None and reason in result.found()


def test_auto_leaves_large_images_to_the_tiled_filter(monkeypatch):
    assert isinstance(prepared(textured_counts(4), KnownPSFSettings(psf=OPTICS)).processor, KnownPSFRestoration)
    monkeypatch.setattr(known_psf, "AUTO_MAX_PIXELS", 1000)
    lr = textured_counts(4)
    assert isinstance(prepared(lr, KnownPSFSettings(psf=OPTICS)).processor, LinearFilter)
    forced = prepared(lr, KnownPSFSettings(psf=OPTICS, restore="denoise-deconvolve"))
    assert isinstance(forced.processor, KnownPSFRestoration)


def test_camera_noise_given_is_used_as_given():
    lr = (100.0 + 2.0 * 150.0 * textured_counts(5, 150.0)).astype(np.float32)
    result = prepared(lr, KnownPSFSettings(psf=OPTICS, noise="gain=2,offset=100,read=1.5", iterations=2))
    noise = result.describe()["estimate"]["noise_model"]
    assert (noise["source"], noise["gain"], noise["offset"], noise["read_std"]) == ("given", 2.0, 100.0, 3.0)


@needs_data
def test_stacks_rgb_and_lazy_images_are_restored_plane_by_plane():
    _, lr = photon_case(1000)
    stack = np.stack([lr, lr[::-1], lr[:, ::-1]])
    # the noise given (1000 photons at 1, read noise 2 photons): a stack's planes pool their noise estimate
    settings = KnownPSFSettings(psf=OPTICS, iterations=3, noise="gain=0.001,offset=0,read=2")
    whole = np.asarray(super_resolve(stack, 2, settings))
    assert whole.shape == (3, 192, 192) and np.isfinite(whole).all()
    single = np.asarray(super_resolve(lr[::-1], 2, settings))
    np.testing.assert_allclose(whole[1], single, atol=1e-5)  # each plane on its own, as given alone
    lazy = np.asarray(super_resolve(da.from_array(stack, chunks=(1, 48, 48)), 2, settings))
    np.testing.assert_allclose(lazy, whole, atol=1e-5)
    rgb = np.asarray(super_resolve(np.stack([lr, lr, lr], axis=-1), 2, settings, rgb=True))
    assert rgb.shape == (192, 192, 3) and np.allclose(rgb[..., 0], rgb[..., 2], atol=1e-5)


def test_a_plane_being_restored_reports_its_steps_and_stops_between_them():
    from napari_nssr import iter_super_resolve

    lr = textured_counts(6)
    settings = KnownPSFSettings(psf=OPTICS, iterations=12)
    steps = iter_super_resolve(lr, 2, settings, strength=0.8)  # blended: the steps pass through
    phases = []
    for progress in steps:
        phases.append(progress.phase)
        if progress.phase.startswith("Richardson-Lucy iterations 5-6"):
            steps.close()  # stopped inside the plane: no result, no error
            break
    assert "filtering for the PSF" in phases and "Richardson-Lucy iterations 1-2 of 12" in phases
    assert "Richardson-Lucy iterations 11-12 of 12" not in phases  # stopped before
    done = list(iter_super_resolve(lr, 2, settings))
    assert done[-1].phase == "super-resolving" and done[-1].done == done[-1].total


def test_the_restoration_reports_each_step():
    from napari_nssr.core.noise import NoiseModel
    from napari_nssr.methods.psf.restore import solved_for_psf

    lr = textured_counts(7).astype(np.float64)
    taps = solved_for_psf(make_psf(OPTICS, 2), 2, 11, 2.0, 0.05)
    restoration = KnownPSFRestoration(NoiseModel(1 / 300, 0.0), 0.5, taps, make_psf(OPTICS, 2), 2, 3)
    steps = list(restoration.iter_process_source(lr, (128, 128)))
    assert steps == [
        "denoising",
        "filtering for the PSF",
        "mapping back to the image's values",
        "Richardson-Lucy iterations 1-2 of 3",
        "Richardson-Lucy iteration 3 of 3",
    ]
    assert restoration.process_source(lr, (128, 128)).shape == (128, 128)


def test_the_scoring_stops_once_the_score_has_only_risen_past_its_best():
    from napari_nssr.methods.psf.restore import PATIENCE

    lr, settings = textured_counts(1, photons=30.0), KnownPSFSettings(psf=OPTICS)
    steps = KnownPSF().iter_prepare(lr, Request((2.0, 2.0), settings).plan(lr))
    reports = []
    while True:
        try:
            reports.append(next(steps))
        except StopIteration as done:
            result = done.value
            break
    scores = {int(k): v for k, v in result.describe()["estimate"]["restoration"]["iteration_scores"].items()}
    best = min(scores, key=scores.get)
    later = sorted(c for c in scores if c > best)
    assert all(scores[c] > scores[best] for c in later)
    # at 30 photons the noise comes back early: scoring stopped PATIENCE checkpoints past the best,
    # well before the most iterations it considers, and the progress still ran to its end
    assert len(later) == PATIENCE and max(scores) < settings.max_iterations
    assert reports[-1].done == reports[-1].total and "stopped scoring" in reports[-1].text


def test_the_filters_for_several_noise_factors_measure_the_plane_once(monkeypatch):
    import napari_nssr.methods.psf.restore as restore

    rng = np.random.default_rng(2)
    texture = 20 * ndimage.gaussian_filter(rng.standard_normal((64, 64)), 2.0)
    denoised = 30 + texture + 0.3 * rng.standard_normal((64, 64))
    psf = make_psf(OPTICS, 2)
    calls = []
    measure = restore.estimate_blur_planes
    monkeypatch.setattr(restore, "estimate_blur_planes", lambda planes: calls.append(1) or measure(planes))
    stages = restore.filter_stages(denoised, psf, 2, 9, (1.0, 2.0))
    assert len(calls) == 1 and stages[1.0].noise < stages[2.0].noise
    for factor, stage in stages.items():
        alone = restore.filter_stage(denoised, psf, 2, 9, factor)
        assert (alone.alpha, alone.noise) == (stage.alpha, stage.noise)
        np.testing.assert_allclose(alone.taps.numpy(), stage.taps.numpy(), rtol=0, atol=1e-7)
