from napari_nssr.apps.cli import main
from napari_nssr.io.images import read_image


def test_demo_writes_report_and_pictures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert "| astronaut |" in report and "blind PSNR / SSIM" in report and "default PSNR / SSIM" in report
    assert "`blind` = blind (blind-x2" in report and "`default` = filter (default)" in report
    panel = read_image(out / "astronaut_compare.png")
    assert panel.ndim == 3 and panel.shape[1] > 4 * 192  # LR, bicubic, two methods, truth
    assert (out / "moon_x2_blind.tif").exists()
    assert main(["demo", "-o", str(out)]) == 2  # refuses to clobber
