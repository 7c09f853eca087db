"""Field data at field size: CPU speed against OpenCV, the blind estimate's cost, memory of in-memory,
tiled and distributed runs, a 20,000 x 20,000 scene, and the GeoTIFF round trip.

Run (from the project root, with ../shared/data beside it):

    python benchmarks/field_data.py speed            # 2048 x 2048 float32 x2 vs cv2.resize; blind estimate
    python benchmarks/field_data.py modes            # in-memory / tiled-to-disk / distributed, same image
    python benchmarks/field_data.py big              # 20,000 x 20,000 uint16 x2 to tiled TIFF and OME-Zarr
    python benchmarks/field_data.py geotiff          # the real GeoTIFFs: bounds, CRS, pixel size, nodata
    python benchmarks/field_data.py all

Peak memory is the ``Maximum resident set size`` that ``/usr/bin/time -v`` reports for a separate
process doing the run (imports included). Speeds are output megapixels per second of wall time.
Inputs made from real data: the Landsat-8 band of ``../shared/data`` tiled to the wanted size.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PYTHON = sys.executable


def best_of(fn, repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed() -> dict:
    """The CPU engine on 2048 x 2048 float32 x2 with the default model, beside cv2.resize; its
    difference from the torch path; the blind estimate's cost per input megapixel."""
    import cv2
    import torch

    from napari_nssr import make_request, prepare, super_resolve
    from napari_nssr.engine import tiles

    rng = np.random.default_rng(0)
    image = rng.random((2048, 2048)).astype(np.float32)
    out_mpx = 4096 * 4096 / 1e6
    times_sr, times_cv = [], []
    for _ in range(3):  # interleaved in one process: the same machine state for both
        times_sr.append(best_of(lambda: super_resolve(image, 2, "default", device="cpu"), 3))
        times_cv.append(best_of(lambda: cv2.resize(image, (4096, 4096), interpolation=cv2.INTER_CUBIC), 3))
    t_sr, t_cv = statistics.median(times_sr), statistics.median(times_cv)
    plan = make_request(2, "default").plan(image)
    processor = prepare(image, plan).processor

    def run(backend: str) -> np.ndarray:
        steps = tiles.run_tiles(image, plan, processor, torch.device("cpu"), backend)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                return done.value

    t0 = time.perf_counter()
    reference = run("torch")
    t_torch = time.perf_counter() - t0
    difference = float(np.abs(run("opencv") - reference).max() / (reference.max() - reference.min()))
    from skimage import data

    from napari_nssr.methods.blind.estimate import estimate_blur

    camera = data.camera().astype(np.float32)
    estimate = {}
    for side in (512, 1024, 2048, 4096, 8192):
        plane = np.tile(camera, (side // 512, side // 512))
        seconds = best_of(lambda p=plane: estimate_blur(p), 3)
        estimate[side] = {"seconds": round(seconds, 4), "s_per_input_mpx": round(seconds / (side * side / 1e6), 4)}
    return {
        "cpu_threads": cv2.getNumThreads(),
        "nssr_s": round(t_sr, 4),
        "nssr_out_mpx_per_s": round(out_mpx / t_sr, 1),
        "cv2_resize_s": round(t_cv, 4),
        "ratio_to_cv2_resize": round(t_sr / t_cv, 1),
        "torch_path_s": round(t_torch, 3),
        "torch_path_out_mpx_per_s": round(out_mpx / t_torch, 1),
        "max_difference_to_torch_path_of_range": difference,
        "blind_estimate": estimate,
    }


def field_image(side: int, path: Path) -> Path:
    """A ``side`` x ``side`` uint16 tiled TIFF made of the real Landsat band, tiled."""
    import tifffile

    landsat = tifffile.imread(DATA / "landsat8_b4_30m.tif")
    crop = landsat[400:1400, 500:1500]  # inside the scene: no zero fill
    reps = -(-side // crop.shape[0])
    with tifffile.TiffWriter(path, bigtiff=True) as tif:

        def tiles():
            for r in range(0, side, 512):
                band = np.tile(crop, (1, reps))[:, :side]
                rows = np.concatenate([band] * reps)[r : r + 512]
                for c in range(0, side, 512):
                    tile = np.zeros((512, 512), np.uint16)
                    part = rows[:, c : c + 512]
                    tile[: part.shape[0], : part.shape[1]] = part
                    yield tile

        tif.write(tiles(), shape=(side, side), dtype=np.uint16, tile=(512, 512))
    return path


def measured(command: list[str]) -> dict:
    """Run ``command`` under /usr/bin/time -v: wall seconds and peak resident memory."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{command} failed: {proc.stderr[-2000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1)}


IN_MEMORY = """
import sys, numpy as np
from napari_nssr import super_resolve
from napari_nssr.io.images import read_image_file, write_image
image, meta = read_image_file(sys.argv[1], lazy=False)
write_image(sys.argv[2], super_resolve(image, 2, sys.argv[3], device="cpu"), meta=meta.scaled((2.0, 2.0)))
"""


def method_args(method: str) -> list[str]:
    """CLI options for a method name or a bundled model name."""
    from napari_nssr.methods.base import method_names

    return ["--method", method] if method in method_names() else ["--method", "filter", "-m", method]


def modes(side: int = 8192, method: str = "default") -> dict:
    """The same image x2 in memory, tiled to disk, and on a local dask.distributed cluster."""
    work = Path(tempfile.mkdtemp(prefix="nssr-bench-"))
    try:
        source = field_image(side, work / "scene.tif")
        out_mpx = (2 * side) ** 2 / 1e6
        cli = [PYTHON, "-m", "napari_nssr.apps.cli", "apply", str(source), "-s", "2", *method_args(method)]
        runs = {
            "in_memory": measured([PYTHON, "-c", IN_MEMORY, str(source), str(work / "mem.tif"), method]),
            "tiled_to_disk": measured([*cli, "-o", str(work / "tiled"), "--no-progress"]),
            "distributed_2_workers": measured([*cli, "-o", str(work / "dist"), "--workers", "2", "--no-progress"]),
        }
        for run in runs.values():
            run["out_mpx_per_s"] = round(out_mpx / run["wall_s"], 1)
        import tifffile

        reference = tifffile.imread(work / "tiled" / "scene_x2_nssr.tif")
        runs["distributed_equals_tiled"] = bool(
            np.array_equal(tifffile.imread(work / "dist" / "scene_x2_nssr.tif"), reference)
        )
        runs["in_memory_max_difference"] = int(
            np.abs(tifffile.imread(work / "mem.tif").astype(np.int32) - reference).max()
        )
        return {"input": f"{side} x {side} uint16", "method": method, **runs}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def big(side: int = 20000, method: str = "default") -> dict:
    """A ``side`` x ``side`` uint16 scene x2 written to a tiled TIFF and to OME-Zarr."""
    work = Path(tempfile.mkdtemp(prefix="nssr-big-"))
    try:
        source = field_image(side, work / "scene.tif")
        out_mpx = (2 * side) ** 2 / 1e6
        cli = [PYTHON, "-m", "napari_nssr.apps.cli", "apply", str(source), "-s", "2", *method_args(method)]
        cli.append("--no-progress")
        result = {"input": f"{side} x {side} uint16", "method": method}
        for fmt in ("tif", "zarr"):
            run = measured([*cli, "-o", str(work / fmt), "--format", fmt])
            run["out_mpx_per_s"] = round(out_mpx / run["wall_s"], 1)
            result[f"to_{fmt}"] = run
            shutil.rmtree(work / fmt, ignore_errors=True)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def geotiff() -> dict:
    """Each real GeoTIFF x2 through the CLI: rasterio's bounds, CRS, pixel size and nodata."""
    import rasterio

    work = Path(tempfile.mkdtemp(prefix="nssr-geo-"))
    try:
        names = ["aerial_osbs.tif", "rgbn_5m.tif", "landsat8_b4_30m.tif"]
        cli = [PYTHON, "-m", "napari_nssr.apps.cli", "apply", *(str(DATA / n) for n in names), "-s", "2"]
        subprocess.run([*cli, "-o", str(work), "--no-progress"], check=True, capture_output=True, cwd=ROOT)
        rows = {}
        for name in names:
            with rasterio.open(DATA / name) as src, rasterio.open(work / name.replace(".tif", "_x2_nssr.tif")) as out:
                rows[name] = {
                    "bounds_equal": bool(np.allclose(tuple(out.bounds), tuple(src.bounds))),
                    "crs_equal": out.crs == src.crs,
                    "pixel_size": [src.res[0], out.res[0]],
                    "bands": [src.count, out.count],
                    "nodata": [src.nodata, out.nodata],
                }
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["speed", "modes", "big", "geotiff", "all"])
    parser.add_argument("--side", type=int, help="input side for modes (8192) or big (20000)")
    parser.add_argument("--method", default="default", help="method for modes and big (default: the bundled filter)")
    args = parser.parse_args()
    jobs = ["speed", "modes", "big", "geotiff"] if args.what == "all" else [args.what]
    for job in jobs:
        if job == "speed":
            result = speed()
        elif job == "modes":
            result = modes(args.side or 8192, args.method)
        elif job == "big":
            result = big(args.side or 20000, args.method)
        else:
            result = geotiff()
        print(json.dumps({job: result}, indent=2, default=str), flush=True)


if __name__ == "__main__":
    main()
