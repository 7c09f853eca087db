"""OME-Zarr (NGFF) images through ome-zarr: level 0 read lazily, results written as a pyramid.

Reading takes the multiscale image's full-resolution level as a dask array (nothing is read until
computed), its axes, the physical pixel size and origin of its coordinate transformations, and the
optics (objective NA, immersion, emission wavelength) of the OME-XML that bioformats2raw writes
beside the image (``OME/METADATA.ome.xml``); NGFF itself has no place for them.
Writing stores a result with its physical size divided and its origin moved onto the result's
pixel-centre grid (``ImageMeta.scaled``), in chunks computed lazily, with downsampled levels so
that viewers open it quickly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError
from .formats import ImageFormat, ImageHeader, register_format
from .meta import GeoInfo, ImageMeta

ZARR_SUFFIXES = (".zarr",)
# OME-Zarr axis names to tifffile's axis codes (``c`` holds channels or bands)
AXIS_CODES = {"t": "T", "c": "C", "z": "Z", "y": "Y", "x": "X"}
UNIT_NAMES = {"micrometer": "um", "nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "meter": "m"}
UNIT_WORDS = {v: k for k, v in UNIT_NAMES.items()} | {"µm": "micrometer", "metre": "meter"}
CHUNK = 1024  # spatial chunk side of written results
#: the group attribute holding what made a result (``ImageMeta.provenance``)
PROVENANCE_KEY = "napari_nssr"
GEO_KEY = "nssr_geo"  # group attribute holding a GeoTIFF source's CRS, geotransform and nodata
PYRAMID_MIN_SIDE = 512  # downsampled levels are added until the smallest is about this wide
OME_XML_NAME = "METADATA.ome.xml"


def is_ome_zarr(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a Zarr store (a folder ending in ``.zarr``) or a Zarr group inside one
    (``scope.zarr/0``, an image of a bioformats2raw store); a TIFF kept in such a folder is not."""
    here = Path(str(path).rstrip("/"))
    if here.name.lower().endswith(ZARR_SUFFIXES):
        return True
    inside = any(part.lower().endswith(ZARR_SUFFIXES) for part in here.parent.parts)
    return inside and any((here / name).is_file() for name in ("zarr.json", ".zattrs", ".zgroup"))


def read_ome_zarr(path: str | Path) -> tuple[Any, ImageMeta]:
    """The full-resolution level of an OME-Zarr image, lazily, with its metadata.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.zarr`` folder (an image, or a plate/collection whose first image is taken).

    Returns
    -------
    tuple of (dask.array.Array, ImageMeta)
        The pixels (axes as the file orders them) and ``axes``, ``pixel_size``, ``unit``, ``origin``.

    Raises
    ------
    ImageError
        When the folder is not an OME-Zarr image (one line).
    """
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(str(path))
    nodes = [] if location is None else [node for node in Reader(location)() if node.data]
    first_image = Path(path) / "0"
    if not nodes and any((first_image / name).is_file() for name in ("zarr.json", ".zattrs")):
        return read_ome_zarr(first_image)  # a bioformats2raw store: its first image
    if location is None:
        raise ImageError(f"could not read {path}: not a Zarr store")
    if not nodes:
        raise ImageError(f"could not read {path}: it holds no OME-Zarr image")
    node = nodes[0]
    data = node.data[0]
    axes_meta = node.metadata.get("axes") or []
    names = [a["name"] if isinstance(a, dict) else str(a) for a in axes_meta] or list("tczyx"[-data.ndim :])
    axes = "".join(AXIS_CODES.get(n.lower(), "Q") for n in names)
    pixel_size = origin = unit = None
    transforms = (node.metadata.get("coordinateTransformations") or [[]])[0]
    scale = next((t["scale"] for t in transforms if t.get("type") == "scale"), None)
    translation = next((t["translation"] for t in transforms if t.get("type") == "translation"), None)
    if scale is not None and len(scale) == data.ndim:
        pixel_size = (float(scale[-2]), float(scale[-1]))
        spatial_units = [a.get("unit") for a in axes_meta[-2:] if isinstance(a, dict)]
        last = spatial_units[-1] if spatial_units else None
        unit = UNIT_NAMES.get(last, last) if last else None
        origin = (float(translation[-2]), float(translation[-1])) if translation else (0.0, 0.0)
    geo, nodata = None, None
    try:
        import zarr

        stored = zarr.open_group(str(path), mode="r").attrs.get(GEO_KEY)
    except Exception:  # not a plain group (a plate): no georeference of ours
        stored = None
    if isinstance(stored, dict) and stored.get("crs") and stored.get("transform"):
        geo = GeoInfo(crs=str(stored["crs"]), transform=tuple(float(v) for v in stored["transform"]))  # type: ignore[arg-type]
        nodata = stored.get("nodata")
    optics = read_ome_xml_optics(path)
    spacing = None
    if scale is not None and len(scale) == data.ndim and "Z" in axes:
        spacing = float(scale[axes.index("Z")])  # z is never upsampled: its step as written
    return data, ImageMeta(
        axes=axes,
        spacing=spacing,
        pixel_size=pixel_size,
        unit=unit,
        origin=origin,
        geo=geo,
        nodata=nodata,
        ome=True,
        optics=optics,
        provenance=_stored_provenance(path),
    )


def _stored_provenance(path: str | Path) -> str | None:
    """What made a result stored here (the group's ``napari_nssr`` attribute), if anything."""
    try:
        import zarr

        value = zarr.open_group(str(path), mode="r").attrs.get(PROVENANCE_KEY)
    except Exception:  # not a plain group: nothing of ours
        return None
    return value if isinstance(value, str) else None


def _ome_xml_path(path: str | Path) -> Path | None:
    """The OME-XML beside an OME-Zarr image (the bioformats2raw layout: ``OME/METADATA.ome.xml`` in
    the store, whose image may be the store itself or one of its numbered groups)."""
    here = Path(path)
    for folder in (here, here.parent):
        candidate = folder / "OME" / OME_XML_NAME
        if candidate.is_file():
            return candidate
    return None


def read_ome_xml_optics(path: str | Path) -> dict[str, float]:
    """The optics (objective NA, immersion index, emission wavelength in um) the OME-XML beside an
    OME-Zarr image records; empty when it has none (NGFF itself has no place for them)."""
    from .tiff import ome_physics

    xml = _ome_xml_path(path)
    if xml is None:
        return {}
    return ome_physics(xml.read_text(encoding="utf-8", errors="replace"))[2]


def ome_xml_for_optics(optics: dict[str, float]) -> str:
    """A minimal OME-XML document recording ``optics`` (as :func:`read_ome_xml_optics` reads them)."""
    objective = f' LensNA="{optics["numerical_aperture"]}"' if "numerical_aperture" in optics else ""
    setting = (
        f'<ObjectiveSettings ID="Objective:0:0" RefractiveIndex="{optics["immersion_index"]}"/>'
        if "immersion_index" in optics
        else ""
    )
    channel = (
        f' EmissionWavelength="{optics["wavelength_um"] * 1000:g}" EmissionWavelengthUnit="nm"'
        if "wavelength_um" in optics
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        f'<Instrument ID="Instrument:0"><Objective ID="Objective:0:0"{objective}/></Instrument>'
        f'<Image ID="Image:0">{setting}<Pixels ID="Pixels:0" DimensionOrder="XYZCT" Type="float" '
        'SizeX="1" SizeY="1" SizeZ="1" SizeC="1" SizeT="1">'
        f'<Channel ID="Channel:0:0"{channel}/></Pixels></Image></OME>'
    )


def _ome_axes(axes: str, ndim: int) -> list[dict[str, str]]:
    codes = {"T": ("t", "time"), "C": ("c", "channel"), "S": ("c", "channel"), "I": ("c", "channel")}
    codes |= {"Z": ("z", "space"), "Y": ("y", "space"), "X": ("x", "space"), "Q": ("c", "channel")}
    axes = axes if axes and len(axes) == ndim else "TCZYX"[-ndim:]
    return [{"name": codes[a][0], "type": codes[a][1]} for a in axes]


def write_ome_zarr(path: str, image: Any, meta: ImageMeta, progress: Callable[[int, int], None] | None = None) -> None:
    """Write ``image`` (numpy or dask) as an OME-Zarr image with downsampled levels.

    Parameters
    ----------
    path : str
        The ``.zarr`` folder to create.
    image : array-like
        The pixels; colour samples last (``YXS``) are moved first, as OME-Zarr wants.
    meta : ImageMeta
        Axes, pixel size, unit and origin (already scaled for a result).
    progress : callable, optional
        Called with ``(chunks done, chunks)`` of the full-resolution level.
    """
    import dask.array as da
    import zarr
    from ome_zarr.writer import write_image

    axes = meta.axes or ""
    if axes.endswith("S") or (not axes and image.ndim == 3 and image.shape[-1] in (3, 4)):
        image = da.moveaxis(da.asarray(image), -1, 0)
        axes = "C" + (axes[:-1] if axes else "YX")
    ome_axes = _ome_axes(axes, image.ndim)
    names = [a["name"] for a in ome_axes]
    if len(set(names)) != len(names):
        raise ImageError(f"cannot write axes {axes!r} to OME-Zarr: two map to the same name")
    chunks = tuple(1 for _ in range(image.ndim - 2)) + (CHUNK, CHUNK)
    image = da.asarray(image).rechunk(chunks)
    kwargs: dict[str, Any] = {}
    if meta.pixel_size is not None:
        kwargs["scale"] = {"y": meta.pixel_size[0], "x": meta.pixel_size[1]}
        if meta.spacing and "z" in names:
            kwargs["scale"]["z"] = meta.spacing
        word = UNIT_WORDS.get(meta.unit or "", meta.unit)
        if word in UNIT_NAMES:
            kwargs["axes_units"] = {"y": word, "x": word}
    group = zarr.open_group(path, mode="w")
    # level 0 alone first, computed chunk by chunk straight to disk; each coarser level is then
    # averaged from the one below as written (the result is never computed twice or held whole)
    with _progress_callback(progress):
        write_image(image, group, scale_factors=(), axes=ome_axes, storage_options={"chunks": chunks}, **kwargs)
    level = da.from_zarr(group.store, component="s0")
    paths = ["s0"]
    while min(level.shape[-2:]) // 2 >= PYRAMID_MIN_SIDE:
        coarse = da.coarsen(np.mean, level, {image.ndim - 2: 2, image.ndim - 1: 2}, trim_excess=True)
        if np.dtype(image.dtype).kind in "ui":
            coarse = da.round(coarse)
        path_k = f"s{len(paths)}"
        da.to_zarr(coarse.astype(image.dtype).rechunk(chunks), group.store, component=path_k, overwrite=True)
        paths.append(path_k)
        level = da.from_zarr(group.store, component=path_k)
    _set_levels(group, paths, meta.origin if meta.pixel_size is not None else None, image.ndim)
    if meta.geo is not None:  # OME-Zarr has no georeference of its own: kept beside it, not lost
        group.attrs[GEO_KEY] = {"crs": meta.geo.crs, "transform": list(meta.geo.transform), "nodata": meta.nodata}
    if meta.provenance:
        group.attrs[PROVENANCE_KEY] = meta.provenance
    if meta.optics:  # nor a place for optics: kept where bioformats2raw puts the OME-XML
        folder = Path(path) / "OME"
        folder.mkdir(exist_ok=True)
        (folder / OME_XML_NAME).write_text(ome_xml_for_optics(meta.optics), encoding="utf-8")


def _progress_callback(progress: Callable[[int, int], None] | None) -> Any:
    """A dask local-scheduler callback reporting ``(tasks done, tasks)``, or a null context."""
    from contextlib import nullcontext

    if progress is None:
        return nullcontext()
    from dask.callbacks import Callback

    report = progress

    class _Progress(Callback):
        def _start_state(self, dsk: Any, state: Any) -> None:
            self.total = max(1, len(state["ready"]) + len(state["waiting"]))

        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            report(len(state["finished"]), self.total)

    return _Progress()


def _set_levels(group: Any, paths: list[str], origin: tuple[float, float] | None, ndim: int) -> None:
    """List the levels in the multiscale metadata: level ``k`` has pixels ``2**k`` times level 0's,
    whose centres sit ``(2**k - 1) / 2`` level-0 pixels further; all moved by ``origin``."""
    attrs = group.attrs.asdict()
    ome = attrs.get("ome", attrs)
    multiscale = ome["multiscales"][0]
    base = multiscale["datasets"][0]["coordinateTransformations"]
    scale0 = next(t["scale"] for t in base if t.get("type") == "scale")
    shift = list(origin) if origin is not None else [0.0, 0.0]
    datasets = []
    for k, path in enumerate(paths):
        factor = [1.0] * (ndim - 2) + [2.0**k, 2.0**k]
        scale = [s * f for s, f in zip(scale0, factor)]
        translation = [0.0] * (ndim - 2) + [shift[i] + (2.0**k - 1) / 2 * scale0[ndim - 2 + i] for i in range(2)]
        datasets.append(
            {
                "path": path,
                "coordinateTransformations": [
                    {"type": "scale", "scale": scale},
                    {"type": "translation", "translation": translation},
                ],
            }
        )
    multiscale["datasets"] = datasets
    group.attrs.update(attrs)


@register_format
class OmeZarrFormat(ImageFormat):
    """OME-Zarr (NGFF): read lazily at full resolution, written with a pyramid."""

    records_provenance = True
    name = "zarr"
    summary = "OME-Zarr"
    suffixes = ZARR_SUFFIXES
    folder = True
    napari_reader = True

    def sniff(self, path: str | os.PathLike[str]) -> bool:
        """A ``.zarr`` folder, or a Zarr group inside one (an image of a bioformats2raw store)."""
        return is_ome_zarr(path)

    def matched_length(self, path: str | os.PathLike[str]) -> int:
        """A group inside a store matches by its store's suffix."""
        return len(ZARR_SUFFIXES[0]) if self.sniff(path) else 0

    def read_header(self, path: Path) -> ImageHeader:
        """The full-resolution level's shape and dtype, and the metadata (nothing decoded)."""
        data, meta = read_ome_zarr(path)
        return ImageHeader(tuple(data.shape), np.dtype(data.dtype), meta)

    def read(self, path: Path, header: ImageHeader, lazy: bool | None) -> tuple[Any, ImageMeta]:
        """Level 0, lazily unless ``lazy`` is ``False``."""
        data, meta = read_ome_zarr(path)
        return (data if lazy is not False else np.asarray(data)), meta

    def check_writable(self, dtype: np.dtype, shape: tuple[int, ...], meta: ImageMeta) -> None:
        """Any numeric image, of any axes the readers give."""

    def write(self, path: str, image: Any, meta: ImageMeta, progress: Callable[[int, int], None] | None) -> None:
        """Level 0 chunk by chunk, then the coarser levels (:func:`write_ome_zarr`)."""
        write_ome_zarr(path, image, meta, progress)
