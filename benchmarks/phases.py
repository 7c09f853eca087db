"""Seconds per phase of the methods that restore real data: issue #24's speed targets.

Run: python benchmarks/phases.py [--data ../shared/data] [--sides 1024 2048] [--scale 2]
     [--device cpu] [--markdown out.md]

Inputs: the nuclei image (real fluorescence with photon noise) tiled to 1024 x 1024 (1 Mpx) and
2048 x 2048 (4 Mpx), and scikit-image's camera photo tiled the same way with Gaussian noise of std
8 (of 255). Each is super-resolved at x2 (one process, the default settings) by

- ``blind``: the default method, with its denoising (``denoise="auto"``) and
- ``psf``: the psf method for a Gaussian PSF of std 1.5 output pixels (the restoration on photon
  noise; the filter alone on the photo, whose noise is not photon noise),

and the time of the whole call is split into phases, each counted once (time inside a phase
nested in another goes to the inner one):

- ``estimate``: the noise model and the blur / spectrum fits;
- ``denoise``: non-local means of stabilised planes (the estimate's crops and the output's planes);
- ``solve``: solving filters (cached per quantised estimate: each image here gets its own);
- ``restore``: Richardson-Lucy iterations (the psf method's choice on its crop and the output);
- ``choose``: the rest of the psf method's choice by splitting the noise (the split, scoring);
- ``filter``: everything else: upsampling, the filter, the noise transforms, dtype.

``cv2.resize`` bicubic of the same input, in the same run, is the reference. The summary gives
seconds per input megapixel against the targets: ``blind`` <= 0.35 s, ``psf`` <= 0.6 s.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import tifffile
from skimage import data as skdata

from napari_nssr import KnownPSFSettings, PSFSettings, super_resolve
from napari_nssr.core import denoise
from napari_nssr.methods.blind import solve, stabilised
from napari_nssr.methods.psf import method as psf_method
from napari_nssr.methods.psf import restore

TARGETS = {"blind": 0.35, "psf": 0.6, "psf widefield": 0.6}
PHASES = ("estimate", "denoise", "solve", "restore", "choose", "filter")


class PhaseClock:
    """Exclusive time per phase: entering a phase pauses the one it is nested in."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def during(self, phase: str) -> Iterator[None]:
        """Count the time inside the block to ``phase`` (not to the phase it is nested in)."""
        start = time.perf_counter()
        if self._stack:
            outer, since = self._stack[-1]
            self.seconds[outer] += start - since
        self._stack.append((phase, start))
        try:
            yield
        finally:
            now = time.perf_counter()
            _, since = self._stack.pop()
            self.seconds[phase] += now - since
            if self._stack:
                self._stack[-1] = (self._stack[-1][0], now)

    def timed(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` with its time (each step of it, for a generator function) counted to ``phase``."""
        if inspect.isgeneratorfunction(function):

            @functools.wraps(function)
            def generator(*args: Any, **kwargs: Any) -> Any:
                inner = function(*args, **kwargs)
                value = None
                while True:
                    try:
                        with self.during(phase):
                            step = inner.send(value)
                    except StopIteration as stop:
                        return stop.value
                    value = yield step

            return generator

        @functools.wraps(function)
        def plain(*args: Any, **kwargs: Any) -> Any:
            with self.during(phase):
                return function(*args, **kwargs)

        return plain


#: (module, attribute, phase): the functions whose time is a phase, under every name they are called by
INSTRUMENTED = [
    (solve, "image_noise", "estimate"),
    (solve, "estimate_blur_planes", "estimate"),
    (solve, "wavelet_noise", "estimate"),
    (restore, "estimate_blur_planes", "estimate"),
    (restore, "fit_psf_spectrum", "estimate"),
    (denoise, "iter_denoise_unit_noise", "denoise"),
    (stabilised, "iter_denoise_unit_noise", "denoise"),
    (restore, "iter_denoise_unit_noise", "denoise"),
    (solve, "solved_model", "solve"),
    (restore, "solved_for_psf", "solve"),
    (restore, "richardson_lucy_path", "restore"),
    (restore, "iter_choose_restoration", "choose"),
    (psf_method, "iter_choose_restoration", "choose"),
]


def instrument(clock: PhaseClock) -> list[tuple[Any, str, Any]]:
    """Wrap the phases' functions; returns what to put back."""
    originals = []
    for module, name, phase in INSTRUMENTED:
        if hasattr(module, name):
            original = getattr(module, name)
            originals.append((module, name, original))
            setattr(module, name, clock.timed(phase, original))
    return originals


def tiled(image: np.ndarray, side: int) -> np.ndarray:
    reps = (-(-side // image.shape[0]), -(-side // image.shape[1]))
    return np.tile(image, reps)[:side, :side]


def inputs(data: Path, side: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    nuclei = tiled(tifffile.imread(data / "nuclei.tif"), side)
    photo = tiled(skdata.camera().astype(np.float32), side)
    noisy = np.clip(photo + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
    return {"nuclei": nuclei, "camera+noise": noisy}


def methods() -> dict[str, Any]:
    # a Gaussian PSF is separable (applied as a row and a column filter); a widefield one is not
    widefield = PSFSettings(source="widefield", numerical_aperture=1.4, wavelength_um=0.52, pixel_um=0.13)
    return {
        "blind": "blind",
        "psf": KnownPSFSettings(psf=PSFSettings(sigma=1.5)),
        "psf widefield": KnownPSFSettings(psf=widefield),
    }


def run_one(image: np.ndarray, scale: float, method: Any, device: str) -> tuple[float, dict[str, float]]:
    clock = PhaseClock()
    originals = instrument(clock)
    try:
        start = time.perf_counter()
        super_resolve(image, scale, method, device=device)
        total = time.perf_counter() - start
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
    phases = dict(clock.seconds)
    phases["filter"] = max(total - sum(phases.values()), 0.0)
    return total, phases


def resize_seconds(image: np.ndarray, scale: float) -> float:
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    plane = image.astype(np.float32)
    cv2.resize(plane, size, interpolation=cv2.INTER_CUBIC)
    start = time.perf_counter()
    cv2.resize(plane, size, interpolation=cv2.INTER_CUBIC)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--sides", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    # imports, OpenCV's threads and the first solve's set-up are not any image's cost
    warm = inputs(args.data, 128)
    for method in methods().values():
        super_resolve(warm["nuclei"], args.scale, method, device=args.device)

    header = "| input | Mpx | method | total s | s / input Mpx | " + " | ".join(PHASES) + " |"
    lines = [header, "|" + "---|" * (5 + len(PHASES))]
    worst: dict[str, float] = defaultdict(float)
    for side in args.sides:
        for name, image in inputs(args.data, side).items():
            mpx = image.size / 1e6
            lines.append(f"| {name} | {mpx:.1f} | cv2.resize | {resize_seconds(image, args.scale):.3f} | "
                         f"{resize_seconds(image, args.scale) / mpx:.3f} |" + " |" * len(PHASES))
            for label, method in methods().items():
                total, phases = run_one(image, args.scale, method, args.device)
                worst[label] = max(worst[label], total / mpx)
                cells = " | ".join(f"{phases.get(p, 0.0):.2f}" for p in PHASES)
                lines.append(f"| {name} | {mpx:.1f} | {label} | {total:.2f} | {total / mpx:.3f} | {cells} |")
                print(lines[-1], flush=True)
    summary = [""] + [
        f"{label}: worst {worst[label]:.3f} s per input Mpx at x{args.scale:g}; target <= {target} "
        f"({'met' if worst[label] <= target else 'NOT met'})"
        for label, target in TARGETS.items()
    ]
    text = "\n".join(lines + summary)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
