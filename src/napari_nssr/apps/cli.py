"""The ``napari-nssr`` command line: apply, methods, train, bench, demo, info.

Options of methods and of training are generated from the settings dataclasses
(``cli_settings.py``); the method is resolved by :func:`~napari_nssr.methods.resolve.resolve_method`
like everywhere else. Errors the library raises on purpose (:class:`NSSRError`) and file-system
errors (``OSError``) print one line and exit with status 2; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from .._version import __version__
from ..core.errors import NSSRError, OutputExistsError, SettingsError
from ..core.kernels import GallerySettings
from ..core.layout import check_scale
from ..core.request import Request
from ..core.settings import settings_fields
from ..io.images import output_formats
from ..io.nodata import check_nodata_option
from ..methods.base import MethodSettings, get_method
from ..methods.fixed_filter import FilterSettings
from ..methods.resolve import DEFAULT_METHOD, method_menu, resolve_method
from ..models.bundled import load_model
from ..models.files import save_model
from ..networks.lcnn import LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings
from ..training.presets import PAPER_RECIPE, PRESETS
from ..training.trainer import TrainProgress, TrainSettings, train_model
from .batch import GuideFiles, plan_batch, run_batch
from .bench import DEFAULT_METHODS, DEGRADATIONS, IMAGE_SETS, REAL_DATA, BenchMethod, image_set, run_benchmark
from .cli_settings import add_settings_options, given, help_text, nested_prefix, option_name, settings_from_args
from .demo import run_demo

NOISY_FILTER = 10.0  # noise gain above which `train` warns; the bundled models are at about 5


class MethodOptions:
    """The generated options of every registered method, and which method each belongs to."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.dests: dict[str, list[str]] = {}
        self.flags: dict[str, str] = {}
        added: set[str] = set()
        parser.add_argument(
            "--method",
            choices=method_menu(),
            help=f"super-resolution method (default {DEFAULT_METHOD}); -m alone picks 'filter' with that model",
        )
        prefixes: list[str] = []
        for name in method_menu():
            settings_type = get_method(name).settings_type
            prefix = str(getattr(settings_type, "cli_prefix", name))
            self.dests[name] = add_settings_options(
                parser, settings_type, prefix, short={"model": "-m"}, added=added, hidden=True
            )
            for info in settings_fields(settings_type):
                own = f"--{nested_prefix(info.kind) if info.nested else prefix}-*"
                if own != "---*" and own not in prefixes:
                    prefixes.append(own)
        parser.add_argument_group(
            "each method's own options",
            f"{', '.join(prefixes)}: 'napari-nssr methods METHOD' lists them with their meaning, range and "
            f"default (methods: {', '.join(method_menu())})",
        )
        for action in parser._actions:
            if action.option_strings and action.dest not in ("help", "method"):
                self.flags[action.dest] = action.option_strings[0]

    def settings(self, args: argparse.Namespace) -> MethodSettings:
        """The method and settings the options ask for, through the one resolver.

        ``--method`` picks the method; without it, ``-m/--model`` alone means that model (or, for a
        method name such as ``-m blind``, that method) and nothing means the default method.
        """
        model_dest = self.dests["filter"][0]
        model = getattr(args, model_dest, None)
        if args.method is None:
            _, settings = resolve_method(model)
        elif args.method == "filter":
            settings = FilterSettings(model=model) if model is not None else FilterSettings()
        else:
            settings = get_method(args.method).settings_type()
        name = resolve_method(settings)[0].name
        used = set(self.dests[name]) | {model_dest}
        foreign = [self.flags[d] for d in given(args, sum(self.dests.values(), [])) if d not in used]
        if foreign:
            options = sorted(set(foreign))
            verb = "does" if len(options) == 1 else "do"
            raise SettingsError(f"{', '.join(options)} {verb} not apply to --method {name}")
        return settings_from_args(settings, args)


def _add_apply(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "apply",
        help="super-resolve image files, folders or glob patterns (TIFF, GeoTIFF, OME-TIFF, OME-Zarr, PNG, JPEG)",
    )
    p.add_argument("images", nargs="+", help="input files, folders (their images) or quoted glob patterns")
    p.add_argument(
        "-s",
        "--scale",
        type=float,
        action="append",
        help="scale factor (>= 1); repeat: -s 2 -s 4; with --guide, default the guide's grid (its pixel size)",
    )
    p.add_argument(
        "--guide",
        action="append",
        metavar="FILE",
        help="a sharper image of the same scene (each band a guide; repeat for several): the guided method, on "
        "the guide's grid; a GeoTIFF must overlay the result exactly",
    )
    p.add_argument(
        "--reproject-guides",
        action="store_true",
        help="resample a georeferenced guide that is off the result's grid onto it (rasterio, cubic) instead of "
        "refusing it",
    )
    p.add_argument("--strength", type=float, default=1.0, help="0 = bicubic, 1 = the method's result (default 1)")
    p.add_argument("-o", "--out-dir", help="folder for results (default: next to each input)")
    p.add_argument(
        "--format",
        choices=["same", *output_formats()],
        default="same",
        help="output format (default: same as input; zarr writes OME-Zarr with a pyramid)",
    )
    p.add_argument("--rgb", choices=["auto", "yes", "no"], default="auto", help="treat a last axis of 3/4 as colour")
    p.add_argument(
        "--nodata",
        default="auto",
        help="value of pixels without data, kept out of the result: auto (the file's nodata; zero fill at a "
        "GeoTIFF scene's edges), none, or a number",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument(
        "--tile-size", type=int, default=2048, help="output chunk side in pixels (memory and speed, not results)"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing dask.distributed scheduler")
    where.add_argument("--workers", type=int, metavar="N", help="run on a local dask.distributed cluster of N workers")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never the inputs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (also off when not on a terminal)")
    p.set_defaults(method_options=MethodOptions(p))


def _progress_bars(enabled: bool) -> Callable[[str], Callable[[int, int], None]] | None:
    """A tqdm bar per output (on stderr, only on a terminal)."""
    if not enabled:
        return None
    from tqdm import tqdm

    def bar_for(name: str) -> Callable[[int, int], None]:
        bar = tqdm(desc=name, unit="part", leave=False, disable=None)

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()

        return update

    return bar_for


def _cluster(args: argparse.Namespace) -> Any:
    """A dask.distributed client for ``--scheduler`` or ``--workers`` (it becomes dask's default
    scheduler), or a null context."""
    from contextlib import ExitStack

    stack = ExitStack()
    if args.workers is not None and args.workers < 1:
        raise SettingsError(f"--workers must be at least 1, got {args.workers}")
    if args.scheduler or args.workers:
        from distributed import Client, LocalCluster

        if args.scheduler:
            try:
                stack.enter_context(Client(args.scheduler, timeout="10s"))
            except (OSError, TimeoutError) as exc:
                raise SettingsError(f"cannot reach the dask scheduler at {args.scheduler}: {exc}") from None
        else:
            cluster = stack.enter_context(
                # the nannies' tracebacks when a worker dies are not the user's to read: the batch says it
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
            )
            stack.enter_context(Client(cluster))
        from distributed import get_client

        watch = WorkerWatch(get_client(), WORKERLESS_SECONDS, _stop_without_workers)
        watch.start()
        stack.callback(watch.stop)
    return stack


#: a batch on a cluster that has had no workers this long stops (its workers killed again and again,
#: by an out-of-memory killer say: the nannies gave up restarting them and the run waited for ever)
WORKERLESS_SECONDS = 60.0


class WorkerWatch(threading.Thread):
    """Calls ``on_timeout(seconds)`` once if ``client``'s cluster has had no workers for ``patience``
    seconds (polled every ``poll`` seconds, on its own thread)."""

    def __init__(self, client: Any, patience: float, on_timeout: Any, poll: float = 2.0) -> None:
        super().__init__(name="nssr-worker-watch", daemon=True)
        self.client, self.patience, self.on_timeout, self.poll = client, patience, on_timeout, poll
        self._stopped = threading.Event()
        self.fired = False

    def stop(self) -> None:
        """End the watch."""
        self._stopped.set()

    def run(self) -> None:
        since: float | None = None
        while not self._stopped.wait(self.poll):
            try:
                workers = len(self.client.scheduler_info().get("workers", {}))
            except Exception:  # a scheduler that does not answer has no workers to offer either
                workers = 0
            if workers:
                since = None
                continue
            since = time.monotonic() if since is None else since
            if time.monotonic() - since >= self.patience:
                self.fired = True
                self.on_timeout(self.patience)
                return


def _stop_without_workers(seconds: float) -> None:
    print(
        f"napari-nssr apply: the cluster has had no workers for {seconds:.0f} s (killed, out of memory?): stopping; "
        "run again to resume",
        file=sys.stderr,
        flush=True,
    )
    os.kill(os.getpid(), signal.SIGTERM)  # handled as Ctrl-C: finished files stay, partial ones go


def _cmd_apply(args: argparse.Namespace) -> int:
    guides = GuideFiles(tuple(Path(g) for g in args.guide or ()), args.reproject_guides)
    if guides and args.method is None and getattr(args, args.method_options.dests["filter"][0], None) is None:
        args.method = "guided"  # guides given: the method that reads them
    settings = args.method_options.settings(args)
    method = resolve_method(settings)[0]
    if guides and not method.takes_guides:
        raise SettingsError(f"--guide: the {method.name} method takes no guide images")
    if args.reproject_guides and not guides:
        raise SettingsError("--reproject-guides needs --guide")
    rgb = {"auto": None, "yes": True, "no": False}[args.rgb]
    psf_given = frozenset(d.split(".", 1)[1] for d in vars(args) if d.startswith("PSFSettings."))
    scales = args.scale or []
    if not scales and not guides:
        raise SettingsError("give a scale (-s), or guides (--guide) whose grid sets it")
    # every option is checked here, once, before any file is read
    first = check_scale(scales[0]) if scales else (2.0, 2.0)
    request = Request(first, settings, args.strength, rgb, args.device, None, args.tile_size)
    check_nodata_option(args.nodata)
    jobs, failures = plan_batch(
        args.images,
        request,
        scales,
        out_dir=args.out_dir,
        fmt=args.format,
        overwrite=args.overwrite,
        keep=psf_given,
        guides=guides,
    )
    for failure in failures:
        print(f"{failure.source}: failed: {failure.message}", file=sys.stderr, flush=True)
    with _cluster(args):
        done = run_batch(
            jobs,
            overwrite=args.overwrite,
            nodata=args.nodata,
            report=_say,
            warn=lambda line: print(line, file=sys.stderr, flush=True),
            progress=_progress_bars(not args.no_progress),
        )
    done.failed[:0] = failures
    _say(done.summary())
    return 1 if done.failed else 0


def _add_methods(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("methods", help="list the super-resolution methods, or one method's options")
    p.add_argument(
        "method", nargs="?", choices=method_menu(), help="a method: its options, with meaning, range and default"
    )


def _option_lines(cls: type, prefix: str) -> list[str]:
    """One line per option of a settings class (nested settings: their own options, indented)."""
    lines = []
    for info in settings_fields(cls):
        if info.nested:
            lines.append(f"  {info.help}:")
            lines += ["  " + line for line in _option_lines(info.kind, nested_prefix(info.kind))]
        else:
            lines.append(f"  --{option_name(info, prefix)}: {help_text(info)}")
    return lines


def _cmd_methods(args: argparse.Namespace) -> int:
    if args.method is None:
        for name in method_menu():
            default = " (default)" if name == DEFAULT_METHOD else ""
            print(f"{name}{default}: {get_method(name).summary}")
        print("\n'napari-nssr methods METHOD' lists a method's options (with apply and bench).")
        return 0
    method = get_method(args.method)
    print(f"{method.name}: {method.summary}\n")
    prefix = str(getattr(method.settings_type, "cli_prefix", method.name))
    print("\n".join(_option_lines(method.settings_type, prefix)))
    return 0


TRAIN_SETTINGS = (GallerySettings, LCNNSettings, DILLossSettings, ChainSettings, TrainSettings)
TRAIN_GROUPS = {
    GallerySettings: "gallery",
    LCNNSettings: "architecture",
    DILLossSettings: "loss",
    ChainSettings: "degradation-aware objective (--objective chain)",
    TrainSettings: "optimiser",
}


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an inverse-kernel model from a kernel gallery (no image data)")
    p.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    p.add_argument("--preset", default="default", choices=list(PRESETS), help="starting settings (default: default)")
    p.add_argument(
        "--recipe",
        choices=["ours", "paper"],
        default="ours",
        help="optimiser recipe: ours (converges) or the paper's lr 0.1 / batch 32 (diverges)",
    )
    p.add_argument(
        "--objective",
        choices=["identity", "chain"],
        help="identity: the paper's DIL loss; chain: degradation-aware (blur, subsample, upsample on synthetic "
        "1/f^alpha images); default: the preset's",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    added: set[str] = set()
    dests = {
        cls: add_settings_options(p.add_argument_group(TRAIN_GROUPS[cls]), cls, added=added) for cls in TRAIN_SETTINGS
    }
    p.set_defaults(train_dests=dests)


def _cmd_train(args: argparse.Namespace) -> int:
    preset = PRESETS[args.preset]
    out = Path(args.output)
    if out.is_dir():  # found before training, not after it (the model is one file)
        raise OutputExistsError(f"{out} is a folder; give the model a file name (such as {out / 'model.pt'})")
    if out.exists() and not args.overwrite:
        raise OutputExistsError(f"{out} exists; pass --overwrite to replace it")
    gallery = settings_from_args(preset.gallery, args)
    if gallery.kernel_path and gallery.kernel_path != preset.gallery.kernel_path:
        # your own kernels: the file family, with a path that still holds if the model is used elsewhere
        gallery = replace(gallery, family="file", kernel_path=str(Path(gallery.kernel_path).resolve()))
    architecture = settings_from_args(preset.architecture, args)
    loss = settings_from_args(preset.loss, args)
    chain_wanted = args.objective == "chain" or (
        args.objective is None and (preset.chain is not None or given(args, args.train_dests[ChainSettings]))
    )
    chain = settings_from_args(preset.chain or ChainSettings(), args) if chain_wanted else None
    train = settings_from_args(PAPER_RECIPE if args.recipe == "paper" else preset.train, args)

    def report(p: TrainProgress) -> None:
        print(p.text if p.epoch == 0 else f"epoch {p.epoch}/{p.epochs}  loss {p.loss:.6f}", flush=True)

    result = train_model(gallery, architecture, loss, train, name=out.stem, progress=report, chain=chain)
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


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="DIV2KRK-protocol benchmark of methods side by side")
    p.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help="comma-separated methods or models, scored side by side with bicubic "
        f"(default: {','.join(DEFAULT_METHODS)}; also wiener, richardson-lucy, a model name or file)",
    )
    p.add_argument(
        "--images",
        default="all",
        help=f"{', '.join(IMAGE_SETS)}, real (the files in --data-dir), a folder of images, or comma-separated "
        "sample names and image files (default: all)",
    )
    p.add_argument("--data-dir", default=str(REAL_DATA), help=f"where the real image set lies (default: {REAL_DATA})")
    p.add_argument("--scales", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-side", type=int, default=768, help="centre-crop images to this side")
    p.add_argument(
        "--degradations",
        default="div2krk",
        help=f"comma-separated: {', '.join(DEGRADATIONS)}, or 'all' (default: div2krk, the protocol)",
    )
    p.add_argument("--markdown", help="also write the tables to this markdown file")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(method_options=MethodOptions(p))


def _cmd_bench(args: argparse.Namespace) -> int:
    images = image_set(args.images, Path(args.data_dir))
    if args.markdown and Path(args.markdown).exists() and not args.overwrite:
        raise OutputExistsError(f"{args.markdown} exists; pass --overwrite to replace it")
    methods = {"bicubic": BenchMethod("bicubic")}
    for spec in (s.strip() for s in args.methods.split(",")):
        if spec and spec not in methods:
            _, settings = resolve_method(spec)
            # each method takes its own options from the command line (a model keeps its name)
            methods[spec] = BenchMethod(
                settings if isinstance(settings, FilterSettings) else settings_from_args(settings, args)
            )
    wanted = list(DEGRADATIONS) if args.degradations == "all" else [d.strip() for d in args.degradations.split(",")]
    unknown = [d for d in wanted if d not in DEGRADATIONS]
    if unknown:
        raise SettingsError(f"unknown degradation(s) {', '.join(unknown)}; known: {', '.join(DEGRADATIONS)}")
    sections = []
    for degradation in wanted:
        result = run_benchmark(
            methods,
            images,
            args.scales,
            seed=args.seed,
            max_side=args.max_side,
            log=partial(_print_tagged, degradation),
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


def _print_tagged(tag: str, line: str) -> None:
    print(f"[{tag}] {line}", flush=True)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on bundled sample data and write a report")
    p.add_argument("-o", "--out-dir", default="nssr-demo")
    p.add_argument("-s", "--scale", type=int, default=2)
    p.add_argument(
        "--methods",
        default="blind,default",
        help="comma-separated methods or models shown beside bicubic (default: blind,default: the default "
        "method and the bundled default model)",
    )
    p.add_argument("--overwrite", action="store_true")


def _cmd_demo(args: argparse.Namespace) -> int:
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    report = run_demo(args.out_dir, args.scale, methods, overwrite=args.overwrite)
    print(report.read_text())
    print(f"wrote {report}")
    return 0


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a model's metadata")
    p.add_argument("model", nargs="?", default="default", help="a bundled model name or a model file")


def _cmd_info(args: argparse.Namespace) -> int:
    print(json.dumps(load_model(args.model).describe(), indent=2))
    return 0


COMMANDS = {
    "apply": (_add_apply, _cmd_apply),
    "methods": (_add_methods, _cmd_methods),
    "train": (_add_train, _cmd_train),
    "bench": (_add_bench, _cmd_bench),
    "demo": (_add_demo, _cmd_demo),
    "info": (_add_info, _cmd_info),
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage block hid the message in 50 lines)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``napari-nssr``.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(prog="napari-nssr", description="Null-shot super-resolution (NSSR-DIL).")
    parser.add_argument("--version", action="version", version=f"napari-nssr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add, _ in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``napari-nssr``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when some inputs of ``apply`` failed (listed in its summary),
        2 on an error (one plain line on stderr), 3 when training did not converge, 130 when
        interrupted (Ctrl-C, SIGTERM).
    """
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return COMMANDS[args.command][1](args)
    except (NSSRError, OSError) as exc:
        print(f"napari-nssr {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"napari-nssr {args.command}: interrupted; files already written are complete", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _say(line: str) -> None:
    # flushed: a pipe (a log, a scheduler) sees each file as it is written
    print(line, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM as Ctrl-C: the files being written remove their temporary parts on the way out
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
