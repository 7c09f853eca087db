"""Band-guided super-resolution on real scenes: the guided method against bicubic, the unguided blind
method and plain high-pass injection.

Run: python benchmarks/guided.py [--data ../shared/data] [--markdown out.md] [--no-speed] [--tune]

Cases (``../shared/data``):
- Landsat-8, one scene: band 2 (blue) or band 3 (green) averaged 2x2 to 60 m, as the publisher makes
  its 60 m products, guided by the other two bands at 30 m, scored against the band's own 30 m
  image; the scene's zero fill is nodata (kept out of every fit and of the scores). Scored on the
  issue's 1024 x 1024 crop (rows 400-1423, columns 500-1523: plain injection gains +4.9 / +7.0 dB
  there, as the issue measured), and on the whole scene cut in two halves: the north half (rows
  0-929) is where the method's constants were tuned (``--tune`` reruns that sweep), the south half
  (rows 930-1859) was not looked at while tuning. Per 256 x 256 tile of the whole scene (tiles
  with data only), the guided result against the unguided blind one.
- ``rgbn_5m.tif`` (4 bands, 5 m): each band in turn averaged to 10 m, the three others guiding.

Methods: ``bicubic``; ``blind`` (the default unguided method); ``plain HPI`` (high-pass injection
of every guide, gains by one global least-squares regression at the coarse resolution, bicubic as
the low-pass: ``bicubic(band) + sum_k g_k (guide_k - bicubic(average_2x2(guide_k)))``); ``guided``
(this project's method, default settings). Metrics: PSNR (the reference's data range), SSIM,
UIQI per band; ERGAS and SAM over the case's bands together.

Speed: one guide at x2, an 8192 x 8192 output (the scene mirrored and tiled), uint16 in and out,
through ``super_resolve`` (the fusion alone too); best of three.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import rasterio
from scipy import ndimage
from skimage.metrics import structural_similarity

from napari_nssr import GuidedSettings, super_resolve
from napari_nssr.core.metrics import ergas, spectral_angle, uiqi
from napari_nssr.methods.guided.fusion import bicubic, fuse
from napari_nssr.methods.guided.lowpass import average_down

ISSUE_CROP = (slice(400, 1424), slice(500, 1524))
HALF_ROW = 930
TILE = 256
SHAVE = 4


def read_band(path: Path) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read()


def degrade(band: np.ndarray) -> np.ndarray:
    """The 2x2 average, as uint16 (what a 60 m product stores); a block with any fill is fill."""
    fine = band.astype(np.float32)
    coarse = average_down(fine, 2)
    valid = average_down((band > 0).astype(np.float32), 2) > 0.999
    return np.where(valid, np.rint(coarse), 0).astype(band.dtype)


def nearest_filled(plane: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``plane`` with its pixels without data taken from the nearest pixel with data (as the engine
    fills a whole-plane method's input): the baseline gets the same care at the scene's edges."""
    if valid.all():
        return plane
    index = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return plane[tuple(index)]


def plain_hpi(coarse: np.ndarray, guides: list[np.ndarray], valid: np.ndarray) -> np.ndarray:
    """High-pass injection with globally regressed gains (the baseline the issue names)."""
    coarse = nearest_filled(coarse, valid)
    guides = [nearest_filled(g, g > 0) for g in guides]
    lows = [average_down(g.astype(np.float32), 2) for g in guides]
    design = np.stack([np.ones(int(valid.sum()))] + [low[valid] for low in lows], axis=1).astype(np.float64)
    gains = np.linalg.lstsq(design, coarse[valid].astype(np.float64), rcond=None)[0][1:]
    out = bicubic(coarse.astype(np.float32), 2)
    for gain, guide, low in zip(gains, guides, lows):
        out += np.float32(gain) * (guide.astype(np.float32) - bicubic(low, 2))
    return out


def scores(truth: np.ndarray, result: np.ndarray, valid: np.ndarray) -> tuple[float, float, float]:
    """PSNR and SSIM over the valid pixels (SSIM's map averaged there), UIQI of the valid box."""
    t, r = truth.astype(np.float64), result.astype(np.float64)
    span = float(t[valid].max() - t[valid].min())
    psnr = 10 * np.log10(span**2 / np.mean((t[valid] - r[valid]) ** 2))
    _, ssim_map = structural_similarity(
        t, r, data_range=span, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True
    )
    return float(psnr), float(ssim_map[valid].mean()), uiqi(t, r, valid=valid)


def run_case(bands: dict[str, np.ndarray], target: str, settings: GuidedSettings) -> dict[str, np.ndarray]:
    """Every method's result for ``target`` degraded and guided by the other bands."""
    truth = bands[target]
    coarse = degrade(truth)
    guides = [b for name, b in bands.items() if name != target]
    valid_coarse = coarse > 0
    results = {
        "bicubic": super_resolve(coarse, 2, "bicubic", nodata=0),
        "blind": super_resolve(coarse, 2, "blind", nodata=0),
        "plain HPI": plain_hpi(coarse, guides, valid_coarse),
        "guided": super_resolve(coarse, 2, settings, guide=guides, nodata=0),
    }
    return results


def scored_mask(truth: np.ndarray, region: tuple[slice, slice] | None = None) -> np.ndarray:
    """The pixels scored: those whose 2x2 block has data in the coarse band (the rest are nodata in
    every result), less a border of ``SHAVE``, within ``region``."""
    valid = np.repeat(np.repeat(degrade(truth) > 0, 2, axis=0), 2, axis=1)
    valid[:SHAVE], valid[-SHAVE:], valid[:, :SHAVE], valid[:, -SHAVE:] = False, False, False, False
    if region is not None:
        keep = np.zeros_like(valid)
        keep[region] = True
        valid &= keep
    return valid


def table_rows(
    name: str, bands: dict[str, np.ndarray], results: dict[str, dict[str, np.ndarray]], valid: np.ndarray
) -> list[str]:
    """Markdown rows: per method, per band PSNR/SSIM/UIQI gains and ERGAS/SAM over the bands."""
    lines = []
    targets = list(results)
    for method in ("bicubic", "blind", "plain HPI", "guided"):
        cells, base = [], []
        for target in targets:
            truth = bands[target]
            psnr, ssim, q = scores(truth, results[target][method], valid)
            b_psnr, b_ssim, _ = scores(truth, results[target]["bicubic"], valid)
            cells.append(f"{psnr:.2f} ({psnr - b_psnr:+.2f}) / {ssim:.4f} / {q:.4f}")
            base.append(psnr)
        stack_t = np.stack([bands[t].astype(np.float64) for t in targets])
        stack_r = np.stack([results[t][method].astype(np.float64) for t in targets])
        e = ergas(stack_t, stack_r, 0.5, valid)
        sam = spectral_angle(stack_t, stack_r, valid) if len(targets) > 1 else float("nan")
        lines.append(f"| {name} | {method} | " + " | ".join(cells) + f" | {e:.3f} | {sam:.3f} |")
    return lines


def tile_check(bands: dict[str, np.ndarray], results: dict[str, dict[str, np.ndarray]]) -> list[str]:
    """Per 256 x 256 tile with data only: guided against blind, the worst and the median."""
    lines = []
    for target, res in results.items():
        truth = bands[target]
        gaps = []
        for r0, c0 in itertools.product(
            range(0, truth.shape[0] - TILE + 1, TILE), range(0, truth.shape[1] - TILE + 1, TILE)
        ):
            region = (slice(r0, r0 + TILE), slice(c0, c0 + TILE))
            if not (truth[region] > 0).all():
                continue
            valid = scored_mask(truth, region)
            g, _, _ = scores(truth, res["guided"], valid)
            u, _, _ = scores(truth, res["blind"], valid)
            h, _, _ = scores(truth, res["plain HPI"], valid)
            gaps.append((g - u, g - h))
        over_blind = np.array([a for a, _ in gaps])
        over_hpi = np.array([b for _, b in gaps])
        lines.append(
            f"| band {target} | {len(gaps)} | {over_blind.min():+.2f} | {np.median(over_blind):+.2f} | "
            f"{over_hpi.min():+.2f} | {np.median(over_hpi):+.2f} |"
        )
    return lines


def landsat(data: Path, settings: GuidedSettings) -> list[str]:
    full = {b: read_band(data / f"landsat8_b{b}_30m.tif")[0] for b in ("2", "3", "4")}
    rows, cols = (n - n % 2 for n in full["2"].shape)
    scene = {b: v[:rows, :cols] for b, v in full.items()}
    out = ["### Landsat-8 (60 m -> 30 m, x2)", ""]
    header = (
        "| region | method | band 2: PSNR (gain) / SSIM / UIQI | band 3: PSNR (gain) / SSIM / UIQI | ERGAS "
        "| SAM (deg) |"
    )
    out += [header, "|---|---|---|---|---|---|"]
    crop = {b: np.ascontiguousarray(v[ISSUE_CROP]) for b, v in scene.items()}
    crop_results = {t: run_case(crop, t, settings) for t in ("2", "3")}
    out += table_rows("issue crop", crop, crop_results, scored_mask(crop["2"]))
    whole_results = {t: run_case(scene, t, settings) for t in ("2", "3")}
    north = scored_mask(scene["2"], (slice(0, HALF_ROW), slice(None)))
    south = scored_mask(scene["2"], (slice(HALF_ROW, None), slice(None)))
    out += table_rows("north half (tuned)", scene, whole_results, north)
    out += table_rows("south half (held out)", scene, whole_results, south)
    out += [
        "",
        "Per 256 x 256 tile of the whole scene (tiles with data only), guided minus blind and guided minus "
        "plain HPI (PSNR, dB):",
        "",
    ]
    out += [
        "| band | tiles | worst vs blind | median vs blind | worst vs plain HPI | median vs plain HPI |",
        "|---|---|---|---|---|---|",
    ]
    out += tile_check(scene, whole_results)
    return out


def rgbn(data: Path, settings: GuidedSettings) -> list[str]:
    stack = read_band(data / "rgbn_5m.tif")
    rows, cols = (n - n % 2 for n in stack.shape[1:])
    names = ["red", "green", "blue", "near infrared"]
    bands = {n: stack[i, :rows, :cols] for i, n in enumerate(names)}
    out = ["", "### rgbn_5m.tif (10 m -> 5 m, x2; each band in turn, the three others guiding)", ""]
    out += ["| band | bicubic PSNR | blind | plain HPI | guided | guided SSIM (bicubic) |", "|---|---|---|---|---|---|"]
    for target in names:
        # uint8 with values from 0: every pixel has data
        truth = bands[target]
        coarse = np.rint(average_down(truth.astype(np.float32), 2)).astype(truth.dtype)
        guides = [b for n, b in bands.items() if n != target]
        valid = np.ones(truth.shape, bool)
        valid[:SHAVE], valid[-SHAVE:], valid[:, :SHAVE], valid[:, -SHAVE:] = False, False, False, False
        res = {
            "bicubic": super_resolve(coarse, 2, "bicubic"),
            "blind": super_resolve(coarse, 2, "blind"),
            "plain HPI": plain_hpi(coarse, guides, np.ones(coarse.shape, bool)),
            "guided": super_resolve(coarse, 2, settings, guide=guides),
        }
        s = {m: scores(truth, r, valid) for m, r in res.items()}
        b = s["bicubic"][0]
        out.append(
            f"| {target} | {b:.2f} | {s['blind'][0] - b:+.2f} | {s['plain HPI'][0] - b:+.2f} | "
            f"{s['guided'][0] - b:+.2f} | {s['guided'][1]:.4f} ({s['bicubic'][1]:.4f}) |"
        )
    return out


def tune(data: Path) -> list[str]:
    """The sweep the defaults were chosen by: the whole scene super-resolved with each candidate, its
    gain over plain HPI scored on the north half only (the fits see no truth; the choice sees the
    north half's)."""
    full = {b: read_band(data / f"landsat8_b{b}_30m.tif")[0] for b in ("2", "3", "4")}
    rows, cols = (n - n % 2 for n in full["2"].shape)
    scene = {b: v[:rows, :cols] for b, v in full.items()}
    north = scored_mask(scene["2"], (slice(0, HALF_ROW), slice(None)))
    cases = []
    for target in ("2", "3"):
        truth = scene[target]
        coarse = degrade(truth)
        guides = [b for n, b in scene.items() if n != target]
        hpi = scores(truth, plain_hpi(coarse, guides, coarse > 0), north)[0]
        cases.append((truth, coarse, guides, hpi))
    out = ["", "Tuning sweep (gain over plain HPI on the north half only, bands 2 / 3):", ""]
    out += ["| window | filter radius | shrink | band 2 | band 3 | mean |", "|---|---|---|---|---|---|"]
    for window, radius, shrink in itertools.product((1, 2), (0, 1, 2, 3), (0.003, 0.01, 0.03)):
        settings = GuidedSettings(window=window, filter_radius=radius, shrink=shrink)
        gains = [
            scores(truth, super_resolve(coarse, 2, settings, guide=guides, nodata=0), north)[0] - hpi
            for truth, coarse, guides, hpi in cases
        ]
        out.append(f"| {window} | {radius} | {shrink:g} | {gains[0]:+.2f} | {gains[1]:+.2f} | {np.mean(gains):+.2f} |")
        print(out[-1], flush=True)
    return out


def speed(data: Path) -> list[str]:
    band3 = read_band(data / "landsat8_b3_30m.tif")[0][300:1500, 300:1700]
    band4 = read_band(data / "landsat8_b4_30m.tif")[0][300:1500, 300:1700]

    def tiled(x: np.ndarray, n: int = 8192) -> np.ndarray:
        x = np.concatenate([x, x[::-1]], 0)
        x = np.concatenate([x, x[:, ::-1]], 1)
        reps = (-(-n // x.shape[0]), -(-n // x.shape[1]))
        return np.ascontiguousarray(np.tile(x, reps)[:n, :n])

    truth, guide = tiled(band3), tiled(band4)
    coarse = degrade(truth)
    settings = GuidedSettings()
    times, fusion_times = [], []
    for _ in range(3):
        start = time.perf_counter()
        super_resolve(coarse, 2, settings, guide=guide)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        fuse(coarse.astype(np.float32), [guide.astype(np.float32)], 2, settings.fusion(0.0))
        fusion_times.append(time.perf_counter() - start)
    mpx = truth.size / 1e6
    return [
        "",
        f"Speed, one guide at x2, {truth.shape[0]} x {truth.shape[1]} output ({mpx:.1f} Mpx), best of 3: "
        f"super_resolve {min(times):.2f} s = {mpx / min(times):.0f} Mpx/s of output; the fusion alone "
        f"{min(fusion_times):.2f} s = {mpx / min(fusion_times):.0f} Mpx/s.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    parser.add_argument("--markdown", help="write the tables to this file")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--tune", action="store_true", help="also run the tuning sweep (north half)")
    args = parser.parse_args()
    data = Path(args.data)
    settings = GuidedSettings()
    lines = landsat(data, settings) + rgbn(data, settings)
    if args.tune:
        lines += tune(data)
    if not args.no_speed:
        lines += speed(data)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
