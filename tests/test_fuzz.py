"""Property-based tests (hypothesis): whatever arrays and numbers users pass, ``super_resolve`` and
``apply`` give a result of the right shape and dtype, finite where the input is finite, or one of
the documented errors; never a crash from inside a dependency, never a changed input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from napari_nssr import NSSRError, make_request, super_resolve
from napari_nssr.apps.cli import main

DTYPES = [np.uint8, np.uint16, np.int16, np.uint32, np.int32, np.int64, np.float16, np.float32, np.float64]
METHODS = ["bicubic", "chain", "blind", "wiener", "psf"]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def images(draw):
    # mostly usable images, with the unusable kinds (bool, complex, 1 pixel, a channel pair) now and then
    dtype = np.dtype(draw(st.sampled_from(DTYPES * 3 + [np.bool_, np.complex64])))
    layout = draw(st.sampled_from(["2d", "2d", "2d", "stack", "rgb", "rgb", "pairs"]))
    side = st.sampled_from([1] + list(range(2, 41)))
    rows, cols = draw(side), draw(side)
    shape = {"2d": (rows, cols), "stack": (2, rows, cols), "rgb": (rows, cols, 3), "pairs": (rows, cols, 2)}[layout]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        low = draw(st.sampled_from([info.min, 0 if info.min < 0 else info.min]))
        data = rng.integers(low, info.max, size=shape, dtype=dtype, endpoint=True)
    elif dtype.kind == "f":
        exponent = draw(st.integers(-300 if dtype.itemsize == 8 else -30, 300 if dtype.itemsize == 8 else 3))
        data = (rng.standard_normal(shape) * 10.0**exponent).astype(dtype)
        if draw(st.integers(0, 9)) == 0 and data.size:
            data.flat[0] = np.nan
    else:
        data = rng.random(shape).astype(dtype)
    view = draw(st.sampled_from(["contiguous", "flipped", "strided", "read-only"]))
    if view == "flipped":
        data = data[::-1]
    elif view == "strided":
        data = np.repeat(data, 2, axis=-2 if layout != "rgb" else 0)[..., ::2, :] if data.ndim >= 2 else data
    elif view == "read-only":
        data.flags.writeable = False
    return data


scales = st.one_of(
    st.floats(1, 16),
    st.floats(0.5, 20),
    st.sampled_from([np.float32(2.0), np.int64(3), (2, 3), 2.5, float("nan"), float("inf")]),
)


@FUZZ
@given(
    image=images(),
    scale=scales,
    method=st.sampled_from(METHODS),
    strength=st.sampled_from([0.0, 0.5, 1.0, 1.0, 1.0, 5.0]),
)
def test_super_resolve_gives_a_sound_result_or_a_documented_error(image, scale, method, strength):
    before = image.copy()
    try:
        expected = make_request(scale, strength=strength).plan(image).shape
        out = super_resolve(image, scale, method, strength=strength, device="cpu")
    except NSSRError as exc:
        event(f"refused: {str(exc)[:45]}")
        np.testing.assert_array_equal(image, before)
        return
    event("computed")
    np.testing.assert_array_equal(image, before)  # the input is never changed
    assert out.shape == expected and out.dtype == image.dtype
    if image.dtype.kind == "f":
        assert np.isfinite(out).all()  # the input was finite, or an error was raised


@FUZZ
@given(
    image=images(),
    scale=st.sampled_from(["2", "2", "1.5", "3", "0.5", "17", "nan"]),
    fmt=st.sampled_from(["same", "same", "png"]),
)
def test_apply_writes_a_sound_file_or_fails_cleanly(tmp_path_factory, image, scale, fmt):
    import tifffile

    folder = tmp_path_factory.mktemp("fuzz")
    source = folder / "in.tif"
    try:
        tifffile.imwrite(source, image, photometric="rgb" if image.ndim == 3 and image.shape[-1] == 3 else "minisblack")
    except Exception:  # a dtype TIFF cannot hold (bool): nothing to test through files
        return
    stored = tifffile.imread(source)
    code = main(["apply", str(source), "-s", scale, "--format", fmt, "-m", "chain", "-o", str(folder / "out")])
    event(f"exit {code}")
    assert code in (0, 1, 2)  # written; this file failed; the batch's settings refused
    np.testing.assert_array_equal(tifffile.imread(source), stored)  # the input file is untouched
    written = list((folder / "out").glob("*")) if (folder / "out").exists() else []
    if code != 0:
        assert written == []  # nothing, not even a partial file
    else:
        assert len(written) == 1 and not written[0].name.startswith(".")


def test_fuzz_strategies_cover_the_hard_cases():
    # guard against a strategy that silently stops producing the cases above
    assert {np.dtype(d).kind for d in DTYPES} == {"u", "i", "f"}
    pytest.importorskip("hypothesis")


BATCH = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@st.composite
def batches(draw):
    """A folder's worth of inputs (good, damaged, missing, a folder, a link loop), outputs already there
    (made by another method, truncated, a stranger's file) and the method this run uses."""
    kinds = draw(
        st.lists(st.sampled_from(["good", "good", "truncated", "missing", "folder", "loop"]), min_size=1, max_size=5)
    )
    before = [draw(st.sampled_from(["none", "none", "same", "other method", "truncated", "stranger"])) for _ in kinds]
    method = draw(st.sampled_from(["bicubic", "wiener"]))
    seed = draw(st.integers(0, 2**16))
    return kinds, before, method, seed


@BATCH
@given(batches())
def test_a_batch_leaves_only_whole_results_of_what_they_record_and_replaces_nothing(tmp_path_factory, capsys, case):
    """Whatever mix a batch meets, at the end every output present is whole and the result of the settings
    it records, no file the run did not write was replaced, and every good input was processed."""
    import json
    import os

    import tifffile

    from napari_nssr.io.images import holds_result, read_header

    kinds, before, method, seed = case
    folder = tmp_path_factory.mktemp("batch")
    out = folder / "out"
    out.mkdir()
    rng = np.random.default_rng(seed)
    inputs, foreign = [], {}
    other = "wiener" if method == "bicubic" else "bicubic"
    for k, (kind, there) in enumerate(zip(kinds, before)):
        path = folder / f"in{k}.tif"
        inputs.append(str(path))
        if kind == "missing":
            continue
        if kind == "folder":
            path.mkdir()
            continue
        if kind == "loop":
            os.symlink(path, path)
            continue
        image = (rng.random((24, 20)) * 1000).astype(np.uint16)
        tifffile.imwrite(path, image, rowsperstrip=4)
        if kind == "truncated":
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])
        result = out / f"in{k}_x2_nssr.tif"
        if there in ("same", "other method", "truncated"):
            assert main(
                ["apply", str(path), "-s", "2", "-o", str(out), "--method", method if there == "same" else other]
            ) in (0, 1)
            if there == "truncated" and result.exists():
                data = result.read_bytes()
                result.write_bytes(data[: len(data) // 3])
        elif there == "stranger":
            result.write_bytes(b"not an image of ours")
        if result.exists() and there != "same":
            foreign[result] = result.read_bytes()
    capsys.readouterr()
    code = main(["apply", *inputs, "-s", "2", "-o", str(out), "--method", method])
    said = capsys.readouterr()
    assert code in (0, 1, 2) and "Traceback" not in said.out + said.err
    for path, data in foreign.items():  # nothing this run did not write was replaced, or called its own
        assert path.read_bytes() == data and f"{path} is complete: skipped" not in said.out
    for k, (kind, there) in enumerate(zip(kinds, before)):
        result = out / f"in{k}_x2_nssr.tif"
        if result.exists() and result not in foreign:
            made_by = json.loads(read_header(result).meta.provenance)
            assert made_by["method"] == method and holds_result(result, (48, 40), np.uint16)
        if kind == "good" and there == "none" and code != 2:
            assert result.exists()  # every good input with nothing in its way was processed
