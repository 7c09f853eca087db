"""One case of the photon-noise set over several noise draws: how much of a case's gain is its draw.

Run: python benchmarks/noise_draws.py IMAGE PEAK SCALE [--draws 8] [--method blind] [--data ../shared/data]

IMAGE is a ground truth of ``benchmarks/noisy_real.py`` (nuclei, pollen14, pollen16, pollen18,
aerial, landsat_a, landsat_b), PEAK its photon level (100, 300, 1000, 3000), SCALE 2 or 4. The case
is degraded as that benchmark does (``napari-nssr bench``'s ``psf+photons`` protocol) with draws
``10000 + k`` instead of the benchmark's one, and the method's PSNR gain over bicubic is printed
per draw, with the mean and the smallest. To compare two versions of the code, run it under each
(``PYTHONPATH=/path/to/other/checkout/src``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile

from napari_nssr.apps.bench import DEGRADATIONS, BenchMethod, load_test_image, psnr_y

sys.path.insert(0, str(Path(__file__).resolve().parent))
from noisy_real import ground_truths  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image")
    parser.add_argument("peak", type=int)
    parser.add_argument("scale", type=int)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--method", default="blind")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    args = parser.parse_args()
    truths = ground_truths(args.data)
    with tempfile.TemporaryDirectory() as folder:  # through the bench's own loader, as the benchmark
        path = Path(folder) / f"{args.image}.tif"
        tifffile.imwrite(path, truths[args.image].astype(np.float32))
        hr = load_test_image(str(path), 768)
    degrade = DEGRADATIONS[f"psf+photons{args.peak}"]
    method, bicubic = BenchMethod(args.method), BenchMethod("bicubic")
    gains = []
    for draw in range(args.draws):
        lr = degrade(hr, args.scale, np.random.default_rng(10_000 + draw)).astype(np.float32)
        sr, up = method(lr, args.scale), bicubic(lr, args.scale)
        gains.append(psnr_y(hr, sr, args.scale) - psnr_y(hr, up, args.scale))
    print(
        f"{args.image} {args.peak} photons x{args.scale} {args.method}: "
        + " ".join(f"{g:+.2f}" for g in gains)
        + f" | mean {np.mean(gains):+.3f}, smallest {min(gains):+.2f}"
    )


if __name__ == "__main__":
    main()
