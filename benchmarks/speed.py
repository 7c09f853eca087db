"""Inference speed: folded filter vs the unfolded L-CNN, and the cost over plain bicubic.

Run: python benchmarks/speed.py [--size 1024] [--repeats 3] [--device auto]
Prints seconds per output megapixel (median of the repeats) for a float32 grey image.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from napari_nssr import load_model, super_resolve, upsample_bicubic
from napari_nssr.core.devices import resolve_device
from napari_nssr.methods.blind.estimate import estimate_blur
from napari_nssr.methods.blind.solve import DEFAULT_SETTINGS, default_filter_size, quantised, solved_model
from napari_nssr.networks.lcnn import LCNN


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="side of the low-resolution input")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    image = np.random.default_rng(0).random((args.size, args.size)).astype(np.float32)
    model = load_model("default")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    for scale in (2, 4):
        mpx = (args.size * scale) ** 2 / 1e6
        bic = median_seconds(lambda s=scale: upsample_bicubic(image, s), args.repeats)
        sr = median_seconds(lambda s=scale: super_resolve(image, s, model, device=str(device)), args.repeats)
        print(f"x{scale}: output {mpx:.1f} Mpx  bicubic {bic / mpx:.3f} s/Mpx  NSSR (folded) {sr / mpx:.3f} s/Mpx")
    # blind mode: the per-image estimate (scales with pixels) and the filter solve (once per estimate)
    photo = np.asarray(__import__("skimage.data", fromlist=["camera"]).camera(), dtype=np.float32) / 255
    photo = np.tile(photo, (2, 2))[: args.size, : args.size]
    estimate = median_seconds(lambda: estimate_blur(photo), args.repeats)
    found = quantised(estimate_blur(photo), 2)

    def solve_uncached() -> None:
        solved_model.cache_clear()
        solved_model(2, *found, default_filter_size(2), DEFAULT_SETTINGS)

    solve = median_seconds(solve_uncached, args.repeats)
    per_mpx = estimate / (photo.size / 1e6)
    print(f"blind: estimate {per_mpx:.3f} s per input Mpx, filter solve {solve:.3f} s per new estimate")
    # the paper's way: run the 5-layer, 32-channel network on the upsampled image (1 Mpx output)
    net = LCNN(model.architecture)
    net.load_state_dict(model.network_state)
    net.to(device)
    side = 1024
    up = torch.from_numpy(upsample_bicubic(image[: side // 2, : side // 2], 2)).to(device)[None, None]
    with torch.no_grad():
        unfolded = median_seconds(lambda: net(up), max(1, args.repeats - 2))
        folded = median_seconds(lambda: super_resolve(image[: side // 2, : side // 2], 2, model), args.repeats)
    print(
        f"1 Mpx output: unfolded L-CNN {unfolded:.3f} s, folded filter (whole pipeline) {folded:.3f} s, "
        f"{unfolded / folded:.0f}x faster"
    )


if __name__ == "__main__":
    main()
