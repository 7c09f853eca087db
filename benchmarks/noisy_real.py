"""The blind mode on real images with photon noise: issue #13's protocol and targets.

Run: python benchmarks/noisy_real.py [--data ../shared/data] [--methods blind] [--known-psf]
     [--scales 2 4] [--markdown out.md]

Ground truths, from ``../shared/data`` (each scaled to [0, 1] by its own range): the nuclei image,
three middle planes of the widefield pollen stack (14, 16, 18), the aerial orthophoto (RGB) and
two 512 x 512 crops of the Landsat band inside the scene (no edge fill). They are written to a
temporary folder and run through ``napari-nssr bench``'s own protocol (``run_benchmark`` with the
``psf+photons*`` degradations): a Gaussian PSF of std 0.75 low-resolution pixels, subsampling,
Poisson noise at 100, 300, 1000 and 3000 photons for the image's full scale and Gaussian read noise
of 2 photons; PSNR and SSIM on luma with the scale shaved at the borders.

With ``--known-psf`` the ``psf`` method is scored too, given the protocol's own PSF: as it runs by
default (``psf``: the restoration) and its filter alone (``psf linear``).

The summary gives, per method and scale, the mean gain over bicubic (PSNR and SSIM) and the worst
case, against the targets: mean >= +1.0 dB at x2 and >= +0.5 dB at x4, SSIM up, no case below
bicubic by more than 0.2 dB.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from napari_nssr import KnownPSFSettings, PSFSettings, super_resolve
from napari_nssr.apps.bench import PHOTON_PEAKS, PSF_STD_LR, BenchMethod, Method, run_benchmark
from napari_nssr.methods.resolve import resolve_method

TARGETS = {2: 1.0, 4: 0.5}
WORST_ALLOWED = -0.2


def unit(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float64)
    return (image - image.min()) / (image.max() - image.min())


def ground_truths(data: Path) -> dict[str, np.ndarray]:
    """The HR images of the protocol, in [0, 1]."""
    pollen = tifffile.imread(data / "pollen.tif")
    landsat = tifffile.imread(data / "landsat8_b4_30m.tif")
    images = {"nuclei": unit(tifffile.imread(data / "nuclei.tif"))}
    for plane in (14, 16, 18):
        images[f"pollen{plane}"] = unit(pollen[plane])
    images["aerial"] = tifffile.imread(data / "aerial_osbs.tif").astype(np.float64) / 255.0
    # two crops inside the scene: its edges are zero fill
    images["landsat_a"] = unit(landsat[700:1212, 700:1212])
    images["landsat_b"] = unit(landsat[1100:1612, 1200:1712])
    return images


def methods_from_specs(method_specs: list[str]) -> dict[str, Method]:
    """Bicubic and the methods ``method_specs`` name (anything ``super_resolve`` takes)."""
    methods: dict[str, Method] = {"bicubic": BenchMethod("bicubic")}
    for spec in method_specs:
        resolve_method(spec)  # a clear error for an unknown name before any work
        methods[spec] = BenchMethod(spec)
    return methods


@dataclass
class TruePSF:
    """The ``psf`` method given the protocol's own PSF: a Gaussian of std :data:`PSF_STD_LR`
    low-resolution pixels (``scale`` times that on the output grid)."""

    restore: str = "auto"

    def __call__(self, lr: np.ndarray, scale: int) -> np.ndarray:
        std = PSF_STD_LR * scale
        psf = PSFSettings(source="gaussian", sigma=std, size=int(2 * math.ceil(4 * std) + 1))
        return np.asarray(super_resolve(lr, scale, KnownPSFSettings(psf=psf, restore=self.restore)))


def run(data: Path, methods: dict[str, Method], scales: list[int]) -> dict:
    """Run the protocol at every photon level; ``{peak: BenchResult}``."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        names = []
        for name, image in ground_truths(data).items():
            path = Path(folder) / f"{name}.tif"
            tifffile.imwrite(path, image.astype(np.float32))
            names.append(str(path))
        for peak in PHOTON_PEAKS:
            start = time.perf_counter()
            results[peak] = run_benchmark(
                methods, names, scales, seed=peak, max_side=768, degradation=f"psf+photons{peak}"
            )
            print(f"{peak} photons: {time.perf_counter() - start:.1f} s", flush=True)
    return results


def summary(results: dict, scales: list[int]) -> str:
    any_result = next(iter(results.values()))
    methods = [m for m in any_result.methods if m != "bicubic"]
    lines = []
    for scale in scales:
        lines += [
            f"x{scale}: gain over bicubic per case, PSNR dB (SSIM)",
            "",
            "| image | photons | bicubic dB | " + " | ".join(methods) + " |",
            "|---" * (3 + len(methods)) + "|",
        ]
        gains: dict[str, list[float]] = {m: [] for m in methods}
        ssim_gains: dict[str, list[float]] = {m: [] for m in methods}
        for peak, result in results.items():
            bicubic = result.psnr[("bicubic", scale)]
            bicubic_ssim = result.ssim[("bicubic", scale)]
            for i, image in enumerate(result.images):
                cells = []
                for m in methods:
                    gain = result.psnr[(m, scale)][i] - bicubic[i]
                    ssim_gain = result.ssim[(m, scale)][i] - bicubic_ssim[i]
                    gains[m].append(gain)
                    ssim_gains[m].append(ssim_gain)
                    cells.append(f"{gain:+.2f} ({ssim_gain:+.3f})")
                lines.append(f"| {Path(image).stem} | {peak} | {bicubic[i]:.2f} | " + " | ".join(cells) + " |")
        lines.append(
            "| **mean** | | | "
            + " | ".join(f"{np.mean(gains[m]):+.2f} ({np.mean(ssim_gains[m]):+.3f})" for m in methods)
            + " |"
        )
        lines.append("| **worst** | | | " + " | ".join(f"{np.min(gains[m]):+.2f}" for m in methods) + " |")
        verdicts = []
        for m in methods:
            met = (
                np.mean(gains[m]) >= TARGETS.get(scale, 0.0)
                and np.mean(ssim_gains[m]) > 0
                and np.min(gains[m]) >= WORST_ALLOWED
            )
            verdicts.append("met" if met else "not met")
        lines.append(
            f"| **target** (mean >= {TARGETS.get(scale, 0.0):+.1f}, SSIM up, worst >= {WORST_ALLOWED}) | | | "
            + " | ".join(verdicts)
            + " |"
        )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--methods", default="blind", help="comma-separated method specs scored beside bicubic")
    parser.add_argument("--known-psf", action="store_true", help="also the psf method given the true PSF")
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--markdown")
    args = parser.parse_args()
    specs = [s.strip() for s in args.methods.split(",") if s.strip()]
    methods = methods_from_specs(specs)
    if args.known_psf:
        methods.update({"psf": TruePSF(), "psf linear": TruePSF("linear")})
    text = summary(run(Path(args.data), methods, args.scales), args.scales)
    print("\n" + text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")


if __name__ == "__main__":
    main()
