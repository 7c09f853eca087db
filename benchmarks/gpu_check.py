"""The GPU check of issue #24 (item 5): CUDA against the CPU, and the times, in one short run.

Run on a machine with a CUDA GPU (a few minutes): python benchmarks/gpu_check.py [--data ../shared/data]
[--json out.json]

1. **Same values.** The real nuclei image (photon noise) at x2 through ``blind`` (its denoising) and
   ``psf`` (the restoration: non-local means, the filter, Richardson-Lucy) with ``device="cuda"``
   and ``device="cpu"``: the largest difference and the 99th percentile, as fractions of the CPU
   result's range, against the tolerance the CPU tests state for the torch path (1e-4 at the 99th
   percentile, 1e-2 at most), and the PSNR of each against the other.
2. **Times** on the GPU (median of 3 after a warm-up, synchronised): blind and psf on the nuclei
   tiled to 1024 x 1024 and 2048 x 2048 at x2; the bundled default filter x4 on a 4096 x 4096
   float32 image; training the default model's preset (its own epochs).

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
import torch

from napari_nssr import KnownPSFSettings, PSFSettings, super_resolve
from napari_nssr.training import train_preset


def seconds(function: Any, repeats: int = 3) -> float:
    function()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        function()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tiled(image: np.ndarray, side: int) -> np.ndarray:
    reps = (-(-side // image.shape[0]), -(-side // image.shape[1]))
    return np.tile(image, reps)[:side, :side]


def agreement(cpu: np.ndarray, gpu: np.ndarray) -> dict[str, float]:
    spread = float(cpu.max() - cpu.min()) or 1.0
    difference = np.abs(gpu.astype(np.float64) - cpu.astype(np.float64)) / spread
    mse = float(np.mean(difference**2))
    return {
        "max": float(difference.max()),
        "p99": float(np.percentile(difference, 99)),
        "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(1 / mse)),
        "within_tolerance": bool(np.percentile(difference, 99) <= 1e-4 and difference.max() <= 1e-2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU here: this check needs one")
    nuclei = tifffile.imread(args.data / "nuclei.tif") if (args.data / "nuclei.tif").exists() else None
    if nuclei is None:  # the device machine may lack ../shared: a photon-noisy texture instead
        rng = np.random.default_rng(0)
        field = np.cumsum(np.cumsum(rng.standard_normal((512, 512)), 0), 1)
        field = (field - field.min()) / np.ptp(field)
        nuclei = rng.poisson(field * 300).astype(np.uint16)
    methods = {"blind": "blind", "psf": KnownPSFSettings(psf=PSFSettings(sigma=1.5))}
    report: dict[str, Any] = {"gpu": torch.cuda.get_device_name(0), "agreement": {}, "seconds": {}}
    for name, method in methods.items():
        cpu = np.asarray(super_resolve(nuclei, 2, method, device="cpu"))
        gpu = np.asarray(super_resolve(nuclei, 2, method, device="cuda"))
        report["agreement"][name] = agreement(cpu, gpu)
        print(name, report["agreement"][name], flush=True)
        for side in (1024, 2048):
            image = tiled(nuclei, side)
            run = functools.partial(super_resolve, image, 2, method, device="cuda")
            report["seconds"][f"{name} {side}"] = seconds(run)
            print(name, side, report["seconds"][f"{name} {side}"], flush=True)
    big = np.random.default_rng(1).random((4096, 4096), dtype=np.float32)
    report["seconds"]["default x4 4096"] = seconds(lambda: super_resolve(big, 4, "default", device="cuda"), 2)
    start = time.perf_counter()
    train_preset("default", device="cuda")
    report["seconds"]["train default"] = time.perf_counter() - start
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
