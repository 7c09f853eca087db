import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_nssr import BlindSettings, super_resolve, upsample_bicubic
from napari_nssr.core.degrade import blur_subsample
from napari_nssr.core.errors import Cancelled, ImageError, ImageTypeError, SettingsError
from napari_nssr.core.kernels import gaussian_kernel


def test_strength_zero_is_plain_bicubic(rng):
    x = rng.random((20, 24)).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(x)[None, None], size=(40, 48), mode="bicubic", align_corners=False)[0, 0]
    np.testing.assert_allclose(upsample_bicubic(x, 2), ref.numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "shape, scale, expected, rgb",
    [
        ((20, 30), 2, (40, 60), None),
        ((20, 30, 3), 3, (60, 90, 3), None),
        ((4, 20, 30), 2, (4, 40, 60), None),
        ((2, 3, 10, 12), 4, (2, 3, 40, 48), None),
        ((21, 33), 2.5, (52, 82), None),
        ((15, 10), (2, 3), (30, 30), None),
        ((5, 10, 3), 2, (5, 20, 6), False),
    ],
)
def test_output_shapes(rng, shape, scale, expected, rgb):
    out = super_resolve(rng.random(shape).astype(np.float32), scale, rgb=rgb)
    assert out.shape == expected


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_dtype_is_kept_and_integers_clipped(dtype):
    x = np.zeros((24, 24), dtype)
    hi = np.iinfo(dtype).max if np.dtype(dtype).kind in "ui" else 1.0
    x[8:16, 8:16] = hi  # a hard edge makes the sharpening filter overshoot
    out = super_resolve(x, 2)
    assert out.dtype == np.dtype(dtype)
    if np.dtype(dtype).kind in "ui":
        assert out.max() == hi  # the overshoot above the maximum is clipped, not wrapped
        # the undershoot below zero is clipped for unsigned types and kept for signed ones
        assert out.min() == 0 if np.dtype(dtype).kind == "u" else out.min() < 0
        assert (out == hi).sum() > 0
    else:
        assert out.max() > hi  # floats are not clipped: the overshoot is real data


def test_intensity_range_is_kept_for_uint16(rng):
    x = (rng.random((32, 32)) * 1000 + 30000).astype(np.uint16)
    out = super_resolve(x, 2)
    assert abs(float(out.mean()) - float(x.mean())) < 5


def test_constant_image_stays_constant():
    out = super_resolve(np.full((16, 16), 123.0, np.float32), 3)
    np.testing.assert_allclose(out, 123.0, rtol=1e-5)


def test_stack_planes_and_rgb_channels_match_2d_calls(rng):
    # a fixed model: the blind one is solved once per image, from a representative plane
    stack = rng.random((2, 12, 14, 3)).astype(np.float32)
    out = super_resolve(stack, 2, "chain")
    for i in range(2):
        for c in range(3):
            np.testing.assert_allclose(out[i, ..., c], super_resolve(stack[i, ..., c], 2, "chain"), atol=1e-6)


def test_pixel_centre_alignment():
    y, x = np.mgrid[0:31, 0:31]
    blob = np.exp(-((y - 12.0) ** 2 + (x - 17.0) ** 2) / 8.0).astype(np.float32)
    out = upsample_bicubic(blob, 3).astype(np.float64)
    yy, xx = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    cy, cx = (out * yy).sum() / out.sum(), (out * xx).sum() / out.sum()
    assert cy == pytest.approx((12 + 0.5) * 3 - 0.5, abs=0.05)
    assert cx == pytest.approx((17 + 0.5) * 3 - 0.5, abs=0.05)


def test_input_is_not_modified(rng):
    x = rng.random((10, 10)).astype(np.float32)
    before = x.copy()
    super_resolve(x, 2)
    np.testing.assert_array_equal(x, before)


def test_default_model_beats_bicubic_on_a_blurred_photo():
    # a mid-range DIV2KRK x2 blur (variances 2.6 and 1.4); mild blurs are over-sharpened (docs/method.md)
    from skimage import data
    from skimage.util import img_as_float

    hr = img_as_float(data.camera())[128:320, 128:320]
    lr = blur_subsample(hr, gaussian_kernel(21, 1.6, 1.2, 0.4), 2).astype(np.float32)

    def err(img):
        return np.mean((img[4:-4, 4:-4] - hr[4:-4, 4:-4]) ** 2)

    assert err(super_resolve(lr, 2)) < 0.9 * err(upsample_bicubic(lr, 2))


def test_progress_and_cancel(rng):
    x = rng.random((2, 40, 40)).astype(np.float32)
    seen = []
    tiled = BlindSettings(denoise="none")
    super_resolve(x, 2, tiled, tile_size=32, progress=seen.append, device="cpu")
    # first the method prepares, then the 80x80 output planes in strips of 32**2 pixels, at least
    # 16 rows: 5 strips per plane, 2 planes
    assert seen[0].phase == "preparing the method" and seen[0].done == 0
    assert [p.done for p in seen[1:]] == list(range(1, 11)) and seen[-1].total == 10
    whole = []  # the default denoises small images: whole planes, one step each, its steps announced
    super_resolve(x, 2, tile_size=32, progress=whole.append, device="cpu")
    planes = [p.done for p in whole[1:] if p.phase == "super-resolving"]
    within = [(p.done, p.phase) for p in whole[1:] if p.phase != "super-resolving"]
    assert planes == [1, 2] and whole[-1].total == 2
    assert within == [(0, "denoising"), (0, "filtering"), (1, "denoising"), (1, "filtering")]
    with pytest.raises(Cancelled):
        super_resolve(x, 2, tile_size=32, cancel=lambda: True)


@pytest.mark.parametrize(
    "image, kwargs, error, message",
    [
        (np.full((8, 8), np.nan, np.float32), {}, ImageError, "NaN"),
        (np.array([[1, np.inf], [0, 0]], np.float32), {}, ImageError, "infinite"),
        (np.zeros((0, 5), np.float32), {}, ImageError, "empty"),
        (np.zeros((1, 1), np.float32), {}, ImageError, "2x2"),
        (np.zeros((1, 9), np.float32), {}, ImageError, "2x2"),
        (np.zeros(9, np.float32), {}, ImageError, "2 axes"),
        (np.zeros((4, 4), bool), {}, ImageTypeError, "dtype bool"),
        (np.zeros((4, 4), complex), {}, ImageTypeError, "complex"),
        (np.array([["a", "b"], ["c", "d"]]), {}, ImageTypeError, "dtype"),
        (np.zeros((4, 4), np.float32), dict(scale=0.5), ImageError, ">= 1"),
        (np.zeros((4, 4), np.float32), dict(scale=float("nan")), ImageError, "finite"),
        (np.zeros((4, 4), np.float32), dict(scale=100), ImageError, "<= 16"),
        (np.zeros((4, 4), np.float32), dict(strength=-1), ImageError, "strength"),
        (np.zeros((4, 4, 5), np.float32), dict(rgb=True), ImageError, "3 or 4"),
        (np.zeros((4, 4), np.float32), dict(device="tpu"), SettingsError, "device"),
        (np.zeros((4, 4), np.float32), dict(tile_size=8), SettingsError, "tile_size"),
    ],
)
def test_bad_input_is_a_clear_error(image, kwargs, error, message):
    from napari_nssr.core.errors import NSSRError

    assert issubclass(error, NSSRError)
    kwargs = {"scale": 2, **kwargs}
    with pytest.raises(error, match=message):
        super_resolve(image, **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(rng):
    x = rng.random((40, 40)).astype(np.float32)
    np.testing.assert_allclose(super_resolve(x, 2, device="cuda"), super_resolve(x, 2, device="cpu"), atol=1e-5)


def test_numpy_scalar_scales_are_accepted(rng):
    x = rng.random((10, 12)).astype(np.float32)
    np.testing.assert_array_equal(super_resolve(x, np.float32(2.0), "chain"), super_resolve(x, 2, "chain"))


@pytest.mark.parametrize("magnitude", [1e-300, 1e38, 1e300])
@pytest.mark.parametrize("method", ["blind", "psf"])
def test_float64_images_far_from_one_give_finite_results(magnitude, method):
    # found by the fuzz test: squares of 1e300 overflowed in the noise estimate, and the blend with
    # bicubic upsampled float64 planes in float32 (inf beyond 3.4e38)
    image = np.random.default_rng(0).standard_normal((32, 32, 3)) * magnitude
    for strength in (0.5, 1.0):
        out = super_resolve(image, 2, method, strength=strength, device="cpu")
        assert out.dtype == np.float64 and np.isfinite(out).all()
        assert float(np.abs(out).max()) < 100 * float(np.abs(image).max())


def test_inputs_outside_numpy_are_taken_or_refused_in_one_line(rng):
    # found by the second hostile round: masks ignored, bare TypeError / ValueError from deep inside
    import dask.array as da

    values = rng.random((40, 36)).astype(np.float32)
    masked = np.ma.masked_array(values, mask=np.zeros(values.shape, bool))
    np.testing.assert_array_equal(super_resolve(masked, 2, "chain"), super_resolve(values, 2, "chain"))  # no mask
    masked.mask[5:10, 5:10] = True
    with pytest.raises(ImageError, match="mask would be ignored"):
        super_resolve(masked, 2)
    tensor = super_resolve(torch.from_numpy(values), 2, "chain")
    assert isinstance(tensor, torch.Tensor) and tensor.device.type == "cpu"
    np.testing.assert_allclose(tensor.numpy(), super_resolve(values, 2, "chain"), atol=0)
    lazy = da.from_array(values, chunks=20)
    unknown = lazy[lazy[:, 0] > 0.5]
    with pytest.raises(ImageError, match="unknown chunk sizes"):
        super_resolve(unknown, 2)


@pytest.mark.parametrize("magnitude", [1e-300, 1e-200, 1e-20, 1e20, 1e200, 1e300])
@pytest.mark.parametrize("method", ["blind", "psf", "default"])
def test_float64_images_of_extreme_magnitude_give_the_same_result_scaled(rng, magnitude, method):
    # found by the second hostile round: a relative error of 1.0 at 1e-200, 0.26 at 1e200; and the psf
    # restoration held zero signal at an absolute 1e-12 (an image in units of 1e-20 came back 1e9 off)
    import dask.array as da

    base = 0.44 + 0.15 * rng.random((48, 40))
    reference = super_resolve(base, 2, method)
    spread = float(np.ptp(reference))
    scaled = super_resolve(base * magnitude, 2, method) / magnitude
    assert np.abs(scaled - reference).max() <= 1e-4 * spread  # float32 computing: 1e-5 measured
    lazy = np.asarray(super_resolve(da.from_array(base * magnitude, chunks=24), 2, method)) / magnitude
    assert np.abs(lazy - reference).max() <= 1e-4 * spread


@pytest.mark.parametrize("method", ["blind", "default", "psf"])
def test_an_rgba_images_alpha_is_upsampled_as_opacity_not_signal(rng, method):
    # found by the second hostile round: a constant alpha of 200 became 213
    import dask.array as da

    from napari_nssr.engine.lens import Lens, View
    from napari_nssr.methods.resolve import resolve_method

    rgba = np.zeros((64, 60, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 255, (64, 60, 3))
    rgba[..., 3] = 200
    eager = super_resolve(rgba, 2, method)
    lazy = np.asarray(super_resolve(da.from_array(rgba, chunks=(32, 32, 4)), 2, method))
    assert (eager[..., 3] == 200).all() and (lazy[..., 3] == 200).all()
    rgba[..., 3] = rng.integers(0, 255, (64, 60))  # a varying alpha: plain bicubic of it
    expected = upsample_bicubic(rgba[..., 3], 2)
    assert np.abs(super_resolve(rgba, 2, method)[..., 3].astype(int) - expected).max() <= 1
    shown = Lens(rgba, resolve_method(method)[1], rgb=True).render(View((), (5.0, 40.0), (3.0, 50.0), 2.0))
    r, c = shown.origin
    window = expected[r : r + shown.data.shape[0], c : c + shown.data.shape[1]]
    assert np.abs(shown.data[..., 3].astype(int) - window).max() <= 1


def test_a_large_in_memory_result_is_announced_before_the_work(monkeypatch):
    # found by the second hostile round: x16 on a 4096^2 uint16 image built 8 GiB without a word
    import warnings

    import napari_nssr.core.request as request_module
    from napari_nssr.core.errors import LargeResultWarning

    monkeypatch.setattr(request_module, "WARN_OUTPUT_BYTES", 100_000)  # a small image stands for a large one
    image = np.zeros((64, 64), np.uint16)
    with pytest.warns(LargeResultWarning, match=r"256 x 256 result in memory .*dask array"):
        super_resolve(image, 4, "bicubic")
    with warnings.catch_warnings():
        warnings.simplefilter("error", LargeResultWarning)
        super_resolve(image, 2, "bicubic")  # 32 KiB: nothing said


def test_a_guide_sets_the_scale_and_the_method():
    from napari_nssr.core.errors import ImageError, SettingsError
    from napari_nssr.engine.api import guide_arrays, scale_from_guides

    image = np.ones((20, 30), np.float32)
    assert scale_from_guides(image, [np.ones((40, 60))], None) == (2.0, 2.0)
    with pytest.raises(ImageError, match="different grids"):
        scale_from_guides(image, [np.ones((40, 60)), np.ones((60, 90))], None)
    with pytest.raises(SettingsError, match="give a scale"):
        scale_from_guides(image, [], None)
    one = np.ones((4, 4))
    assert guide_arrays(None) == () and guide_arrays(one)[0] is one and len(guide_arrays([one, one])) == 2
