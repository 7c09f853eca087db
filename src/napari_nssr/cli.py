"""The ``napari-nssr`` command line: train, apply, bench, demo, info."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ._config import SettingsError
from ._version import __version__

NOISY_FILTER = 10.0  # noise gain above which `train` warns; the bundled models are at about 5


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an inverse-kernel model from a kernel gallery (no image data)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.add_argument(
        "--preset", default="default", help="starting settings: default, paper, chain-x2, chain-x3, chain-x4"
    )
    p.add_argument(
        "--recipe",
        choices=["ours", "paper"],
        default="ours",
        help="optimiser recipe: ours (converges) or the paper's lr 0.1 / batch 32 (diverges)",
    )
    g = p.add_argument_group("gallery")
    g.add_argument(
        "--family", help="kernel family (anisotropic_gaussian, isotropic_gaussian, div2krk, widefield, file)"
    )
    g.add_argument("--kernels", help="image or .npy file with your own kernel(s)/PSF (sets --family file)")
    g.add_argument("--count", type=int)
    g.add_argument("--size", type=int, help="kernel side in pixels (odd)")
    g.add_argument("--sigma-min", type=float)
    g.add_argument("--sigma-max", type=float)
    g.add_argument("--sigma-is", choices=["std", "variance"])
    g.add_argument("--gallery-scale", type=float, help="scale factor for the div2krk family")
    g.add_argument("--seed", type=int)
    o = p.add_argument_group("widefield optics (--family widefield)")
    o.add_argument("--na", type=float, help="numerical aperture (default 1.4)")
    o.add_argument("--wavelength", type=float, help="emission wavelength in microns (default 0.52)")
    o.add_argument("--pixel-size", type=float, help="output pixel size in the sample, microns (default 0.05)")
    o.add_argument("--immersion-index", type=float, help="refractive index of the immersion medium (default 1.515)")
    o.add_argument("--defocus", type=float, help="focus drawn within +-this many microns (default 0.5)")
    a = p.add_argument_group("architecture")
    a.add_argument("--depth", type=int)
    a.add_argument("--width", type=int)
    a.add_argument("--kernel-size", type=int)
    loss = p.add_argument_group("loss")
    loss.add_argument("--free-sum", action="store_true", help="do not hold the filter sum at 1 (paper as written)")
    loss.add_argument("--hold-sum", action="store_true", help="hold the filter sum at exactly 1")
    loss.add_argument("--sum-weight", type=float)
    loss.add_argument("--centre-weight", type=float)
    loss.add_argument("--ridge", type=float, help="noise regulariser ridge * ||h||^2 (default 0; try 1e-3 for one PSF)")
    c = p.add_argument_group("objective")
    c.add_argument(
        "--objective",
        choices=["identity", "chain"],
        help="identity: the paper's DIL loss; chain: degradation-aware (blur, subsample, upsample "
        "on synthetic 1/f^alpha images); default: the preset's",
    )
    c.add_argument("--alpha", type=float, help="chain: image power spectrum ~ 1/f^alpha (default 2)")
    c.add_argument("--noise", type=float, help="chain: noise std on the low-resolution image, [0, 1] units")
    t = p.add_argument_group("optimiser")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--device", default=None, help="auto, cpu or cuda")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")


def _cmd_train(args: argparse.Namespace) -> int:
    from .chain import ChainSettings
    from .model_file import save_model
    from .training import PAPER_RECIPE, PRESETS, train_model

    if args.preset not in PRESETS:
        raise SettingsError(f"unknown preset {args.preset!r}; known: {', '.join(PRESETS)}")
    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    preset = PRESETS[args.preset]
    pick = lambda **kw: {k: v for k, v in kw.items() if v is not None}  # noqa: E731
    gallery = replace(
        preset.gallery,
        **pick(
            family=args.family,
            count=args.count,
            size=args.size,
            sigma_min=args.sigma_min,
            sigma_max=args.sigma_max,
            sigma_is=args.sigma_is,
            scale=args.gallery_scale,
            seed=args.seed,
            numerical_aperture=args.na,
            wavelength_um=args.wavelength,
            pixel_um=args.pixel_size,
            immersion_index=args.immersion_index,
            defocus_um=args.defocus,
        ),
    )
    if args.kernels:
        gallery = replace(gallery, family="file", kernel_path=str(Path(args.kernels).resolve()))
    arch = replace(preset.architecture, **pick(depth=args.depth, width=args.width, kernel_size=args.kernel_size))
    hold = False if args.free_sum else (True if args.hold_sum else None)
    loss = replace(
        preset.loss,
        **pick(hold_sum_at_one=hold, sum_weight=args.sum_weight, centre_weight=args.centre_weight, ridge=args.ridge),
    )
    chain = preset.chain
    if args.objective == "identity":
        chain = None
    elif args.objective == "chain" or args.alpha is not None or args.noise is not None:
        chain = replace(chain or ChainSettings(), **pick(alpha=args.alpha, noise=args.noise))
    train = PAPER_RECIPE if args.recipe == "paper" else preset.train
    train = replace(
        train, **pick(epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size, device=args.device)
    )

    def report(p: object) -> None:
        print(f"epoch {p.epoch}/{p.epochs}  loss {p.loss:.6f}", flush=True)  # type: ignore[attr-defined]

    result = train_model(gallery, arch, loss, train, name=out.stem, progress=report, chain=chain)
    save_model(result.model, out, overwrite=args.overwrite)
    verdict = "converged" if result.converged else "NOT converged"
    print(
        f"{verdict}: loss {result.loss:.6f}, closed-form optimum {result.optimum_loss:.6f} "
        f"({100 * result.relative_gap:+.3f}%), identity {result.identity_loss:.6f}; "
        f"filter sum {result.model.dc_gain:.6f}, noise gain {result.model.noise_gain:.2f}; {result.seconds:.1f} s"
    )
    if result.model.noise_gain > NOISY_FILTER:
        print(
            f"warning: this filter multiplies white noise by {result.model.noise_gain:.0f}; with few or narrow "
            "kernels add a noise regulariser, e.g. --ridge 1e-3"
        )
    print(f"wrote {out}")
    return 0 if result.converged else 3


def _add_apply(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("apply", help="super-resolve image files (TIFF, PNG)")
    p.add_argument("images", nargs="+", help="input image files")
    p.add_argument(
        "-s",
        "--scale",
        type=float,
        action="append",
        required=True,
        help="scale factor (>= 1); repeat for several, e.g. -s 2 -s 4",
    )
    p.add_argument(
        "-m",
        "--model",
        default="blind",
        help="'blind' (default: solved per image for its own blur and noise), a bundled model "
        "(default, paper, chain, chain-xN) or a model file",
    )
    p.add_argument("--strength", type=float, default=1.0, help="0 = bicubic, 1 = full inverse filter (default 1)")
    p.add_argument("-o", "--out-dir", help="folder for results (default: next to each input)")
    p.add_argument(
        "--format", choices=["same", "tif", "png"], default="same", help="output format (default: same as input)"
    )
    p.add_argument("--rgb", choices=["auto", "yes", "no"], default="auto", help="treat a last axis of 3/4 as colour")
    p.add_argument("--device", default="auto")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never the inputs)")


def output_path(src: Path, scale: float, out_dir: Path | None, fmt: str) -> Path:
    """Where ``apply`` writes the result of ``src`` at ``scale``."""
    suffix = src.suffix.lower() if fmt == "same" else "." + fmt
    if suffix in (".jpg", ".jpeg", ".bmp"):
        suffix = ".png"
    folder = out_dir if out_dir is not None else src.parent
    return folder / f"{src.stem}_x{scale:g}_nssr{suffix}"


def _cmd_apply(args: argparse.Namespace) -> int:
    from .blind import BLIND
    from .image_io import read_image, write_image
    from .inference import super_resolve
    from .model_file import model_for_scale

    # 'blind' is resolved per image inside super_resolve
    models = {s: args.model if args.model == BLIND else model_for_scale(args.model, s) for s in args.scale}
    rgb = {"auto": None, "yes": True, "no": False}[args.rgb]
    inputs = [Path(p) for p in args.images]
    input_set = {p.resolve() for p in inputs}
    out_dir = Path(args.out_dir) if args.out_dir else None
    jobs = [(src, s, output_path(src, s, out_dir, args.format)) for src in inputs for s in args.scale]
    # check every target before computing anything, so a clash never leaves half the outputs written
    for src, _, dst in jobs:
        if not src.is_file():
            raise FileNotFoundError(f"input not found: {src}")
        if dst.resolve() in input_set:
            raise FileExistsError(f"refusing to write {dst}: it is one of the inputs")
        if dst.exists() and not args.overwrite:
            raise FileExistsError(f"{dst} exists; pass --overwrite to replace it")
    cache: dict[Path, object] = {}
    for src, scale, dst in jobs:
        if src not in cache:
            cache[src] = read_image(src)
        image = cache[src]
        result = super_resolve(image, scale, models[scale], strength=args.strength, rgb=rgb, device=args.device)
        write_image(dst, result, overwrite=args.overwrite)
        print(f"{src} -> {dst}  {tuple(image.shape)} -> {tuple(result.shape)}")  # type: ignore[attr-defined]
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="DIV2KRK-protocol benchmark on scikit-image's bundled images")
    p.add_argument(
        "--images", default="all", help="'photos', 'all', 'held-out' or comma-separated sample names (default: all)"
    )
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-side", type=int, default=768, help="centre-crop images to this side")
    p.add_argument("--model", default="default", help="our model (name or file)")
    p.add_argument("--paper-model", default="paper", help="paper-faithful model (name or file)")
    p.add_argument("--chain-model", default="chain", help="degradation-aware per-scale family or file ('' to skip)")
    p.add_argument("--blind", action=argparse.BooleanOptionalAction, default=True, help="include the blind mode")
    p.add_argument(
        "--degradations",
        default="div2krk",
        help="comma-separated: div2krk (the protocol), disk, motion, div2krk+gaussian, div2krk+poisson, or 'all'",
    )
    p.add_argument("--markdown", help="also write the tables to this markdown file")
    p.add_argument("--overwrite", action="store_true")


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import DEGRADATIONS, IMAGE_SETS, bicubic_method, model_method, run_benchmark

    images = IMAGE_SETS.get(args.images) or [n.strip() for n in args.images.split(",") if n.strip()]
    if args.markdown and Path(args.markdown).exists() and not args.overwrite:
        raise FileExistsError(f"{args.markdown} exists; pass --overwrite to replace it")
    methods = {
        "bicubic": bicubic_method,
        f"paper-faithful ({args.paper_model})": model_method(args.paper_model),
        f"NSSR ({args.model})": model_method(args.model),
    }
    if args.chain_model:
        methods[f"degradation-aware ({args.chain_model})"] = model_method(args.chain_model)
    if args.blind:
        methods["blind per-image (blind)"] = model_method("blind")
    wanted = list(DEGRADATIONS) if args.degradations == "all" else [d.strip() for d in args.degradations.split(",")]
    unknown = [d for d in wanted if d not in DEGRADATIONS]
    if unknown:
        raise ValueError(f"unknown degradation(s) {', '.join(unknown)}; known: {', '.join(DEGRADATIONS)}")
    sections = []
    for degradation in wanted:
        result = run_benchmark(
            methods,
            images,
            args.scales,
            seed=args.seed,
            max_side=args.max_side,
            log=lambda line, d=degradation: print(f"[{d}] {line}", flush=True),
            degradation=degradation,
        )
        text = f"### {degradation}\n\n{result.table()}"
        per_image = "\n\n".join(f"x{s} PSNR per image (dB):\n\n{result.per_image_table(s)}" for s in args.scales)
        print("\n" + text + "\n")
        sections.append(text + "\n\n" + per_image)
    if args.markdown:
        Path(args.markdown).write_text("\n\n".join(sections) + "\n")
        print(f"wrote {args.markdown}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on bundled sample data and write a report")
    p.add_argument("-o", "--out-dir", default="nssr-demo")
    p.add_argument("-s", "--scale", type=int, default=2)
    p.add_argument("-m", "--model", default="default")
    p.add_argument("--overwrite", action="store_true")


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    report = run_demo(args.out_dir, args.scale, args.model, overwrite=args.overwrite)
    print(report.read_text())
    print(f"wrote {report}")
    return 0


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a model's metadata")
    p.add_argument("model", nargs="?", default="default")


def _cmd_info(args: argparse.Namespace) -> int:
    from .model_file import load_model

    print(json.dumps(load_model(args.model).describe(), indent=2))
    return 0


COMMANDS = {"train": _cmd_train, "apply": _cmd_apply, "bench": _cmd_bench, "demo": _cmd_demo, "info": _cmd_info}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``napari-nssr``."""
    parser = argparse.ArgumentParser(prog="napari-nssr", description="Null-shot super-resolution (NSSR-DIL).")
    parser.add_argument("--version", action="version", version=f"napari-nssr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_apply, _add_bench, _add_demo, _add_info):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (errors print one plain line, exit 2)."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, MemoryError, RuntimeError) as exc:
        print(f"napari-nssr {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
