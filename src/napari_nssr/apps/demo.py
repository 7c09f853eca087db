"""The end-to-end demo: degrade bundled samples, super-resolve them, write a small report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.degrade import div2krk_degrade
from ..core.errors import OutputExistsError
from ..core.metrics import psnr_y, ssim_y
from ..engine.api import super_resolve, upsample_bicubic
from ..engine.pipeline import prepare
from ..io.images import write_image
from ..methods.resolve import MethodSpec, make_request
from .bench import load_test_image

DEMO_IMAGES = ("astronaut", "immunohistochemistry", "moon")
DEMO_METHODS = ("blind", "default")  # the default method and the bundled default model


@dataclass
class DemoRow:
    """Scores of one demo image: ``(PSNR, SSIM)`` for bicubic and for each method."""

    image: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    img = np.clip(image, 0.0, 1.0)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return np.rint(img[..., :3] * 255).astype(np.uint8)


def _panel(lr: np.ndarray, outputs: Sequence[np.ndarray], hr: np.ndarray, scale: int, side: int = 192) -> np.ndarray:
    """Side-by-side crops: LR (nearest-neighbour enlarged), each output, ground truth."""
    rows, cols = hr.shape[:2]
    r0, c0 = max(0, (rows - side) // 2), max(0, (cols - side) // 2)
    crop = (slice(r0, r0 + side), slice(c0, c0 + side))
    nearest = np.repeat(np.repeat(lr, scale, axis=0), scale, axis=1)
    gap = np.full((min(side, rows), 4, 3), 255, np.uint8)
    tiles = [_to_uint8(x[crop]) for x in (nearest, *outputs, hr)]
    out = [tiles[0]]
    for t in tiles[1:]:
        out += [gap, t]
    return np.concatenate(out, axis=1)


def run_demo(
    out_dir: str | Path,
    scale: int = 2,
    methods: Sequence[MethodSpec] = DEMO_METHODS,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write ``report.md``, before/after pictures and TIFF results to ``out_dir``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder for the report (created).
    scale : int
        Degradation and upsampling factor.
    methods : sequence
        Method specs shown beside bicubic (see :func:`~napari_nssr.methods.resolve.resolve_method`).
    seed : int
        Seed of the DIV2KRK kernels.
    overwrite : bool
        Replace an existing report.

    Returns
    -------
    pathlib.Path
        The report's path.
    """
    out = Path(out_dir)
    report = out / "report.md"
    if report.exists() and not overwrite:
        raise OutputExistsError(f"{report} exists; pass --overwrite to replace the demo output")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows: list[DemoRow] = []
    labels = ["bicubic", *(str(m) for m in methods)]
    described: dict[str, str] = {}
    for name in DEMO_IMAGES:
        hr = load_test_image(name, max_side=384)
        lr = div2krk_degrade(hr, scale, rng)[0].astype(np.float32)
        outputs = [np.asarray(upsample_bicubic(lr, scale))]
        for label, spec in zip(labels[1:], methods):
            request = make_request(scale, spec)
            prepared = prepare(lr, request)
            described.setdefault(label, f"{prepared.method} ({prepared.model.name if prepared.model else 'no model'})")
            outputs.append(np.asarray(super_resolve(lr, request, prepared=prepared)))
        row = DemoRow(name)
        for label, sr in zip(labels, outputs):
            row.scores[label] = (psnr_y(hr, sr, scale), ssim_y(hr, sr, scale))
        rows.append(row)
        write_image(out / f"{name}_compare.png", _panel(lr, outputs, hr, scale), overwrite=True)
        for label, sr in zip(labels[1:], outputs[1:]):
            write_image(out / f"{name}_x{scale}_{label}.tif", sr, overwrite=True)
    lines = [
        "# napari-nssr demo",
        "",
        f"Scale x{scale}. Each sample image from scikit-image was blurred with a random DIV2KRK kernel "
        f"(seed {seed}), subsampled, then upsampled again by bicubic interpolation and by each method. "
        f"Scores on luma, {scale}-pixel border shaved. Methods: "
        + "; ".join(f"`{label}` = {text}" for label, text in described.items())
        + ".",
        "",
        "| image | " + " | ".join(f"{label} PSNR / SSIM" for label in labels) + " |",
        "|---" * (len(labels) + 1) + "|",
    ]
    for r in rows:
        cells = [f"{r.scores[label][0]:.2f} / {r.scores[label][1]:.4f}" for label in labels]
        lines.append(f"| {r.image} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Crops, left to right: low-resolution input (pixels enlarged), " + ", ".join(labels) + ", ground truth.",
        "",
    ]
    lines += [f"![{r.image}]({r.image}_compare.png)" for r in rows]
    report.write_text("\n".join(lines) + "\n")
    return report
