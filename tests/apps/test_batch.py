"""Batches: problems of the batch stop it before anything is computed; a bad file fails alone and
the batch goes on; each input is read once; complete outputs are skipped (resume); metadata
(pages, axes, calibration, georeference) survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_nssr.apps.batch import output_path, plan_batch, run_batch
from napari_nssr.apps.cli import main
from napari_nssr.core.request import Request
from napari_nssr.io.files import PART_PREFIX
from napari_nssr.io.images import holds_result, read_header, read_image, read_image_file, write_image
from napari_nssr.methods.bicubic import BicubicSettings

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"


@pytest.fixture
def two_folders(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for folder in ("a", "b"):
        paths.append(write_image(tmp_path / folder / "x.tif", (rng.random((12, 14)) * 1000).astype(np.uint16)))
    return paths


def test_same_named_inputs_from_two_folders_are_refused_before_writing(two_folders, tmp_path, capsys):
    # the old code wrote a's result, then b's result over it, and exited 0
    out = tmp_path / "out"
    assert main(["apply", *map(str, two_folders), "-s", "2", "-o", str(out), "--overwrite"]) == 2
    assert "would both be written to" in capsys.readouterr().err
    assert not out.exists()
    # beside each input (no -o) they do not collide
    assert main(["apply", *map(str, two_folders), "-s", "2"]) == 0
    assert all((p.parent / "x_x2_nssr.tif").is_file() for p in two_folders)


@pytest.mark.parametrize("extra, message", [(["-s", "2"], "scale 2 is given twice"), (["-s", "17"], "<= 16")])
def test_bad_scales_are_refused_before_any_output(tmp_path, capsys, extra, message):
    good = write_image(tmp_path / "good.tif", np.random.default_rng(1).random((10, 10)).astype(np.float32))
    out = tmp_path / "out"
    assert main(["apply", str(good), "-s", "2", *extra, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_a_bad_input_fails_alone_and_the_batch_goes_on(tmp_path, capsys):
    good = write_image(tmp_path / "good.tif", np.random.default_rng(1).random((10, 10)).astype(np.float32))
    nan = np.ones((10, 10), np.float32)
    nan[2, 2] = np.nan
    bad = write_image(tmp_path / "nan.tif", nan)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00junk")
    float_to_png = write_image(tmp_path / "f.tif", np.zeros((6, 6), np.float32))
    out = tmp_path / "out"
    assert main(["apply", str(bad), str(junk), str(good), "-s", "2", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "NaN" in captured.err and "could not read" in captured.err
    assert "1 written, 0 already complete (skipped), 2 failed" in captured.out
    assert [p.name for p in out.iterdir()] == ["good_x2_nssr.tif"]  # nothing of the failed ones
    assert main(["apply", str(float_to_png), "-s", "2", "--format", "png", "-o", str(out)]) == 1
    assert "PNG stores only" in capsys.readouterr().err
    assert main(["apply", str(good), str(good), "-s", "2"]) == 2
    assert "given twice" in capsys.readouterr().err


def test_an_output_that_is_a_folder_fails_its_input(tmp_path, capsys):
    src = write_image(tmp_path / "s.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "s_x2_nssr.tif").mkdir()
    assert main(["apply", str(src), "-s", "2", "--overwrite"]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_folders_and_patterns_resume_and_skip_earlier_results(tmp_path, capsys):
    rng = np.random.default_rng(3)
    for name in ("a", "b", "c"):
        write_image(tmp_path / "in" / f"{name}.tif", (rng.random((10, 12)) * 1000).astype(np.uint16))
    first = tmp_path / "in" / "a_x2_nssr.tif"
    assert main(["apply", str(tmp_path / "in" / "a.tif"), "-s", "2"]) == 0  # a partly done batch
    stamp = first.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "in"), "-s", "2"]) == 0  # the folder: a, b, c (not a's result)
    out = capsys.readouterr().out
    assert "2 written, 1 already complete (skipped), 0 failed" in out and first.stat().st_mtime_ns == stamp
    assert main(["apply", str(tmp_path / "in" / "*.tif"), "-s", "2"]) == 0
    assert "0 written, 3 already complete" in capsys.readouterr().out
    assert main(["apply", str(tmp_path / "in" / "*.png"), "-s", "2"]) == 2
    assert "no images match" in capsys.readouterr().err


def test_an_output_in_the_way_that_differs_is_not_replaced(tmp_path, capsys):
    src = write_image(tmp_path / "s.tif", np.zeros((8, 8), np.uint8))
    other = write_image(tmp_path / "s_x2_nssr.tif", np.ones((3, 3), np.uint8))
    before = other.read_bytes()
    assert main(["apply", str(src), "-s", "2"]) == 1
    assert "is not this run's complete result" in capsys.readouterr().err and other.read_bytes() == before


def test_multi_page_tiffs_are_stacks_and_mixed_shapes_are_refused(tmp_path, capsys):
    pages = np.arange(3 * 8 * 9, dtype=np.uint16).reshape(3, 8, 9)
    for page in pages:
        tifffile.imwrite(tmp_path / "pages.tif", page, append=True)
    assert main(["apply", str(tmp_path / "pages.tif"), "-s", "2", "--method", "bicubic"]) == 0
    out = read_image(tmp_path / "pages_x2_nssr.tif")
    assert out.shape == (3, 16, 18)  # every page, not only the first
    np.testing.assert_array_equal(out[2], read_image_file(tmp_path / "pages_x2_nssr.tif")[0][2])
    tifffile.imwrite(tmp_path / "mixed.tif", pages[0])
    tifffile.imwrite(tmp_path / "mixed.tif", np.zeros((5, 5), np.uint16), append=True)
    assert main(["apply", str(tmp_path / "mixed.tif"), "-s", "2"]) == 1
    assert "different shapes" in capsys.readouterr().err


def test_imagej_hyperstacks_keep_axes_and_calibration_divided_by_the_scale(tmp_path):
    data = (np.random.default_rng(2).random((2, 3, 2, 12, 14)) * 1000).astype(np.uint16)
    meta = {"axes": "TZCYX", "spacing": 0.5, "unit": "um"}
    tifffile.imwrite(tmp_path / "hyper.tif", data, imagej=True, resolution=(1 / 0.2, 1 / 0.25), metadata=meta)
    assert main(["apply", str(tmp_path / "hyper.tif"), "-s", "2", "--method", "bicubic"]) == 0
    out, info = read_image_file(tmp_path / "hyper_x2_nssr.tif")
    assert out.shape == (2, 3, 2, 24, 28) and info.axes == "TZCYX" and info.imagej
    assert info.unit == "um" and info.spacing == pytest.approx(0.5)
    assert info.pixel_size == pytest.approx((0.125, 0.1))  # (y, x) halved


def test_resolution_tags_are_divided_by_the_scale(tmp_path):
    tifffile.imwrite(tmp_path / "r.tif", np.zeros((8, 9), np.uint16), resolution=(10, 20), resolutionunit="CENTIMETER")
    assert main(["apply", str(tmp_path / "r.tif"), "-s", "4", "--method", "bicubic"]) == 0
    _, info = read_image_file(tmp_path / "r_x4_nssr.tif")
    assert info.unit == "cm" and info.pixel_size == pytest.approx((0.05 / 4, 0.1 / 4))


@pytest.mark.skipif(not (SHARED / "rgbn_5m.tif").is_file(), reason="needs ../shared/data")
def test_compressed_geotiffs_open_and_keep_their_georeference(tmp_path):
    # LZW-compressed, georeferenced, 4 bands (RGB and near infrared): the old code could not read it
    src = SHARED / "rgbn_5m.tif"
    assert main(["apply", str(src), "-s", "2", "-o", str(tmp_path)]) == 0
    out = tmp_path / "rgbn_5m_x2_nssr.tif"
    with tifffile.TiffFile(src) as a, tifffile.TiffFile(out) as b:
        before, after = a.geotiff_metadata, b.geotiff_metadata
        assert b.series[0].shape == (806, 1030, 4)
    assert after["ModelPixelScale"][:2] == pytest.approx([before["ModelPixelScale"][0] / 2] * 2)
    assert after["ModelTiepoint"] == before["ModelTiepoint"]  # same origin: the same ground
    assert after["GTCitationGeoKey"] == before["GTCitationGeoKey"]  # same CRS


def test_each_input_is_read_once(monkeypatch, tmp_path):
    import napari_nssr.apps.batch as batch

    srcs = [write_image(tmp_path / f"{i}.tif", np.zeros((8, 8), np.uint8)) for i in range(2)]
    reads = []
    original = batch.read_image_file
    monkeypatch.setattr(batch, "read_image_file", lambda p, **kw: (reads.append(Path(p)), original(p, **kw))[1])
    jobs, failures = plan_batch(srcs, Request((2, 2), BicubicSettings()), [2, 3])
    assert run_batch(jobs).failed == [] and failures == []
    assert reads == srcs  # integers: no pixels read while planning; each input once while computing


def test_stale_partial_files_of_dead_runs_are_removed_and_others_kept(tmp_path):
    src = write_image(tmp_path / "s.tif", np.zeros((8, 8), np.uint8))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{PART_PREFIX}{int(dead.stdout)}-abc.tif"
    live = tmp_path / f"{PART_PREFIX}{os.getpid()}-def.tif"
    foreign = tmp_path / ".part-123-xyz.tif"
    for path in (stale, live, foreign):
        path.write_bytes(b"partial")
    assert main(["apply", str(src), "-s", "2"]) == 0
    assert not stale.exists() and live.exists() and foreign.exists()


def test_sigterm_during_a_run_leaves_no_partial_file(tmp_path):
    src = write_image(tmp_path / "big.tif", np.random.default_rng(0).random((3, 600, 600)).astype(np.float32))
    proc = subprocess.Popen(
        [sys.executable, "-m", "napari_nssr.apps.cli", "apply", str(src), "-s", "2", "-s", "4", "--method", "wiener"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and "->" in proc.stdout.readline()  # x2 written: computing x4 now
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 130)  # finished first, or stopped cleanly
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(PART_PREFIX)]
    assert leftovers == [] and "Traceback" not in err


def test_output_names():
    assert output_path(Path("a/b.jpg"), 2.5, None, "same") == Path("a/b_x2.5_nssr.png")
    assert output_path(Path("a/b.tif"), 2, Path("o"), "png") == Path("o/b_x2_nssr.png")


def test_the_psf_method_takes_a_file_s_optics_unless_given(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "io_images_tests", Path(__file__).parents[1] / "io" / "test_images.py"
    )
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    src = helpers.write_ome(tmp_path / "scope.ome.tif")
    jobs, _ = plan_batch([src], Request((2, 2), BicubicSettings()), [2])
    assert jobs[0].request.settings == BicubicSettings() and not jobs[0].optics_from_file  # nothing to fill
    from napari_nssr.methods.psf.method import KnownPSFSettings

    jobs, _ = plan_batch([src], Request((2, 2), KnownPSFSettings()), [2], keep=frozenset({"wavelength_um"}))
    assert jobs[0].optics_from_file
    psf = jobs[0].request.settings.psf
    assert (psf.numerical_aperture, psf.immersion_index, psf.pixel_um) == (1.3, 1.518, pytest.approx(0.0675))
    assert psf.wavelength_um == KnownPSFSettings().psf.wavelength_um  # given on the command line: kept
    assert main(["apply", str(src), "-s", "2", "--method", "psf"]) == 0
    out = capsys.readouterr().out
    assert "optics" in out and "NA 1.3" in out
    _, meta = read_image_file(tmp_path / "scope_x2_nssr.ome.tif")
    assert meta.ome and meta.pixel_size == pytest.approx((35.0, 32.5))


def test_a_dask_distributed_cluster_gives_the_single_process_results(tmp_path, capsys):
    from distributed import LocalCluster

    rng = np.random.default_rng(4)
    srcs = [
        write_image(tmp_path / "u.tif", (rng.random((150, 170)) * 60000).astype(np.uint16)),
        write_image(tmp_path / "f.tif", rng.random((2, 90, 120)).astype(np.float32)),
    ]
    common = ["-s", "2", "-s", "3", "--tile-size", "64", "--no-progress", "--method", "blind"]
    assert main(["apply", *map(str, srcs), *common, "-o", str(tmp_path / "local")]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert main(["apply", *map(str, srcs), *common, "-o", str(tmp_path / "cluster"), "--scheduler", address]) == 0
    for name in ("u_x2_nssr.tif", "u_x3_nssr.tif", "f_x2_nssr.tif", "f_x3_nssr.tif"):
        np.testing.assert_array_equal(read_image(tmp_path / "cluster" / name), read_image(tmp_path / "local" / name))
    assert main(["apply", str(srcs[0]), "-s", "2", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data")
def test_real_geotiffs_keep_their_bounds_and_the_zero_fill_stays_nodata(tmp_path, capsys):
    import rasterio

    names = ["aerial_osbs.tif", "rgbn_5m.tif", "landsat8_b4_30m.tif"]
    assert main(["apply", *(str(SHARED / n) for n in names), "-s", "2", "-o", str(tmp_path), "--no-progress"]) == 0
    assert "zero fill at the scene's edges kept as nodata" in capsys.readouterr().out
    for name in names:
        with rasterio.open(SHARED / name) as src, rasterio.open(tmp_path / name.replace(".tif", "_x2_nssr.tif")) as out:
            assert out.bounds == pytest.approx(src.bounds) and out.crs == src.crs and out.count == src.count
            assert out.res == pytest.approx((src.res[0] / 2, src.res[1] / 2))
            if name.startswith("landsat"):
                before, after = src.read(1), out.read(1)
                assert out.nodata == 0
                fill_out = np.kron(before == 0, np.ones((2, 2), bool))
                assert (after[fill_out] == 0).all() and (after[~fill_out] > 0).all()
                # no bleed: the valid pixels along the fill keep the scene's own range (a bright
                # point inside the scene rings lower: that is sharpening, not the fill)
                from scipy import ndimage

                along = ~fill_out & (ndimage.distance_transform_edt(~fill_out) <= 4)
                assert after[along].min() >= 0.95 * before[before > 0].min()
    assert (
        main(["apply", str(SHARED / "landsat8_b4_30m.tif"), "-s", "2", "-o", str(tmp_path / "n"), "--nodata", "none"])
        == 0
    )
    with rasterio.open(tmp_path / "n" / "landsat8_b4_30m_x2_nssr.tif") as out:
        assert out.nodata is None


def test_damaged_files_empty_folders_and_link_loops_fail_alone(tmp_path, capsys):
    # found by the second hostile round: each of these stopped the whole batch with a traceback
    import os

    import tifffile

    from napari_nssr.apps.cli import main

    image = (np.random.default_rng(0).random((96, 96)) * 1000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "good.tif", image)
    tifffile.imwrite(tmp_path / "strips.tif", image, rowsperstrip=8)
    whole = (tmp_path / "strips.tif").read_bytes()
    (tmp_path / "truncated.tif").write_bytes(whole[: len(whole) // 2])
    tifffile.imwrite(tmp_path / "lzw.tif", image, compression="lzw", rowsperstrip=16)
    damaged = bytearray((tmp_path / "lzw.tif").read_bytes())
    for i in range(600, min(len(damaged) - 400, 4000), 5):
        damaged[i] ^= 0xFF
    (tmp_path / "corrupt.tif").write_bytes(bytes(damaged))
    (tmp_path / "folder.tif").mkdir()
    os.symlink(tmp_path / "loop.tif", tmp_path / "loop.tif")
    names = ["truncated.tif", "corrupt.tif", "folder.tif", "loop.tif", "good.tif"]
    code = main(["apply", *[str(tmp_path / n) for n in names], "-s", "2", "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 1 and (tmp_path / "out" / "good_x2_nssr.tif").exists()
    assert "Traceback" not in out and out.count("failed: ") == 4
    for name in names[:4]:
        line = next(line for line in out.splitlines() if "failed: " in line and name in line)
        assert len(line) < 300


def test_an_existing_output_is_skipped_only_if_this_run_made_it_whole(tmp_path, capsys):
    # found by the second hostile round: another method's result, or a truncated one, was "complete: skipped"
    rng = np.random.default_rng(4)
    src = write_image(tmp_path / "s.tif", (rng.random((64, 64)) * 1000).astype(np.uint16))
    out = tmp_path / "s_x2_nssr.tif"
    assert main(["apply", str(src), "-s", "2", "--method", "wiener"]) == 0
    made_by = json.loads(read_header(out).meta.provenance)
    assert made_by["method"] == "wiener" and made_by["scale"] == [2.0, 2.0] and made_by["source"]["name"] == "s.tif"
    capsys.readouterr()
    assert main(["apply", str(src), "-s", "2"]) == 1  # the default method would not make it
    assert "not this run's complete result" in capsys.readouterr().err
    assert main(["apply", str(src), "-s", "2", "--method", "wiener"]) == 0  # the same settings: skipped
    assert "1 already complete" in capsys.readouterr().out
    whole = out.read_bytes()
    out.write_bytes(whole[: len(whole) // 3])  # the header survives, the pixels do not
    assert main(["apply", str(src), "-s", "2", "--method", "wiener"]) == 1
    assert "not this run's complete result" in capsys.readouterr().err
    assert main(["apply", str(src), "-s", "2", "--method", "wiener", "--overwrite"]) == 0
    assert out.read_bytes() != whole[: len(whole) // 3] and holds_result(out, (128, 128), np.uint16)


@pytest.mark.parametrize("suffix", [".tif", ".zarr", "geotiff"])
def test_results_record_what_made_them_in_every_format_that_can(tmp_path, suffix):
    image = np.arange(48 * 40, dtype=np.uint16).reshape(48, 40)
    if suffix == "geotiff":
        from napari_nssr.io.meta import GeoInfo, ImageMeta

        geo = GeoInfo(crs="EPSG:32617", transform=(5.0, 0.0, 400000.0, 0.0, -5.0, 3300000.0))
        src = write_image(tmp_path / "s.tif", image, meta=ImageMeta(geo=geo))
        suffix = ".tif"
    else:
        src = write_image(tmp_path / "s.tif", image)
    assert main(["apply", str(src), "-s", "2", "--format", suffix.strip("."), "-o", str(tmp_path / "o")]) == 0
    result = next((tmp_path / "o").iterdir())
    assert json.loads(read_header(result).meta.provenance)["method"] == "blind"


def test_a_file_that_appears_while_a_result_is_computed_is_not_replaced(tmp_path):
    from napari_nssr.core.errors import OutputExistsError
    from napari_nssr.io.files import write_atomically

    target = tmp_path / "r.tif"

    def slow_write(tmp):  # meanwhile another run (or the user) puts a file there
        target.write_bytes(b"someone else's")
        Path(tmp).write_bytes(b"ours")

    with pytest.raises(OutputExistsError, match="appeared while this run"):
        write_atomically(target, slow_write)
    assert target.read_bytes() == b"someone else's" and [p.name for p in tmp_path.iterdir()] == ["r.tif"]
    folder = tmp_path / "r.zarr"

    def slow_folder(tmp):
        (folder / "theirs").mkdir(parents=True)
        Path(tmp).mkdir()
        (Path(tmp) / "ours").write_bytes(b"ours")

    with pytest.raises(OutputExistsError):
        write_atomically(folder, slow_folder, directory=True)
    assert [p.name for p in folder.iterdir()] == ["theirs"]


def test_an_unwritable_output_folder_is_found_before_any_work_and_named(tmp_path, capsys, monkeypatch):
    # found by the second hostile round: found only after the method's preparation, naming a temporary file
    import tempfile

    import napari_nssr.apps.batch as batch_module
    from napari_nssr.io import files

    src = write_image(tmp_path / "s.tif", np.zeros((16, 16), np.uint16))
    real = tempfile.mkstemp

    def refusing(*args, **kwargs):
        if str(kwargs.get("dir", "")).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", refusing)
    prepared = []
    monkeypatch.setattr(batch_module, "iter_prepare", lambda *a: prepared.append(1) or iter(()))
    assert main(["apply", str(src), "-s", "2", "-o", str(tmp_path / "locked")]) == 1
    err = capsys.readouterr().err
    assert f"cannot write into {tmp_path / 'locked'}: Permission denied" in err and not prepared
    assert PART_PREFIX not in err


def test_a_worker_death_fails_its_input_and_the_batch_goes_on(tmp_path, capsys, monkeypatch):
    # found by the second hostile round: workers killed again and again stopped the batch with a traceback
    import napari_nssr.apps.batch as batch_module

    class KilledWorker(Exception):  # what dask.distributed raises, by its name
        pass

    run = batch_module._run_job
    calls = []

    def dying_first(job, *args):
        calls.append(job.source.name)
        if len(calls) == 1:
            raise KilledWorker("Attempted to run task on 4 different workers, but all those workers died")
        return run(job, *args)

    monkeypatch.setattr(batch_module, "_run_job", dying_first)
    sources = [write_image(tmp_path / f"{n}.tif", np.zeros((16, 16), np.uint16) + k) for k, n in enumerate("ab")]
    assert main(["apply", *map(str, sources), "-s", "2", "-o", str(tmp_path / "o")]) == 1
    out = capsys.readouterr().out
    assert "workers died computing it" in out and (tmp_path / "o" / "b_x2_nssr.tif").exists()


def test_a_cluster_without_workers_stops_the_batch_in_bounded_time():
    import time

    from napari_nssr.apps.cli import WorkerWatch

    class Cluster:
        def __init__(self, workers):
            self.workers = workers

        def scheduler_info(self):
            return {"workers": {f"w{k}": {} for k in range(self.workers)}}

    fired = []
    empty = WorkerWatch(Cluster(0), patience=0.2, on_timeout=fired.append, poll=0.02)
    busy = WorkerWatch(Cluster(2), patience=0.2, on_timeout=fired.append, poll=0.02)
    empty.start(), busy.start()
    time.sleep(0.6)
    busy.stop()
    empty.join(timeout=2)
    assert fired == [0.2] and empty.fired and not busy.fired
