from pathlib import Path

import numpy as np
import pytest

from napari_nssr.apps.cli import main
from napari_nssr.io.images import read_image, write_image
from napari_nssr.models.bundled import load_model

TINY_TRAIN = [
    "--count",
    "16",
    "--size",
    "11",
    "--depth",
    "2",
    "--width",
    "4",
    "--epochs",
    "300",
    "--lr",
    "0.01",
    "--device",
    "cpu",
]


@pytest.fixture
def png(tmp_path):
    img = (np.random.default_rng(0).random((12, 16, 3)) * 255).astype(np.uint8)
    return write_image(tmp_path / "photo.png", img)


@pytest.fixture
def tif(tmp_path):
    img = (np.random.default_rng(1).random((2, 10, 12)) * 4000).astype(np.uint16)
    return write_image(tmp_path / "stack.tif", img)


def test_train_writes_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["train", "-o", str(out), *TINY_TRAIN]) == 0
    assert "converged" in capsys.readouterr().out
    model = load_model(out)
    assert model.filter.shape == (5, 5) and model.gallery.count == 16
    assert main(["train", "-o", str(out), *TINY_TRAIN]) == 2  # refuses to clobber
    assert main(["train", "-o", str(out), "--overwrite", *TINY_TRAIN]) == 0


def test_train_on_a_measured_psf(tmp_path):
    from napari_nssr.core.kernels import gaussian_kernel

    psf = write_image(tmp_path / "psf.tif", (gaussian_kernel(13, 1.5, 1.0, 0.2) * 1e4).astype(np.float32))
    out = tmp_path / "psf.safetensors"
    assert main(["train", "-o", str(out), "--kernels", str(psf), "--ridge", "0.01", *TINY_TRAIN]) == 0
    model = load_model(out)
    assert model.gallery.family == "file" and model.training["kernel_count"] == 1
    assert model.loss.ridge == 0.01 and model.noise_gain < 10


def test_train_for_a_widefield_microscope(tmp_path):
    out = tmp_path / "w.safetensors"
    optics = ["--family", "widefield", "--na", "1.2", "--wavelength", "0.6", "--pixel-size", "0.08", "--defocus", "0.3"]
    optics += ["--objective", "chain"]  # the exact optimum of the chain objective is reached in 300 steps
    assert main(["train", "-o", str(out), *TINY_TRAIN, *optics]) == 0
    gallery = load_model(out).gallery
    assert gallery.family == "widefield" and gallery.numerical_aperture == 1.2 and gallery.wavelength_um == 0.6
    assert gallery.pixel_um == 0.08 and gallery.defocus_um == 0.3
    assert (
        main(["train", "-o", str(tmp_path / "bad.safetensors"), *TINY_TRAIN, "--family", "widefield", "--na", "1.6"])
        == 2
    )


def test_train_degradation_aware(tmp_path, capsys):
    out = tmp_path / "c.safetensors"
    args = ["--objective", "chain", "--family", "div2krk", "--gallery-scale", "2", "--noise", "0.01"]
    assert main(["train", "-o", str(out), *args, *TINY_TRAIN]) == 0
    model = load_model(out)
    assert model.chain is not None and model.chain.noise == 0.01 and model.gallery.family == "div2krk"


def test_train_with_paper_recipe_reports_non_convergence(tmp_path, capsys):
    out = tmp_path / "p.safetensors"
    code = main(["train", "-o", str(out), "--recipe", "paper", "--no-hold-sum", *TINY_TRAIN[:-8], "--epochs", "2"])
    assert code in (2, 3)  # 3: trained but not converged; 2: diverged to NaN
    assert "NOT converged" in capsys.readouterr().out or code == 2


def test_apply_png_and_tif_with_several_scales(png, tif, tmp_path, capsys):
    assert main(["apply", str(png), str(tif), "-s", "2", "-s", "3", "-o", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    assert f"{tif} x3: blur" in said and "noise" in said  # the blind estimate, said for each image
    a = read_image(tmp_path / "out" / "photo_x2_nssr.png")
    assert a.shape == (24, 32, 3) and a.dtype == np.uint8
    b = read_image(tmp_path / "out" / "stack_x3_nssr.tif")
    assert b.shape == (2, 30, 36) and b.dtype == np.uint16


def test_apply_with_the_per_scale_chain_family(png, tmp_path):
    assert main(["apply", str(png), "-s", "2.5", "-m", "chain", "-o", str(tmp_path / "c")]) == 0
    assert read_image(tmp_path / "c" / "photo_x2.5_nssr.png").shape == (30, 40, 3)


def test_apply_refuses_to_clobber_and_never_touches_inputs(png, tmp_path, capsys):
    assert main(["apply", str(png), "-s", "2"]) == 0
    result = tmp_path / "photo_x2_nssr.png"
    before = result.read_bytes()
    assert main(["apply", str(png), "-s", "2"]) == 0  # complete: skipped, not rewritten
    assert "is complete: skipped" in capsys.readouterr().out
    assert result.read_bytes() == before
    # an output that would land on another input is refused even with --overwrite
    original = png.read_bytes()
    assert main(["apply", str(png), str(result), "-s", "2", "--overwrite"]) == 2
    assert "one of the inputs" in capsys.readouterr().err
    assert png.read_bytes() == original and result.read_bytes() == before
    assert main(["apply", str(png), "-s", "2", "--overwrite", "--strength", "0.5"]) == 0


def test_apply_bad_inputs_give_one_line_errors(tmp_path, capsys):
    bad = write_image(tmp_path / "nan.tif", np.full((8, 8), np.nan, np.float32))
    assert main(["apply", str(bad), "-s", "2"]) == 1  # this file failed
    err = capsys.readouterr().err
    assert "NaN" in err and all(len(line) < 300 for line in err.splitlines())
    assert not (tmp_path / "nan_x2_nssr.tif").exists()
    assert main(["apply", str(tmp_path / "missing.tif"), "-s", "2"]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["apply", str(bad), "-s", "0.5"]) == 2  # the batch's settings: nothing runs
    assert main(["apply", str(bad), "-s", "2", "-m", str(bad)]) == 2
    (tmp_path / "junk.tif").write_bytes(b"junk")
    assert main(["apply", str(tmp_path / "junk.tif"), "-s", "2"]) == 1
    assert "could not read" in capsys.readouterr().err


def test_apply_float_to_png_is_refused_before_writing(tmp_path, capsys):
    src = write_image(tmp_path / "f.tif", np.random.default_rng(0).random((8, 8)).astype(np.float32))
    assert main(["apply", str(src), "-s", "2", "--format", "png"]) == 1
    assert "PNG stores only" in capsys.readouterr().err and not (tmp_path / "f_x2_nssr.png").exists()


def test_info(capsys):
    assert main(["info", "paper"]) == 0
    assert '"hold_sum_at_one": false' in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, method",
    [
        ([], "blind"),
        (["--method", "bicubic"], "bicubic"),
        (["-m", "chain"], "filter"),
        (["-m", "blind"], "blind"),
        (["--method", "wiener", "--psf-sigma", "1.2", "--wiener-balance", "0.1"], "wiener"),
        (["--method", "richardson-lucy", "--richardson-lucy-iterations", "3"], "richardson-lucy"),
        (["--method", "blind", "--blind-noise-margin", "2"], "blind"),
    ],
)
def test_apply_with_each_method_and_its_options(tif, tmp_path, options, method):
    from napari_nssr import super_resolve
    from napari_nssr.apps.cli import build_parser

    assert main(["apply", str(tif), "-s", "2", "-o", str(tmp_path / "o"), *options]) == 0
    args = build_parser().parse_args(["apply", str(tif), "-s", "2", *options])
    settings = args.method_options.settings(args)
    from napari_nssr.methods.resolve import resolve_method

    assert resolve_method(settings)[0].name == method
    expected = super_resolve(read_image(tif), 2, settings)
    np.testing.assert_array_equal(read_image(tmp_path / "o" / "stack_x2_nssr.tif"), expected)


def test_options_of_another_method_are_refused_before_work(tif, tmp_path, capsys):
    assert main(["apply", str(tif), "-s", "2", "-o", str(tmp_path / "o"), "--wiener-balance", "0.1"]) == 2
    assert "--wiener-balance does not apply to --method blind" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["apply", str(tif), "-s", "2", "--method", "wiener", "--wiener-balance", "-1"]) == 2
    assert "balance" in capsys.readouterr().err


def test_methods_lists_every_method_and_each_ones_options(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for text in ("blind (default)", "richardson-lucy", "filter", "zssr"):
        assert text in out
    assert main(["methods", "wiener"]) == 0
    out = capsys.readouterr().out
    assert "--wiener-balance" in out and "default 0.02" in out
    assert "--psf-sigma" in out  # the optics every deconvolution takes
    assert main(["methods", "filter"]) == 0
    assert "--model" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["methods", "no-such"])
    assert refused.value.code == 2
    assert "invalid choice: 'no-such'" in capsys.readouterr().err


def test_apply_help_is_short_and_points_to_the_methods(capsys):
    with pytest.raises(SystemExit):
        main(["apply", "--help"])
    out = capsys.readouterr().out
    assert len(out.splitlines()) < 80
    assert "--wiener-balance" not in out and "napari-nssr methods" in out


def test_only_library_errors_become_one_line(monkeypatch, tif):
    # a bug (here a TypeError from inside) keeps its traceback instead of posing as a user error
    import napari_nssr.apps.batch as batch

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(batch, "apply_lazy", broken)
    with pytest.raises(TypeError, match="a bug"):
        main(["apply", str(tif), "-s", "2", "--overwrite"])


def test_apply_writes_ome_zarr_and_reports_progress(tif, tmp_path, capsys):
    from napari_nssr.apps.cli import _progress_bars
    from napari_nssr.io.images import read_image_file

    assert (
        main(["apply", str(tif), "-s", "2", "--format", "zarr", "-o", str(tmp_path / "z"), "--method", "bicubic"]) == 0
    )
    (out,) = (tmp_path / "z").iterdir()
    assert out.suffix == ".zarr"
    data, _ = read_image_file(out, lazy=False)
    source = read_image(tif)
    assert data.shape[-2:] == (2 * source.shape[-2], 2 * source.shape[-1])
    seen = []
    update = _progress_bars(True)("x.tif")  # a tqdm bar (silent when stderr is not a terminal)
    for done in (1, 2, 3):
        update(done, 3)
        seen.append(done)
    assert seen == [1, 2, 3] and _progress_bars(False) is None


def test_a_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["apply", "x.tif", "-s", "abc"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid float value: 'abc'" in err[0] and "--help" in err[0]


def test_train_into_a_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    import napari_nssr.apps.cli as cli

    monkeypatch.setattr(cli, "train_model", lambda *a, **k: pytest.fail("trained before refusing"))
    (tmp_path / "models").mkdir()
    assert main(["train", "-o", str(tmp_path / "models"), "--overwrite", *TINY_TRAIN]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_a_result_is_never_written_over_a_folder(tmp_path):
    from napari_nssr.core.errors import OutputExistsError
    from napari_nssr.io.files import write_atomically

    (tmp_path / "x.tif").mkdir()
    with pytest.raises(OutputExistsError, match="it is a folder"):
        write_atomically(tmp_path / "x.tif", lambda tmp: Path(tmp).write_bytes(b"x"), overwrite=True)


def test_apply_with_guides_writes_the_band_on_the_guides_grid(tmp_path, capsys):
    import rasterio

    from ..io.landsat_scene import SHARED, landsat_files

    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    files = landsat_files(tmp_path)
    out = tmp_path / "out"
    # no scale, no method: the guides' grid sets the scale, guides mean the guided method
    assert (
        main(
            [
                "apply",
                str(files["coarse"]),
                "--guide",
                str(files["b3"]),
                "--guide",
                str(files["b4"]),
                "-o",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    result = out / "b2_60m_x2_nssr.tif"
    with rasterio.open(result) as r, rasterio.open(files["b3"]) as g, rasterio.open(files["truth"]) as t:
        assert r.crs == g.crs and r.transform.almost_equals(g.transform) and r.shape == g.shape
        assert r.descriptions == ("blue",) and r.dtypes == ("uint16",)
        assert r.tags()["NAPARI_NSSR"].count("b3_30m.tif") == 1
        values, truth = r.read(1).astype(float), t.read(1).astype(float)
    from napari_nssr import super_resolve

    coarse = read_image(files["coarse"])
    bicubic = super_resolve(coarse, 2, "bicubic").astype(float)
    inner = (slice(4, -4), slice(4, -4))
    mse = lambda x: np.mean((x[inner] - truth[inner]) ** 2)  # noqa: E731
    assert 10 * np.log10(mse(bicubic) / mse(values)) > 3  # the real scene's other bands carry its detail
    # a second run finds its result complete; a guide changed since makes it another run's
    assert (
        main(
            [
                "apply",
                str(files["coarse"]),
                "--guide",
                str(files["b3"]),
                "--guide",
                str(files["b4"]),
                "-o",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "already complete" in capsys.readouterr().out


def test_apply_refuses_guides_off_the_grid_and_methods_without_guides(tmp_path, capsys):
    from ..io.landsat_scene import SHARED, landsat_files

    if not SHARED.is_dir():
        pytest.skip("needs ../shared/data")
    files = landsat_files(tmp_path)
    out = tmp_path / "out"
    assert main(["apply", str(files["coarse"]), "--guide", str(files["shifted"]), "-o", str(out)]) == 1
    err = capsys.readouterr()
    assert "origin is off the result's by +0 rows and +0.5 columns" in err.err + err.out
    assert not out.exists() or not list(out.iterdir())
    assert (
        main(
            [
                "apply",
                str(files["coarse"]),
                "--guide",
                str(files["shifted"]),
                "--reproject-guides",
                "-o",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert main(["apply", str(files["coarse"]), "--guide", str(files["b3"]), "--method", "blind"]) == 2
    assert "the blind method takes no guide images" in capsys.readouterr().err
    assert main(["apply", str(files["coarse"])]) == 2
    assert "give a scale (-s), or guides (--guide)" in capsys.readouterr().err
    assert main(["apply", str(files["coarse"]), "--reproject-guides", "-s", "2"]) == 2
    assert main(["apply", str(files["coarse"]), "--guide", str(files["coarse"])]) == 1  # its own guide
