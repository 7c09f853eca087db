from napari_nssr.apps.bench import IMAGE_SETS, BenchMethod, load_test_image, run_benchmark
from napari_nssr.apps.cli import main
from napari_nssr.methods.deconvolution import WienerSettings


def test_bench_runs_methods_side_by_side_and_writes_markdown(tmp_path, capsys):
    md = tmp_path / "bench.md"
    args = ["bench", "--images", "camera", "--scales", "2", "--max-side", "96", "--markdown", str(md)]
    args += ["--methods", "paper,blind,wiener", "--wiener-balance", "0.2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for method in ("| bicubic |", "| paper |", "| blind |", "| wiener |"):
        assert method in out and method in md.read_text()
    assert "s / image" in out and "s / output Mpx" in out


def test_methods_get_their_command_line_settings():
    result = run_benchmark(
        {"bicubic": BenchMethod("bicubic"), "w": BenchMethod(WienerSettings(balance=0.5))},
        ["camera"],
        [2],
        max_side=48,
    )
    assert result.methods == ["bicubic", "w"] and result.seconds_per_image["w"] > 0
    assert result.mean("psnr", "w", 2) != result.mean("psnr", "bicubic", 2)


def test_bench_held_out_set_runs_offline_on_images_outside_the_main_set(capsys):
    assert not set(IMAGE_SETS["held-out"]) & set(IMAGE_SETS["all"])
    args = ["bench", "--images", "held-out", "--scales", "4", "--max-side", "48", "--methods", "default"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for name in IMAGE_SETS["held-out"]:
        assert f" {name}: bicubic" in out


def test_test_images_are_cropped_floats():
    image = load_test_image("camera", max_side=50)
    assert image.shape == (48, 48) and image.dtype.kind == "f" and 0 <= image.min() <= image.max() <= 1
