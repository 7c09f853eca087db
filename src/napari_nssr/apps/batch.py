"""Super-resolving files in a batch: checked first, then each file computed lazily and written atomically.

:func:`expand_inputs` turns folders and glob patterns into files. :func:`plan_batch` then reads
each input's header (shape, dtype, axes, calibration, georeference) and checks the batch as a
whole before anything is computed: inputs or scales given twice, an output folder that is a file,
outputs that would overwrite an input or each other stop it with one line. A problem of one
file (unreadable, a format that cannot hold its result, an output in the way) fails that file
only. An output that already exists complete (same shape and dtype) is skipped, so a batch that
was stopped resumes where it was; ``overwrite`` replaces it instead.

:func:`run_batch` computes each input as a dask array (read tile by tile, super-resolved chunk by
chunk, written a strip at a time: memory stays bounded whatever the file's size), on the local
threads or on a ``dask.distributed`` cluster when a client is active, and keeps going past a file
that fails (NaN, a damaged tile), listing it in the :class:`BatchReport`. Each output is written
under a temporary name and renamed when complete: nothing half-written is left after a crash,
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..core.errors import ImageError, NSSRError, OutputExistsError, SettingsError
from ..core.layout import check_image, check_scale
from ..core.progress import PrepareProgress, drain
from ..core.request import Plan, Request
from ..core.settings import Settings, settings_to_dict
from ..engine.pipeline import apply_lazy, iter_prepare
from ..io.files import check_can_write_into, remove_stale_parts
from ..io.formats import ImageHeader, format_for, format_named, image_formats
from ..io.guides import GuideHeader, check_guide, guides_on_grid, read_guide_header, scale_from_guide
from ..io.images import check_writable, holds_result, read_header, read_image_file, write_image, writer_for
from ..io.nodata import choose_nodata
from ..methods.base import method_for_settings
from ..methods.fixed_filter import FilterSettings
from ..methods.psf.kernels import with_optics
from ..methods.psf.method import KnownPSFSettings
from ..models.bundled import load_model

OUTPUT_MARK = "_nssr"  # results are named STEM_xSCALE_nssr.EXT; folders and globs skip them


@dataclass(frozen=True)
class GuideFiles:
    """Guide files for every input of a batch (the guided method), and whether those off a result's
    grid may be resampled onto it (``--reproject-guides``) instead of refused."""

    paths: tuple[Path, ...] = ()
    reproject: bool = False

    def __bool__(self) -> bool:
        return bool(self.paths)


@dataclass(frozen=True)
class Output:
    """One result to write: the request on the input at its scale, where it goes, and whether a
    complete copy is already there (then it is skipped)."""

    plan: Plan
    path: Path
    done: bool = False
    #: what makes it (:func:`provenance`), written into it
    provenance: str | None = None


@dataclass(frozen=True)
class BatchJob:
    """One input with its header, its outputs, and its request (with the file's optics and colour)."""

    source: Path
    header: ImageHeader
    request: Request
    outputs: tuple[Output, ...]
    optics_from_file: bool = False
    guides: GuideFiles = GuideFiles()


@dataclass(frozen=True)
class Failure:
    """An input that could not be super-resolved, and why (one line)."""

    source: Path
    message: str


@dataclass
class BatchReport:
    """What a batch did: files written, outputs skipped as already complete, inputs that failed."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        """One line, then one line per failed input."""
        lines = [
            f"{len(self.written)} written, {len(self.skipped)} already complete (skipped), {len(self.failed)} failed"
        ]
        lines += [f"  failed: {f.source}: {f.message}" for f in self.failed]
        return "\n".join(lines)


def output_path(src: Path, scale: float, out_dir: Path | None, fmt: str) -> Path:
    """Where the result of ``src`` at ``scale`` goes: ``STEM_xSCALE_nssr.EXT`` beside it or in ``out_dir``.

    Parameters
    ----------
    src : pathlib.Path
        The input file.
    scale : float
        The factor.
    out_dir : pathlib.Path or None
        The output folder (``None``: the input's folder).
    fmt : str
        ``"same"`` (the input's format; a read-only one's results format: JPEG becomes PNG) or a
        registered format's name (:func:`~napari_nssr.io.images.output_formats`).

    Returns
    -------
    pathlib.Path
    """
    source = format_for(src)
    stem, suffix = (source.stem(src), source.result_suffix(src)) if source else (src.stem, src.suffix.lower())
    if fmt != "same":
        suffix = format_named(fmt).suffixes[0]
    folder = out_dir if out_dir is not None else src.parent
    return folder / f"{stem}_x{scale:g}{OUTPUT_MARK}{suffix}"


def _is_image(path: Path) -> bool:
    fmt = format_for(path)
    present = fmt is not None and (path.is_dir() if fmt.folder else path.is_file())
    return present and not path.stem.lower().split(".")[0].endswith(OUTPUT_MARK)


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files named, the image files in folders named, and the matches of glob patterns.

    Parameters
    ----------
    inputs : sequence of path or pattern
        Files, folders (their image files, not recursively) and patterns (``"scenes/*.tif"``,
        ``"**/*.tif"``). Folders and patterns skip earlier results (``*_nssr.*``).

    Returns
    -------
    list of pathlib.Path
        In the order given (each folder's and pattern's matches sorted).

    Raises
    ------
    SettingsError
        For a pattern or folder that matches no image.
    """
    paths: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir() and not _is_image(path):
            found = sorted(p for p in path.iterdir() if _is_image(p))
            if not found:
                known = ", ".join(fmt.summary for fmt in image_formats())
                raise SettingsError(f"the folder {path} holds no images ({known})")
            paths += found
        elif any(ch in text for ch in "*?[") and not path.exists():
            found = sorted(Path(p) for p in glob.glob(text, recursive=True) if _is_image(Path(p)))
            if not found:
                raise SettingsError(f"no images match {text}")
            paths += found
        else:
            paths.append(path)
    return paths


def _workers_died(exc: BaseException) -> bool:
    """Whether ``exc`` is dask.distributed saying the workers computing a task died (killed by an
    out-of-memory killer, say): that input fails, the cluster restarts its workers, the batch goes on."""
    return type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError")


def _file_record(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"name": path.name, "bytes": stat.st_size, "modified_ns": stat.st_mtime_ns}


def provenance(source: Path, plan: Plan, guides: GuideFiles = GuideFiles()) -> str:
    """What makes the result of ``plan`` on ``source``, as the JSON written into it: the method and all
    its settings, the scale, strength and colour choice, the source's name, size and time of
    change (a source edited since is another source), and the guide files' likewise. An existing
    output is this run's only if it says the same."""
    request = plan.request
    stat = source.stat()
    record = {
        "method": method_for_settings(request.settings).name,
        "settings": settings_to_dict(request.settings),
        "scale": [float(v) for v in plan.scale],
        "strength": float(request.strength),
        "rgb": request.rgb,
        "nodata": request.nodata,
        "source": {"name": source.name, "bytes": stat.st_size, "modified_ns": stat.st_mtime_ns},
    }
    if guides:
        record["guides"] = [_file_record(p) for p in guides.paths]
        record["reproject_guides"] = guides.reproject
    return json.dumps(record, sort_keys=True, default=str)


def _duplicates(items: Sequence[Any]) -> list[Any]:
    seen, repeated = set(), []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


def plan_batch(
    inputs: Sequence[str | Path],
    request: Request,
    scales: Sequence[float],
    *,
    out_dir: str | Path | None = None,
    fmt: str = "same",
    overwrite: bool = False,
    keep: frozenset[str] = frozenset(),
    guides: GuideFiles = GuideFiles(),
) -> tuple[list[BatchJob], list[Failure]]:
    """Check a whole batch before any work and list what it will write.

    Parameters
    ----------
    inputs : sequence of path
        Image files, folders and glob patterns (:func:`expand_inputs`).
    request : Request
        What to compute (its scale is replaced by each of ``scales``); the ``psf`` method takes each
        file's recorded optics as defaults, and ``rgb=None`` asks each file's axes, then guesses.
    scales : sequence of float
        Factors; each input is written at each. Empty with ``guides``: each input's scale is the one
        the first guide's grid sets (:func:`~napari_nssr.io.guides.scale_from_guide`).
    out_dir : path, optional
        Folder for all results (default: beside each input).
    fmt : str
        ``"same"`` or a format's name (:func:`output_path`).
    overwrite : bool
        Replace existing outputs (never an input); otherwise complete ones are skipped.
    keep : frozenset of str
        PSF fields set by the user, never taken from a file.
    guides : GuideFiles
        Guide files (the guided method): each is checked against each result's grid now, from
        the headers (a mismatch fails that input), and read onto it when the input is computed.

    Returns
    -------
    tuple of (list of BatchJob, list of Failure)
        The inputs to compute, and those that cannot be (the batch goes on without them).

    Raises
    ------
    NSSRError
        A problem of the batch as a whole, in one line, before anything is computed or written.
    """
    if not inputs:
        raise SettingsError("no input images given")
    paths, unusable = [], []
    for item in inputs:  # an input that names no image is that input's failure, not the batch's
        try:
            found = expand_inputs([item])
        except SettingsError as exc:
            unusable.append(Failure(Path(str(item)), str(exc)))
            continue
        for path in found:
            try:
                path.resolve(strict=False)
            except (OSError, RuntimeError) as exc:  # a symbolic link loop, a path the system refuses
                unusable.append(Failure(path, f"cannot follow {path}: {exc}"))
                continue
            paths.append(path)
    if not paths:  # nothing to process at all: the batch's problem, said before any work
        raise SettingsError(unusable[0].message)
    twice = _duplicates([p.resolve() for p in paths])
    if twice:
        raise SettingsError(f"{twice[0]} is given twice")
    repeated = _duplicates([round(check_scale(s)[0], 9) for s in scales])
    if repeated:
        raise SettingsError(f"scale {repeated[0]:g} is given twice")
    if not scales and not guides:
        raise SettingsError("give a scale (-s), or guides (--guide) whose grid sets it")
    guide_headers = [read_guide_header(p) for p in guides.paths]  # an unreadable guide stops the batch
    scales_of: dict[Path, list[float]] = {}
    for src in list(paths):
        try:
            scales_of[src] = list(scales) if scales else [_guide_scale(src, guide_headers[0])]
        except (NSSRError, OSError) as exc:
            unusable.append(Failure(src, str(exc)))
            paths.remove(src)
    settings = request.settings
    if isinstance(settings, FilterSettings) and isinstance(settings.model, str) and settings.model != "chain":
        load_model(settings.model)  # a damaged model file is the batch's problem, not each input's
    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ImageError(f"the output folder {folder} is a file")
    _check_collisions(paths, scales_of, folder, fmt, guides)
    jobs, failures = [], unusable
    for src in paths:
        try:
            jobs.append(_plan_job(src, request, scales_of[src], folder, fmt, overwrite, keep, guides, guide_headers))
        except (NSSRError, OSError) as exc:
            failures.append(Failure(src, str(exc)))
    return jobs, failures


def _guide_scale(src: Path, guide: GuideHeader) -> float:
    """The scale the guide's grid sets for ``src`` (its pixel size over the guide's)."""
    header = read_header(src)
    layout = check_image(SimpleNamespace(shape=header.shape, dtype=header.dtype), header.meta.rgb)
    rows, cols = layout.plane_shape(tuple(header.shape))
    return scale_from_guide(guide, header.meta.geo, (int(rows), int(cols)))


def _check_collisions(
    paths: Sequence[Path], scales_of: dict[Path, list[float]], folder: Path | None, fmt: str, guides: GuideFiles
) -> None:
    """Refuse a batch in which an output would overwrite an input, a guide or another output (checked
    for every input first: collisions are the batch's problem)."""
    resolved_inputs = {p.resolve(): p for p in paths}
    resolved_inputs.update({p.resolve(): p for p in guides.paths})
    targets: dict[Path, Path] = {}
    for src in paths:
        for scale in scales_of[src]:
            dst = output_path(src, scale, folder, fmt)
            key = dst.resolve()
            if key in resolved_inputs:
                raise OutputExistsError(f"refusing to write {dst}: it is one of the inputs or guides")
            if key in targets:
                raise OutputExistsError(
                    f"{targets[key]} and {src} would both be written to {dst}; give them separate output folders"
                )
            targets[key] = src


def _plan_job(
    src: Path,
    request: Request,
    scales: Sequence[float],
    folder: Path | None,
    fmt: str,
    overwrite: bool,
    keep: frozenset[str],
    guides: GuideFiles = GuideFiles(),
    guide_headers: Sequence[GuideHeader] = (),
) -> BatchJob:
    header = read_header(src)
    if src.resolve() in {p.resolve() for p in guides.paths}:
        raise SettingsError(f"{src} is one of its own guides")
    if request.rgb is None and header.meta.rgb is not None:
        request = replace(request, rgb=header.meta.rgb)
    own = with_file_optics(request.settings, header, keep)
    from_file, request = own is not request.settings, replace(request, settings=own)
    shaped = SimpleNamespace(shape=header.shape, dtype=header.dtype)
    outputs = []
    for scale in scales:
        plan = request.at(scale).plan(shaped)
        out_geo = header.meta.geo.scaled(plan.scale) if header.meta.geo is not None else None
        for guide in guide_headers:  # refused now, from the headers: not after the other inputs' work
            check_guide(guide, out_geo, plan.plane_shapes[1], src.name, guides.reproject)
        dst = output_path(src, scale, folder, fmt)
        check_writable(dst, header.dtype, plan.shape, header.meta)
        check_can_write_into(dst.parent)  # a read-only folder found now, not after the method's work
        if dst.is_dir() and not writer_for(dst).folder:
            raise ImageError(f"cannot write {dst}: it is a folder")
        done = False
        made_by = provenance(src, plan, guides)
        if dst.exists() and not overwrite:
            if not holds_result(dst, plan.shape, plan.dtype, made_by):
                raise OutputExistsError(
                    f"{dst} exists and is not this run's complete result (another shape, type, method, settings or "
                    "source, or damaged); pass --overwrite to replace it"
                )
            done = True
        outputs.append(Output(plan, dst, done, made_by))
    return BatchJob(src, header, request, tuple(outputs), from_file, guides)


def with_file_optics(method: Settings, header: ImageHeader, keep: frozenset[str]) -> Settings:
    """The ``psf`` method's settings with the optics ``header``'s file records, except ``keep``
    (the PSF fields set on the command line); any other method unchanged."""
    if not isinstance(method, KnownPSFSettings):
        return method
    psf = with_optics(method.psf, header.meta.optics, header.meta.pixel_size_um, keep)
    return method if psf == method.psf else replace(method, psf=psf)


def run_batch(
    jobs: Sequence[BatchJob],
    *,
    overwrite: bool = False,
    nodata: str = "auto",
    report: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> BatchReport:
    """Compute and write a planned batch, keeping going past inputs that fail.

    Parameters
    ----------
    jobs : sequence of BatchJob
        From :func:`plan_batch` (each with its request).
    overwrite : bool
        Replace existing outputs (as planned).
    nodata : str
        ``"auto"``, ``"none"`` or a number (:func:`~napari_nssr.io.nodata.choose_nodata`).
    report : callable, optional
        Called with one line per event (a file written or skipped; optics or nodata taken from a
        file).
    warn : callable, optional
        Called with one line per input that failed (default: ``report``).
    progress : callable, optional
        Called with an output's name; returns the callable that takes ``(parts done, parts)`` while
        it is computed and written.

    Returns
    -------
    BatchReport
    """
    say = report or (lambda line: None)
    for folder in {output.path.parent for job in jobs for output in job.outputs}:
        for stale in remove_stale_parts(folder):
            say(f"removed {stale}, left by an interrupted run")
    result = BatchReport()
    for job in jobs:
        for output in job.outputs:
            if output.done:
                result.skipped.append(output.path)
                say(f"{output.path} is complete: skipped")
        if all(output.done for output in job.outputs):
            continue
        try:
            _run_job(job, result, overwrite, nodata, say, progress)
        except Exception as exc:
            if not isinstance(exc, (NSSRError, OSError)) and not _workers_died(exc):
                raise
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if _workers_died(exc):
                message = "the cluster's workers died computing it (out of memory?); run again to resume"
            result.failed.append(Failure(job.source, message))
            (warn or say)(f"{job.source}: failed: {message}")
    return result


def _say_optics(job: BatchJob, say: Callable[[str], None]) -> None:
    """Say which optics the ``psf`` method took from the file, if it took any."""
    settings = job.request.settings
    if job.optics_from_file and isinstance(settings, KnownPSFSettings):
        psf = settings.psf
        say(
            f"{job.source}: optics from the file: NA {psf.numerical_aperture:g}, "
            f"emission {psf.wavelength_um:g} um, immersion {psf.immersion_index:g}, pixel {psf.pixel_um:g} um"
        )


def _run_job(
    job: BatchJob,
    result: BatchReport,
    overwrite: bool,
    nodata: str,
    say: Callable[[str], None],
    progress: Callable[[str], Callable[[int, int], None]] | None,
) -> None:
    """Read one input lazily, then prepare and write each of its pending outputs."""
    import dask.array as da

    _say_optics(job, say)
    image, meta = read_image_file(job.source, lazy=True)
    if not isinstance(image, da.Array):
        image = da.from_array(image, chunks=image.shape)
    value = choose_nodata(nodata, image, meta.nodata, meta.geo is not None, job.request.rgb)
    if value is not None and meta.nodata is None:
        say(f"{job.source}: zero fill at the scene's edges kept as nodata (--nodata none keeps it as data)")
    for output in (o for o in job.outputs if not o.done):
        plan = replace(output.plan, request=replace(output.plan.request, nodata=value))
        if job.guides:
            out_geo = meta.geo.scaled(plan.scale) if meta.geo is not None else None
            shape, name = plan.plane_shapes[1], job.source.name
            bands = guides_on_grid(job.guides.paths, out_geo, shape, name, job.guides.reproject)
            plan = replace(plan, request=replace(plan.request, guides=tuple(bands)))
        bars: list[Callable[[int, int], None]] = []

        def training(step: PrepareProgress, name: str = output.path.name, bars: list = bars) -> None:
            if progress and not bars:  # a bar only for methods that report (ZSSR trains on the image)
                bars.append(progress(f"{name}: training"))
            for bar in bars:
                bar(step.done, step.total)

        prepared = drain(iter_prepare(image, plan), training)
        if prepared.found():
            say(f"{job.source} x{plan.scale[0]:g}: {prepared.found()}")
        sr = apply_lazy(image, plan, prepared)
        out_meta = replace(meta.scaled(plan.scale), nodata=value, provenance=output.provenance)
        write_image(
            output.path,
            sr,
            overwrite=overwrite,
            meta=out_meta,
            progress=progress(output.path.name) if progress else None,
        )
        result.written.append(output.path)
        say(f"{job.source} -> {output.path}  {tuple(image.shape)} -> {tuple(sr.shape)}")
