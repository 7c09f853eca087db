"""The lens's windows: where they sit and that they equal the whole result there."""

import numpy as np
import pytest
from scipy import ndimage

from napari_nssr import BlindSettings, KnownPSFSettings, PSFSettings, super_resolve
from napari_nssr.engine.lens import Lens, View, lens_factor, output_window
from napari_nssr.methods.blind.stabilised import DenoisedStabilised
from napari_nssr.methods.psf.restore import KnownPSFRestoration


def _counts(shape, seed=0, photons=200.0):
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal(shape), 2.0)
    field = 0.05 + 0.95 * (field - field.min()) / (field.max() - field.min())
    return rng.poisson(field * photons).astype(np.uint16)


def _check_against_whole(lens, image, view, method, rgb=False, index=()):
    shown = lens.render(view)
    whole = np.asarray(super_resolve(image, shown.factor, method, rgb=rgb))
    whole = whole[index] if index else whole
    r, c = shown.origin
    expected = whole[r : r + shown.data.shape[0], c : c + shown.data.shape[1]]
    spread = float(whole.max()) - float(whole.min())
    assert shown.data.shape == expected.shape and shown.data.dtype == expected.dtype
    # the tolerance: 1e-4 of the range (integers: one rounding step)
    tolerance = max(1e-4 * spread, 1.0 if np.issubdtype(whole.dtype, np.integer) else 0.0)
    assert np.abs(shown.data.astype(np.float64) - expected).max() <= tolerance
    return shown


def test_factors_follow_the_zoom_capped_and_nothing_at_or_below_one():
    assert lens_factor(3.7, 8) == 3.7 and lens_factor(3.7049, 8) == 3.7
    assert lens_factor(20, 8) == 8 and lens_factor(20, 5.5) == 5.5
    assert lens_factor(1.0, 8) is None and lens_factor(0.3, 8) is None and lens_factor(float("nan"), 8) is None


def test_the_window_covers_the_box_and_sits_where_the_whole_result_puts_it():
    rows, step = output_window((10.2, 30.7), 64, 237)
    centres = (np.arange(rows.start, rows.stop) + 0.5) * step - 0.5
    assert step == 64 / 237 and centres[0] < 10.2 and centres[-1] > 30.7  # covered, a pixel of margin
    assert centres[1] >= 10.2 - 2 * step and centres[-2] <= 30.7 + 2 * step  # and no more
    assert output_window((-50.0, -20.0), 64, 128) is None and output_window((-5.0, 3.0), 64, 128)[0].start == 0


@pytest.mark.parametrize("zoom", [2.0, 3.7, 5.13])
def test_a_filters_window_equals_the_whole_result_there(rng, zoom):
    image = (rng.random((80, 70)) * 1000).astype(np.float32)
    lens = Lens(image, BlindSettings(denoise="none"), rgb=False)
    shown = _check_against_whole(lens, image, View((), (20.3, 51.0), (-3.0, 40.5), zoom), BlindSettings(denoise="none"))
    assert shown.factor == lens_factor(zoom, 8)
    assert shown.offset == pytest.approx(tuple((o + 0.5) * s - 0.5 for o, s in zip(shown.origin, shown.step)))
    assert shown.record["method"] == "blind" and shown.record["scale"] == shown.factor


def test_denoised_planes_are_kept_and_each_view_filters_only_its_window(monkeypatch):
    image = _counts((96, 90))
    lens = Lens(image, BlindSettings(), rgb=False)
    _, prepared = lens.prepared(2.5)
    assert isinstance(prepared.processor, DenoisedStabilised)  # the path under test is the one taken
    calls = []
    original = DenoisedStabilised.denoised_plane
    monkeypatch.setattr(DenoisedStabilised, "denoised_plane", lambda self, p: calls.append(1) or original(self, p))
    _check_against_whole(lens, image, View((), (10.0, 40.0), (30.0, 80.0), 2.5), "blind")
    _check_against_whole(lens, image, View((), (50.0, 90.0), (0.0, 20.0), 2.5), "blind")  # panned
    _check_against_whole(lens, image, View((), (50.0, 90.0), (0.0, 20.0), 3.1), "blind")  # zoomed
    assert len(calls) == 1  # the plane was denoised once for every view and factor


def test_whole_plane_processors_are_computed_once_per_plane_and_factor():
    image = _counts((64, 64), seed=1, photons=500.0).astype(np.float32)
    settings = KnownPSFSettings(
        psf=PSFSettings(sigma=1.5), restore="denoise-deconvolve", iterations=3, noise="gain=1,offset=0,read=1"
    )
    lens = Lens(image, settings, rgb=False)
    _, prepared = lens.prepared(2.0)
    assert isinstance(prepared.processor, KnownPSFRestoration)
    _check_against_whole(lens, image, View((), (5.0, 30.0), (20.0, 60.0), 2.0), settings)
    before = len(lens._planes)
    lens.render(View((), (30.0, 60.0), (0.0, 20.0), 2.0))
    assert len(lens._planes) == before


def test_stacks_and_rgb_images_show_the_chosen_plane(rng):
    stack = (rng.random((3, 40, 48)) * 100).astype(np.float32)
    lens = Lens(stack, BlindSettings(denoise="none"), rgb=False)
    view = View((2,), (5.0, 30.0), (0.0, 47.0), 2.2)
    _check_against_whole(lens, stack, view, BlindSettings(denoise="none"), index=(2,))
    colour = (rng.random((40, 48, 3)) * 255).astype(np.uint8)
    lens = Lens(colour, BlindSettings(denoise="none"), rgb=True)
    shown = _check_against_whole(
        lens, colour, View((), (5.0, 30.0), (0.0, 47.0), 3.0), BlindSettings(denoise="none"), rgb=True
    )
    assert shown.data.shape[-1] == 3


def test_nothing_is_shown_at_or_below_x1_or_off_the_image(rng):
    image = rng.random((32, 32)).astype(np.float32)
    lens = Lens(image, BlindSettings(denoise="none"), rgb=False)
    assert lens.render(View((), (0.0, 31.0), (0.0, 31.0), 0.9)) is None
    assert lens.render(View((), (100.0, 140.0), (0.0, 31.0), 3.0)) is None


def test_a_pan_computes_only_what_it_uncovers_and_still_equals_the_whole(rng, monkeypatch):
    image = (rng.random((120, 110)) * 1000).astype(np.float32)
    settings = BlindSettings(denoise="none")
    lens = Lens(image, settings, rgb=False)
    lens.render(View((), (20.0, 60.0), (20.0, 60.0), 3.0))
    computed = []
    window = Lens._window
    monkeypatch.setattr(Lens, "_window", lambda self, *a: computed.append(a[-1]) or window(self, *a))
    for view in (View((), (26.0, 66.0), (17.0, 57.0), 3.0), View((), (30.0, 70.0), (25.0, 65.0), 3.0)):
        _check_against_whole(lens, image, view, settings)
    pixels = sum((w[0].stop - w[0].start) * (w[1].stop - w[1].start) for w in computed)
    whole_window = (lens._last[1][0].stop - lens._last[1][0].start) * (lens._last[1][1].stop - lens._last[1][1].start)
    assert len(computed) >= 4 and pixels < 0.5 * 2 * whole_window  # two pans: bands, not windows
