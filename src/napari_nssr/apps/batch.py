"""Super-resolving files in a batch: everything is checked before anything is computed.

:func:`plan_batch` reads each input's header (shape, dtype, axes, calibration, georeference) and
checks every input, scale, format and output: inputs given twice, scales given twice, unreadable
or mixed-shape files, a format that cannot hold the result, outputs that are folders, that would
overwrite an input or another output, or that exist, results too big for memory, and, for
floating-point inputs, NaN or values too close to their type's limit. Only then does
:func:`run_batch` compute: each input is read once, super-resolved at every scale, its results
written (atomically, with its metadata scaled) and freed before the next input is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..core.errors import ImageError, OutputExistsError, SettingsError
from ..core.layout import check_scale, check_strength
from ..engine.api import super_resolve
from ..engine.tiles import Plan, check_memory, plan, working_dtype
from ..io.files import remove_stale_parts
from ..io.images import OME_SUFFIXES, ImageHeader, check_writable, read_header, read_image_file, write_image
from ..methods.base import MethodSettings
from ..methods.known_psf import KnownPSFSettings
from ..methods.psf import with_optics

JPEG_LIKE = {".jpg", ".jpeg", ".bmp"}  # written as PNG: no second lossy step


@dataclass(frozen=True)
class Output:
    """One result to write: its scale, the checked call and where it goes."""

    scale: float
    checked: Plan
    path: Path


@dataclass(frozen=True)
class BatchJob:
    """One input with its header, its outputs, and its method (with the file's optics, if any)."""

    source: Path
    header: ImageHeader
    rgb: bool | None
    outputs: tuple[Output, ...]
    method: MethodSettings | None = None


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
    fmt : {"same", "tif", "png"}
        Output format; ``same`` keeps the input's, JPEG inputs become PNG.

    Returns
    -------
    pathlib.Path
    """
    stem, suffix = src.stem, src.suffix.lower()
    if src.name.lower().endswith(OME_SUFFIXES):  # an OME-TIFF stays one: name.ome.tif
        stem, suffix = src.name[: -len(next(s for s in OME_SUFFIXES if src.name.lower().endswith(s)))], ".ome.tif"
    if fmt != "same":
        suffix = "." + fmt
    if suffix in JPEG_LIKE:
        suffix = ".png"
    folder = out_dir if out_dir is not None else src.parent
    return folder / f"{stem}_x{scale:g}_nssr{suffix}"


def _duplicates(items: Sequence[Any]) -> list[Any]:
    seen, repeated = set(), []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated


def plan_batch(
    inputs: Sequence[str | Path],
    scales: Sequence[float],
    *,
    out_dir: str | Path | None = None,
    fmt: str = "same",
    strength: float = 1.0,
    rgb: bool | None = None,
    overwrite: bool = False,
    method: MethodSettings | None = None,
    keep: frozenset[str] = frozenset(),
) -> list[BatchJob]:
    """Check a whole batch before any work and list what it will write.

    Parameters
    ----------
    inputs : sequence of path
        Image files.
    scales : sequence of float
        Factors; each input is written at each.
    out_dir : path, optional
        Folder for all results (default: beside each input).
    fmt : {"same", "tif", "png"}
        Output format.
    strength : float
        As for :func:`~napari_nssr.engine.api.super_resolve`.
    rgb : bool or None
        Whether the last axis is colour; ``None`` asks the file's axes, then guesses.
    overwrite : bool
        Replace existing outputs (never an input).
    method : MethodSettings, optional
        The method; the ``psf`` method takes each file's recorded optics as defaults.
    keep : frozenset of str
        PSF fields set by the user, never taken from a file.

    Returns
    -------
    list of BatchJob

    Raises
    ------
    NSSRError or OSError
        The first problem found, in one line, before anything is computed or written.
    """
    paths = [Path(p) for p in inputs]
    if not paths:
        raise SettingsError("no input images given")
    twice = _duplicates([p.resolve() for p in paths])
    if twice:
        raise SettingsError(f"{twice[0]} is given twice")
    pairs = [check_scale(s) for s in scales]
    repeated = _duplicates([round(pair[0], 9) for pair in pairs])
    if repeated:
        raise SettingsError(f"scale {repeated[0]:g} is given twice")
    check_strength(strength)
    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ImageError(f"the output folder {folder} is a file")
    resolved_inputs = {p.resolve(): p for p in paths}
    targets: dict[Path, Path] = {}
    jobs = []
    for src in paths:
        header = read_header(src)
        layout_rgb = rgb if rgb is not None else header.meta.rgb
        shaped = SimpleNamespace(shape=header.shape, dtype=header.dtype)
        outputs = []
        for scale in scales:
            checked = plan(shaped, scale, strength, layout_rgb)
            check_memory(checked, header.dtype)
            dst = output_path(src, scale, folder, fmt)
            check_writable(dst, header.dtype, checked.shape)
            key = dst.resolve()
            if key in resolved_inputs:
                raise OutputExistsError(f"refusing to write {dst}: it is one of the inputs")
            if key in targets:
                raise OutputExistsError(
                    f"{targets[key]} and {src} would both be written to {dst}; give them separate output folders"
                )
            if dst.is_dir():
                raise ImageError(f"cannot write {dst}: it is a folder")
            if dst.exists() and not overwrite:
                raise OutputExistsError(f"{dst} exists; pass --overwrite to replace it")
            targets[key] = src
            outputs.append(Output(float(scale), checked, dst))
        own = None if method is None else with_file_optics(method, header, keep)
        jobs.append(BatchJob(src, header, layout_rgb, tuple(outputs), own))
    for job in jobs:
        if job.header.dtype.kind == "f":  # only floating-point data can hold NaN: read it, check it, free it
            data, _ = read_image_file(job.source)
            _check_float_values(job.source, data)
            del data
    return jobs


def _check_float_values(source: Path, data: np.ndarray) -> None:
    if not np.isfinite(data).all():
        raise ImageError(f"{source} contains NaN or infinite values; replace them before super-resolving")
    try:
        working_dtype(data.dtype, data)
    except ImageError as exc:
        raise ImageError(f"{source}: {exc}") from None


def with_file_optics(method: MethodSettings, header: ImageHeader, keep: frozenset[str]) -> MethodSettings:
    """The ``psf`` method's settings with the optics ``header``'s file records, except ``keep``
    (the PSF fields set on the command line); any other method unchanged."""
    if not isinstance(method, KnownPSFSettings):
        return method
    psf = with_optics(method.psf, header.meta.optics, header.meta.pixel_size_um, keep)
    return method if psf == method.psf else replace(method, psf=psf)


def run_batch(
    jobs: Sequence[BatchJob],
    method: MethodSettings,
    *,
    strength: float = 1.0,
    device: str = "auto",
    overwrite: bool = False,
    report: Callable[[str], None] | None = None,
) -> int:
    """Compute and write a planned batch: each input read once and freed once its results are written.

    Parameters
    ----------
    jobs : sequence of BatchJob
        From :func:`plan_batch`.
    method : MethodSettings
        The method and its settings.
    strength, device
        As for :func:`~napari_nssr.engine.api.super_resolve`.
    overwrite : bool
        Replace existing outputs (as planned).
    report : callable, optional
        Called with one line per written file.

    Returns
    -------
    int
        The number of files written.
    """
    for folder in {output.path.parent for job in jobs for output in job.outputs}:
        for stale in remove_stale_parts(folder):
            if report:
                report(f"removed {stale}, left by an interrupted run")
    written = 0
    for job in jobs:
        settings = job.method or method
        if report and settings is not method and isinstance(settings, KnownPSFSettings):
            psf = settings.psf
            report(
                f"{job.source}: optics from the file: NA {psf.numerical_aperture:g}, "
                f"emission {psf.wavelength_um:g} um, immersion {psf.immersion_index:g}, pixel {psf.pixel_um:g} um"
            )
        image, meta = read_image_file(job.source)
        for output in job.outputs:
            result = super_resolve(image, output.scale, settings, strength=strength, rgb=job.rgb, device=device)
            write_image(output.path, result, overwrite=overwrite, meta=meta.scaled(output.checked.scale))
            written += 1
            if report:
                report(f"{job.source} -> {output.path}  {tuple(image.shape)} -> {tuple(result.shape)}")
        del image  # freed before the next input is read
    return written
