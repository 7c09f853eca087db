"""The DIV2KRK-style benchmark on images bundled with scikit-image (nothing downloaded).

For each image and scale s: crop to a multiple of 12, degrade with a fresh DIV2KRK kernel
(seeded), super-resolve with each method, and score PSNR/SSIM on luma shaving s pixels at the
borders. Timing is the total wall time of each method's calls, per image and per output megapixel.
Methods are anything :func:`~napari_nssr.methods.resolve.resolve_method` takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.degrade import add_noise, blur_subsample, crop_to_multiple, div2krk_degrade
from ..core.errors import SettingsError
from ..core.kernels import disk_kernel, gaussian_kernel, motion_kernel
from ..core.layout import looks_rgb
from ..core.metrics import psnr_y, ssim_y
from ..engine.api import super_resolve
from ..io.formats import format_for, image_formats
from ..io.images import read_image
from ..methods.resolve import MethodSpec

PHOTOS = ["astronaut", "camera", "chelsea", "coffee", "rocket", "brick", "grass", "gravel", "motorcycle_left"]
MICROSCOPY = ["cell", "immunohistochemistry", "microaneurysms", "retina"]
ASTRONOMY = ["hubble_deep_field", "moon"]
# never used to choose the blind mode's settings: a check that they were not fitted to "all"
HELD_OUT = ["coins", "clock", "page", "text"]
IMAGE_SETS = {"photos": PHOTOS, "all": PHOTOS + MICROSCOPY + ASTRONOMY, "held-out": HELD_OUT}
# the project's real microscopy and remote-sensing images (../shared/data/README.md says what they are)
REAL_DATA = Path("../shared/data")
REAL_IMAGES = ["nuclei.tif", "pollen.tif", "aerial_osbs.tif", "rgbn_5m.tif", "landsat8_b4_30m.tif"]

# what `bench` runs beside bicubic unless told: the paper's models, the degradation-aware family,
# the default (blind) method and the classical deconvolution baselines
DEFAULT_METHODS = ("paper", "default", "chain", "blind", "wiener", "richardson-lucy")

Method = Callable[[np.ndarray, int], np.ndarray]
Degradation = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _div2krk(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    return div2krk_degrade(hr, scale, rng)[0]


def _disk(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    return blur_subsample(hr, disk_kernel(21, rng.uniform(1.0, 2.5) * scale / 2), scale)


def _motion(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    kernel = motion_kernel(21, rng.uniform(3.0, 7.0) * scale / 2, rng.uniform(0.0, np.pi))
    return blur_subsample(hr, kernel, scale)


def _div2krk_gaussian(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    return add_noise(_div2krk(hr, scale, rng), rng, gaussian_sigma=0.01)


def _div2krk_poisson(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
    return add_noise(_div2krk(hr, scale, rng), rng, poisson_peak=300.0)


# the photon-noise sets: a Gaussian PSF sampled at about Nyquist (std 0.75 LR pixel: FWHM 1.8 LR pixels),
# Poisson noise at PEAK photons for the image's full scale, Gaussian read noise of READ_NOISE photons
PSF_STD_LR = 0.75
READ_NOISE = 2.0
PHOTON_PEAKS = (100, 300, 1000, 3000)


def photon_noise(peak: float) -> Degradation:
    """A degradation: :data:`PSF_STD_LR` Gaussian PSF, subsampling, Poisson noise at ``peak`` photons
    for 1.0 plus :data:`READ_NOISE` photons of read noise (the real-microscopy protocol of issue #13)."""

    def degrade(hr: np.ndarray, scale: int, rng: np.random.Generator) -> np.ndarray:
        std = PSF_STD_LR * scale
        lr = blur_subsample(hr, gaussian_kernel(int(2 * np.ceil(4 * std) + 1), std, std), scale)
        return add_noise(lr, rng, gaussian_sigma=READ_NOISE / peak, poisson_peak=peak)

    return degrade


# The protocol's own degradation first, then sets outside the kernel galleries' family
DEGRADATIONS: dict[str, Degradation] = {
    "div2krk": _div2krk,
    "disk": _disk,  # defocus: uniform disk, radius 1..2.5 LR pixels
    "motion": _motion,  # straight motion blur, 3..7 LR pixels long, any angle
    "div2krk+gaussian": _div2krk_gaussian,  # Gaussian noise, std 0.01 of the [0, 1] range, on the LR image
    "div2krk+poisson": _div2krk_poisson,  # shot noise, 300 photons at full scale
    **{f"psf+photons{peak}": photon_noise(peak) for peak in PHOTON_PEAKS},
}


def load_test_image(name: str, max_side: int = 768) -> np.ndarray:
    """A test image as float64 in [0, 1] (grey or RGB), centre-cropped to ``max_side``.

    ``name`` is a scikit-image sample (``"camera"``) or the path of an image file.
    """
    from_file = format_for(name) is not None
    img = _file_plane(Path(name)) if from_file else _skimage_sample(name)
    rows, cols = img.shape[:2]
    r0, c0 = max(0, (rows - max_side) // 2), max(0, (cols - max_side) // 2)
    img = crop_to_multiple(img[r0 : r0 + max_side, c0 : c0 + max_side], 12)
    if from_file:  # the crop's own range: a scene's few bright pixels would squeeze the rest
        low, high = float(img.min()), float(img.max())
        img = (img - low) / ((high - low) or 1.0)
    return img


def _skimage_sample(name: str) -> np.ndarray:
    from skimage import data
    from skimage.util import img_as_float

    if name == "motorcycle_left":
        img = data.stereo_motorcycle()[0]
    else:
        loader = getattr(data, name, None)
        if loader is None:
            raise SettingsError(f"scikit-image has no sample image {name!r}")
        img = loader()
    img = img_as_float(img)
    return img[..., :3] if img.ndim == 3 and img.shape[-1] == 4 else img


def _file_plane(path: Path) -> np.ndarray:
    """A real image file as one grey or RGB float plane: a stack gives its middle plane; a fourth
    band (near infrared, alpha) is left out."""
    img = np.asarray(read_image(path), dtype=np.float64)
    rgb = looks_rgb(img.shape)
    while img.ndim > (3 if rgb else 2):
        img = img[img.shape[0] // 2]
    return img[..., :3] if rgb else img


def image_set(spec: str, data_dir: Path = REAL_DATA) -> list[str]:
    """The images ``spec`` names: a set (``all``, ``photos``, ``held-out``, ``real``), a folder of
    image files, or comma-separated sample names and file paths."""
    if spec in IMAGE_SETS:
        return list(IMAGE_SETS[spec])
    if spec == "real":
        missing = [name for name in REAL_IMAGES if not (data_dir / name).is_file()]
        if missing:
            raise FileNotFoundError(f"the real image set needs {', '.join(missing)} in {data_dir}")
        return [str(data_dir / name) for name in REAL_IMAGES]
    if Path(spec).is_dir():
        found = sorted(str(p) for p in Path(spec).iterdir() if p.is_file() and format_for(p) is not None)
        if not found:
            raise FileNotFoundError(f"no image files ({', '.join(f.summary for f in image_formats())}) in {spec}")
        return found
    return [item.strip() for item in spec.split(",") if item.strip()]


@dataclass(frozen=True)
class BenchMethod:
    """A benchmark method: :func:`super_resolve` with one method spec (name, model or settings)."""

    spec: MethodSpec

    def __call__(self, lr: np.ndarray, scale: int) -> np.ndarray:
        """Super-resolve ``lr`` by ``scale`` with the spec."""
        return np.asarray(super_resolve(lr, scale, self.spec))


@dataclass
class BenchResult:
    """Per-image scores for every (method, scale), plus timings."""

    images: list[str]
    scales: list[int]
    methods: list[str]
    psnr: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    ssim: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    seconds_per_mpx: dict[str, float] = field(default_factory=dict)
    seconds_per_image: dict[str, float] = field(default_factory=dict)

    def mean(self, metric: str, method: str, scale: int) -> float:
        """Mean of ``metric`` ("psnr" or "ssim") over images."""
        return float(np.mean(getattr(self, metric)[(method, scale)]))

    def table(self) -> str:
        """Markdown table of mean PSNR/SSIM per method and scale, and time per image and per megapixel."""
        head = "| method | " + " | ".join(f"x{s} PSNR / SSIM" for s in self.scales) + " | s / image | s / output Mpx |"
        rule = "|---" * (len(self.scales) + 3) + "|"
        rows = [head, rule]
        for m in self.methods:
            cells = [f"{self.mean('psnr', m, s):.2f} / {self.mean('ssim', m, s):.4f}" for s in self.scales]
            timing = f"{self.seconds_per_image[m]:.3f} | {self.seconds_per_mpx[m]:.3f}"
            rows.append(f"| {m} | " + " | ".join(cells) + f" | {timing} |")
        return "\n".join(rows)

    def per_image_table(self, scale: int) -> str:
        """Markdown table of per-image PSNR (dB) at one scale."""
        rows = ["| image | " + " | ".join(self.methods) + " |", "|---" * (len(self.methods) + 1) + "|"]
        for i, name in enumerate(self.images):
            cells = [f"{self.psnr[(m, scale)][i]:.2f}" for m in self.methods]
            rows.append(f"| {Path(name).name} | " + " | ".join(cells) + " |")
        return "\n".join(rows)


def run_benchmark(
    methods: Mapping[str, Method],
    images: Sequence[str] = PHOTOS,
    scales: Sequence[int] = (2, 3, 4),
    seed: int = 0,
    max_side: int = 768,
    log: Callable[[str], None] | None = None,
    degradation: str = "div2krk",
) -> BenchResult:
    """Score every method on every image and scale under the DIV2KRK protocol (or another of
    :data:`DEGRADATIONS`)."""
    if degradation not in DEGRADATIONS:
        raise SettingsError(f"unknown degradation {degradation!r}; known: {', '.join(DEGRADATIONS)}")
    degrade = DEGRADATIONS[degradation]
    result = BenchResult(list(images), list(scales), list(methods))
    timings: dict[str, list[float]] = {m: [] for m in methods}
    megapixels = 0.0
    # one kernel stream per scale, so a scale's kernels do not depend on which other scales run
    rngs = {scale: np.random.default_rng(seed + 1000 * scale) for scale in scales}
    for name in images:
        hr = load_test_image(name, max_side)
        for scale in scales:
            lr = degrade(hr, scale, rngs[scale]).astype(np.float32)
            megapixels += hr.shape[0] * hr.shape[1] / 1e6
            for m, method in methods.items():
                start = time.perf_counter()
                sr = method(lr, scale)
                timings[m].append(time.perf_counter() - start)
                result.psnr.setdefault((m, scale), []).append(psnr_y(hr, sr, scale))
                result.ssim.setdefault((m, scale), []).append(ssim_y(hr, sr, scale))
            if log:
                label = Path(name).name
                log(f"x{scale} {label}: " + ", ".join(f"{m} {result.psnr[(m, scale)][-1]:.2f}" for m in methods))
    for m in methods:
        result.seconds_per_mpx[m] = float(np.sum(timings[m]) / megapixels)
        result.seconds_per_image[m] = float(np.mean(timings[m]))
    return result
