"""Known optics on real microscopy: the psf method against bicubic, blind and the best linear filter.

Run: python benchmarks/known_optics.py [--data ../shared/data] [--scales 2 4] [--markdown out.md]

Ground truths: the nuclei image and the middle plane of the widefield pollen stack
(``../shared/data``), each scaled to [0, 1]. Each is blurred by a known PSF on its own pixel grid,
subsampled, and given Poisson noise at 100, 300, 1000 and 3000 photons at full scale plus Gaussian
read noise of 2 photons:
- ``widefield``: a widefield PSF from optics (NA 1.4, oil, emission 0.61 um, 0.065 um pixels on
  the high-resolution grid: 0.13 um camera pixels at x2);
- ``measured``: the pollen stack's own measured PSF (its in-focus plane, ``pollen_psf.tif``).

Methods, each scored against the ground truth (PSNR and SSIM over the whole image, with the
reference's data range; gains are over bicubic):
- ``blind``: the default method, which sees only the image;
- ``psf``: the psf method with the true PSF (the optics, or the PSF file), as it runs by default:
  denoised, filtered for the PSF and sharpened by Richardson-Lucy, with the filter's caution and
  the iteration count chosen by splitting the image's noise ("factor / iterations": its choice);
- ``psf linear``: the psf method's filter alone (``restore="linear"``); "slope / noise": what it
  measured;
- ``psf bound``: the psf method with ``use="bound"``: the blind method (noise model, denoising)
  with its blur estimate kept between the PSF's width and 1.5 times it;
- ``psf NA+10%`` ... ``psf wl-10%``: the psf method given optics 10% off (widefield only);
- ``richardson-lucy``: scikit-image's Richardson-Lucy (20 iterations) with the true PSF;
- ``oracle``: the best 11x11 linear filter after bicubic, fitted by least squares *against the
  ground truth itself*: no linear filter of that size can do better, so it bounds what the psf
  method (an 11x11 linear filter at x2) could reach.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import tifffile
import torch
import torch.nn.functional as F

from napari_nssr import KnownPSFSettings, PSFSettings, make_request, prepare, super_resolve, upsample_bicubic
from napari_nssr.core.degrade import add_noise, blur_subsample
from napari_nssr.core.metrics import compare_to_reference
from napari_nssr.methods import RichardsonLucySettings
from napari_nssr.methods.psf.kernels import make_psf
from napari_nssr.methods.psf.method import known_psf_model

PEAKS = (100, 300, 1000, 3000)
READ_NOISE_PHOTONS = 2.0


def unit(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float64)
    return (image - image.min()) / (image.max() - image.min())


def oracle(hr: np.ndarray, up: np.ndarray, size: int = 11) -> np.ndarray:
    """The least-squares ``size x size`` filter of ``up`` towards ``hr`` (knowing ``hr``), applied."""
    patches = F.unfold(torch.from_numpy(up.astype(np.float64))[None, None], size)[0]
    r = size // 2
    target = torch.from_numpy(hr[r:-r, r:-r]).reshape(-1)
    weights = torch.linalg.lstsq(patches.T, target).solution
    out = up.astype(np.float64).copy()
    out[r:-r, r:-r] = (patches.T @ weights).reshape(hr.shape[0] - 2 * r, hr.shape[1] - 2 * r).numpy()
    return out


def cases(data: Path) -> list[tuple[str, np.ndarray, PSFSettings]]:
    nuclei = unit(tifffile.imread(data / "nuclei.tif"))
    pollen = unit(tifffile.imread(data / "pollen.tif")[16])
    # the optics are given with the camera's (input) pixel size: 0.13 um, so 0.065 um at x2
    optics = PSFSettings(
        source="widefield", numerical_aperture=1.4, wavelength_um=0.61, immersion_index=1.515, pixel_um=0.13, size=21
    )
    measured = PSFSettings(source="file", path=str(data / "pollen_psf.tif"), size=21)
    return [("nuclei", nuclei, optics), ("pollen", pollen, optics), ("pollen", pollen, measured)]


def scaled_optics(psf: PSFSettings, scale: int) -> PSFSettings:
    """The same optics for another scale: the camera pixel grows with it, the HR grid stays."""
    return replace(psf, pixel_um=psf.pixel_um / 2 * scale) if psf.source == "widefield" else psf


def run(data: Path, scales: list[int]) -> list[dict]:
    rows = []
    for name, hr, base_psf in cases(data):
        for scale in scales:
            psf = scaled_optics(base_psf, scale)
            kernel = make_psf(psf, scale)  # the true PSF on the HR grid
            truth = hr[: hr.shape[0] // scale * scale, : hr.shape[1] // scale * scale]
            for peak in PEAKS:
                rng = np.random.default_rng(peak)
                lr = blur_subsample(truth, kernel, scale)
                lr = add_noise(lr, rng, poisson_peak=peak, gaussian_sigma=READ_NOISE_PHOTONS / peak).astype(np.float32)
                up = np.asarray(upsample_bicubic(lr, scale))
                methods = {
                    "blind": "blind",
                    "psf": KnownPSFSettings(psf=psf),
                    "psf linear": KnownPSFSettings(psf=psf, restore="linear"),
                    "psf bound": KnownPSFSettings(psf=psf, use="bound"),
                    "richardson-lucy": RichardsonLucySettings(psf=psf),
                }
                if psf.source == "widefield":
                    for label, change in [("NA+10%", 1.1), ("NA-10%", 0.9)]:
                        wrong = replace(psf, numerical_aperture=min(psf.numerical_aperture * change, 1.5))
                        methods[f"psf {label}"] = KnownPSFSettings(psf=wrong)
                    for label, change in [("wl+10%", 1.1), ("wl-10%", 0.9)]:
                        methods[f"psf {label}"] = KnownPSFSettings(
                            psf=replace(psf, wavelength_um=psf.wavelength_um * change)
                        )
                bicubic = compare_to_reference(truth, up)
                row = {"image": name, "psf source": psf.source, "scale": scale, "peak": peak, "bicubic": bicubic}
                for label, spec in methods.items():
                    start = time.perf_counter()
                    row[label] = compare_to_reference(truth, np.asarray(super_resolve(lr, scale, spec)))
                    row[f"{label} s"] = time.perf_counter() - start
                row["oracle"] = compare_to_reference(truth, oracle(truth, up))
                rows.append(row)
                gains = ", ".join(
                    f"{k} {v[0] - bicubic[0]:+.2f}" for k, v in row.items() if isinstance(v, tuple) and k != "bicubic"
                )
                print(f"{name} {psf.source} x{scale} {peak} photons: bicubic {bicubic[0]:.2f} dB; {gains}", flush=True)
                estimate = known_psf_model(lr, scale, None, methods["psf linear"]).training["psf"]  # cached solve
                row["fit"] = f"{estimate['alpha']:.2f} / {estimate['noise']:.3f}"
                found = prepare(lr, make_request(scale, methods["psf"])).info["estimate"]["restoration"]
                row["chosen"] = f"{found['noise_factor']:g} / {found['iterations']}"
    return rows


def table(rows: list[dict], scale: int) -> str:
    labels = [k for k in rows[0] if isinstance(rows[0][k], tuple) and k not in ("bicubic",)]
    labels = [label for label in labels if any(label in r for r in rows)]
    head = "| image | PSF | photons | linear: slope / noise | psf: factor / iterations | bicubic dB | "
    head += " | ".join(labels) + " |"
    lines = [head, "|---" * (6 + len(labels)) + "|"]
    chosen = [r for r in rows if r["scale"] == scale]
    for r in chosen:
        b = r["bicubic"]
        cells = [f"{r[k][0] - b[0]:+.2f} / {r[k][1] - b[1]:+.3f}" if k in r else "" for k in labels]
        first = f"| {r['image']} | {r['psf source']} | {r['peak']} | {r['fit']} | {r['chosen']} | {b[0]:.2f} | "
        lines.append(first + " | ".join(cells) + " |")
    means = []
    for k in labels:
        have = [r for r in chosen if k in r]
        means.append(
            f"{np.mean([r[k][0] - r['bicubic'][0] for r in have]):+.2f} / "
            f"{np.mean([r[k][1] - r['bicubic'][1] for r in have]):+.3f}"
        )
    lines.append("| **mean** | | | | | | " + " | ".join(means) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--markdown")
    args = parser.parse_args()
    rows = run(Path(args.data), args.scales)
    text = "\n\n".join(f"x{s}: gain over bicubic, PSNR dB / SSIM\n\n{table(rows, s)}" for s in args.scales)
    print("\n" + text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
