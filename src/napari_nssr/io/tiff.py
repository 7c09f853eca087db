"""TIFF pixels and metadata through tifffile (with imagecodecs: LZW, deflate, zstd, JPEG, ...).

Reading keeps what a super-resolved copy must keep (:class:`~.meta.ImageMeta`):
- every page: several same-shaped images become one stack; images of different shapes are refused
  (napari-nssr never keeps the first and drops the rest);
- its axes (ImageJ hyperstacks' ``TZCYX``, colour samples ``S``), so colour is not guessed;
- its calibration: the pixel size from the resolution tags (and ImageJ's unit and z spacing);
- an OME-TIFF's physical pixel size and the optics it records (objective NA, immersion, emission
  wavelength), which the ``psf`` method offers as defaults; OME-TIFF results record them again
  (:func:`ome_xml_with_optics`: tifffile's OME writer has no Instrument).

A large TIFF is read lazily: a dask array whose chunks are the file's own tiles or strips, each
read when needed by any process (:class:`TiffSource` holds only the path, so it travels to
``dask.distributed`` workers). Results are written whole, or, when lazy, as a tiled TIFF a strip
of tile rows at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..core.errors import ImageError
from ..core.layout import looks_rgb
from .formats import ImageFormat, ImageHeader, register_format
from .meta import LENGTH_IN_UM, ImageMeta

RESOLUTION_UNITS = {2: "inch", 3: "cm"}
IMMERSION_INDEX = {"Oil": 1.515, "Water": 1.333, "WaterDipping": 1.333, "Glycerol": 1.47, "Air": 1.0}
# lossless compressions a result keeps from its source (others, like JPEG, are not kept)
KEPT_COMPRESSIONS = {5: "lzw", 8: "deflate", 32946: "deflate", 50000: "zstd", 32773: "packbits"}
TILE = 256  # tile side of lazily written TIFFs


def tiff_meta(tif: Any, axes: str) -> ImageMeta:
    """The metadata of an open ``tifffile.TiffFile`` whose series has ``axes``."""
    page = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
    tags = page.tags
    unit: str | None = None
    pixel_size: tuple[float, float] | None = None
    imagej = bool(tif.is_imagej)
    ij = tif.imagej_metadata or {} if imagej else {}
    if "XResolution" in tags and "YResolution" in tags:
        (xn, xd), (yn, yd) = tags["XResolution"].value, tags["YResolution"].value
        unit_code = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else 2
        unit = ij.get("unit") or RESOLUTION_UNITS.get(int(unit_code))
        calibrated = unit is not None and xn > 0 and yn > 0 and not (xn == xd and yn == yd and not ij.get("unit"))
        if calibrated:
            pixel_size = (yd / yn, xd / xn)
    spacing = ij.get("spacing")
    nodata = None
    if 42113 in tags:  # GDAL_NODATA, an ASCII number
        try:
            nodata = float(str(tags[42113].value).strip("\x00 "))
        except ValueError:
            nodata = None
    meta = ImageMeta(
        axes=axes,
        pixel_size=pixel_size if pixel_size is not None else None,
        unit=unit if pixel_size is not None else None,
        imagej=imagej,
        spacing=float(spacing) if spacing else None,
        nodata=nodata,
        compression=KEPT_COMPRESSIONS.get(int(page.compression)),
        provenance=_provenance(tags),
    )
    if tif.is_ome and tif.ome_metadata:
        from dataclasses import replace

        size, size_unit, optics = ome_physics(tif.ome_metadata)
        meta = replace(meta, ome=True, optics=optics)
        if size is not None:
            meta = replace(meta, pixel_size=size, unit=size_unit)
        spacing = ome_z_spacing(tif.ome_metadata, meta.unit)
        if spacing is not None:
            meta = replace(meta, spacing=spacing)
    return meta


def _provenance(tags: Any) -> str | None:
    """What made a result: the private tag tifffile wrote (a GeoTIFF's, in GDAL's metadata, is read
    with rasterio: :func:`_georeferenced`)."""
    if PROVENANCE_TAG in tags:
        return str(tags[PROVENANCE_TAG].value).strip("\x00 ") or None
    return None


def ome_physics(xml: str) -> tuple[tuple[float, float] | None, str | None, dict[str, float]]:
    """Physical pixel size ``(y, x)`` with its unit, and the optics, from OME-XML (first image)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None, None, {}

    def find(tag: str) -> Any:
        return next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == tag), None)

    optics: dict[str, float] = {}
    pixels, objective, settings, channel = find("Pixels"), find("Objective"), find("ObjectiveSettings"), find("Channel")
    if objective is not None and objective.get("LensNA"):
        optics["numerical_aperture"] = float(objective.get("LensNA"))
    if settings is not None and settings.get("RefractiveIndex"):
        optics["immersion_index"] = float(settings.get("RefractiveIndex"))
    elif objective is not None and objective.get("Immersion") in IMMERSION_INDEX:
        optics["immersion_index"] = IMMERSION_INDEX[objective.get("Immersion")]
    if channel is not None and channel.get("EmissionWavelength"):
        unit = channel.get("EmissionWavelengthUnit", "nm")
        optics["wavelength_um"] = float(channel.get("EmissionWavelength")) * LENGTH_IN_UM.get(unit, 1e-3)
    size = None
    size_unit = None
    if pixels is not None and pixels.get("PhysicalSizeX") and pixels.get("PhysicalSizeY"):
        size_unit = pixels.get("PhysicalSizeXUnit", "µm")
        size = (float(pixels.get("PhysicalSizeY")), float(pixels.get("PhysicalSizeX")))
    return size, size_unit, optics


def ome_z_spacing(xml: str, unit: str | None) -> float | None:
    """The OME-XML's ``PhysicalSizeZ`` (first image) in ``unit`` (the in-plane sizes' unit), if it has one."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    pixels = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None or not pixels.get("PhysicalSizeZ"):
        return None
    z = float(pixels.get("PhysicalSizeZ", "1"))
    z_unit = pixels.get("PhysicalSizeZUnit", "µm")
    if unit and z_unit != unit and z_unit in LENGTH_IN_UM and unit in LENGTH_IN_UM:
        z *= LENGTH_IN_UM[z_unit] / LENGTH_IN_UM[unit]
    return z


OME_NAMESPACE = "http://www.openmicroscopy.org/Schemas/OME/2016-06"


def ome_xml_with_optics(xml: str, optics: dict[str, float]) -> str:
    """``xml`` (an OME-XML document, as tifffile writes it) recording ``optics`` where
    :func:`ome_physics` reads them: an Instrument with its Objective (``LensNA``) referenced by every
    Image with ObjectiveSettings (``RefractiveIndex``), and each Channel's ``EmissionWavelength`` in
    nm (tifffile's OME writer has no Instrument). Attributes already there are kept; OME's element
    order is respected."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", OME_NAMESPACE)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = ET.fromstring(xml)

    def tag(name: str) -> str:
        return f"{{{OME_NAMESPACE}}}{name}"

    images = root.findall(tag("Image"))
    if not images:
        return xml
    if ("numerical_aperture" in optics or "immersion_index" in optics) and root.find(tag("Instrument")) is None:
        instrument = ET.Element(tag("Instrument"), {"ID": "Instrument:0"})
        objective = ET.SubElement(instrument, tag("Objective"), {"ID": "Objective:0:0"})
        if "numerical_aperture" in optics:
            objective.set("LensNA", f"{optics['numerical_aperture']:g}")
        root.insert(list(root).index(images[0]), instrument)  # OME's order: Instrument before Image
        for image in images:
            # an Image's order: ..., InstrumentRef, ObjectiveSettings, ..., Pixels
            pixels = image.find(tag("Pixels"))
            at = list(image).index(pixels) if pixels is not None else len(image)
            settings = ET.Element(tag("ObjectiveSettings"), {"ID": "Objective:0:0"})
            if "immersion_index" in optics:
                settings.set("RefractiveIndex", f"{optics['immersion_index']:g}")
            image.insert(at, settings)
            image.insert(at, ET.Element(tag("InstrumentRef"), {"ID": "Instrument:0"}))
    if "wavelength_um" in optics:
        for channel in root.iter(tag("Channel")):
            if channel.get("EmissionWavelength") is None:
                channel.set("EmissionWavelength", f"{optics['wavelength_um'] * 1000:g}")
                channel.set("EmissionWavelengthUnit", "nm")
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def tiff_series(tif: Any, path: Path) -> tuple[tuple[int, ...], np.dtype, str, list[Any]]:
    """The one image a TIFF holds: shape, dtype, axes and its series (several same-shaped series
    stack along a new leading ``I`` axis; different shapes are refused)."""
    series = list(tif.series)
    if not series:
        raise ImageError(f"could not read {path}: it holds no image")
    shapes = {(tuple(s.shape), np.dtype(s.dtype)) for s in series}
    if len(shapes) > 1:
        listed = ", ".join(f"{'x'.join(map(str, s.shape))} {s.dtype}" for s in series)
        raise ImageError(
            f"{path} holds {len(series)} images of different shapes or types ({listed}); "
            "split it into one file per shape"
        )
    first = series[0]
    shape, axes = tuple(first.shape), str(first.axes)
    if len(series) > 1:  # several same-shaped images (pages written one by one): one stack
        shape, axes = (len(series), *shape), "I" + axes
    return shape, np.dtype(first.dtype), axes, series


def read_tiff_pixels(path: Path) -> np.ndarray:
    """Every page of a TIFF, decoded, in its stored dtype and :func:`tiff_series`'s shape."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        shape, _, _, series = tiff_series(tif, path)
        data = np.stack([s.asarray() for s in series]) if len(series) > 1 else series[0].asarray()
        return np.asarray(data).reshape(shape)


_OPEN_LOCK = threading.Lock()


@lru_cache(maxsize=16)
def _open_series(path: str, series: int, mtime: float) -> Any:
    """An open zarr view of one series (cached per process: parsing a file's pages once)."""
    import tifffile
    import zarr

    store = tifffile.imread(path, aszarr=True, series=series)
    return zarr.open(store, mode="r")


class TiffSource:
    """A TIFF series as a read-only array: indexing reads only the tiles or strips it touches.

    Only the path travels when pickled (to a ``dask.distributed`` worker); each process opens
    the file once and keeps it open.

    Parameters
    ----------
    path : str
        The file.
    series : int
        Which series.
    shape : tuple of int
        The series' shape.
    dtype : numpy.dtype
        Its dtype.
    chunks : tuple of int
        The file's own chunking (tiles or strips), for dask.
    """

    def __init__(self, path: str, series: int, shape: tuple[int, ...], dtype: np.dtype, chunks: tuple[int, ...]):
        self.path, self.series, self.shape, self.dtype, self.chunks = path, series, shape, np.dtype(dtype), chunks
        self.ndim = len(shape)
        self.mtime = os.stat(path).st_mtime

    def __getitem__(self, key: Any) -> np.ndarray:
        try:
            with _OPEN_LOCK:
                array = _open_series(self.path, self.series, self.mtime)
            return np.asarray(array[key])
        except ImageError:
            raise
        except Exception as exc:  # a damaged strip or tile: tifffile's and imagecodecs' errors, reshapes
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ImageError(f"could not read {self.path}: {text}") from exc


def read_tiff_lazy(path: Path, chunk_side: int = 1024) -> Any:
    """A TIFF as a dask array read on demand (same shape as :func:`read_tiff_pixels`).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    chunk_side : int
        Spatial chunk side (a multiple of the file's tiles where it has tiles).

    Returns
    -------
    dask.array.Array
    """
    import dask.array as da
    import tifffile

    with tifffile.TiffFile(path) as tif:
        shape, dtype, axes, series = tiff_series(tif, path)
        count = len(series)
        series_shape = tuple(series[0].shape)
    spatial = 3 if axes.endswith("S") else 2
    chunks = tuple(
        [1] * (len(series_shape) - spatial) + [chunk_side] * 2 + ([series_shape[-1]] if spatial == 3 else [])
    )
    chunks = tuple(min(c, n) for c, n in zip(chunks, series_shape))
    parts = [
        da.from_array(TiffSource(str(path), k, series_shape, dtype, chunks), chunks=chunks, asarray=False, lock=False)
        for k in range(count)
    ]
    return da.stack(parts) if count > 1 else parts[0]


#: the private TIFF tag (reusable range) holding what made a result (``ImageMeta.provenance``)
PROVENANCE_TAG = 65421


def tiff_options(shape: tuple[int, ...], meta: ImageMeta, ome: bool) -> dict[str, Any]:
    """tifffile ``imwrite`` options that carry ``meta`` (calibration, axes, OME sizes, provenance)."""
    options = _layout_options(shape, meta, ome)
    if meta.provenance:
        options["extratags"] = [*options.get("extratags", []), (PROVENANCE_TAG, 2, 0, meta.provenance, True)]
    return options


def _layout_options(shape: tuple[int, ...], meta: ImageMeta, ome: bool) -> dict[str, Any]:
    rgb = meta.rgb if meta.rgb is not None else (len(shape) == 3 and looks_rgb(shape))
    options: dict[str, Any] = {"photometric": "rgb" if rgb else "minisblack"}
    if meta.compression in ("lzw", "deflate", "zstd", "packbits"):
        options["compression"] = {"deflate": "adobe_deflate"}.get(meta.compression, meta.compression)
    if ome:  # OME-XML carries the physical size in its own unit
        ome_meta: dict[str, Any] = {"axes": meta.axes or ("YXS" if rgb else None)}
        if meta.pixel_size is not None:
            unit = meta.unit if meta.unit in LENGTH_IN_UM else "µm"
            ome_meta.update(
                PhysicalSizeY=meta.pixel_size[0],
                PhysicalSizeYUnit=unit,
                PhysicalSizeX=meta.pixel_size[1],
                PhysicalSizeXUnit=unit,
            )
            if meta.spacing and "Z" in (meta.axes or ""):  # z is not upsampled: its size stays
                ome_meta.update(PhysicalSizeZ=meta.spacing, PhysicalSizeZUnit=unit)
        options.update(ome=True, metadata={k: v for k, v in ome_meta.items() if v is not None})
        return options
    if meta.pixel_size is not None:
        options["resolution"] = (1.0 / meta.pixel_size[1], 1.0 / meta.pixel_size[0])
    if meta.imagej and meta.axes:
        ij: dict[str, Any] = {"axes": meta.axes.replace("I", "Z") if "Z" not in meta.axes else meta.axes}
        if meta.unit:
            ij["unit"] = meta.unit
        if meta.spacing:
            ij["spacing"] = meta.spacing
        options.update(imagej=True, metadata=ij)
        options.pop("compression", None)  # ImageJ reads uncompressed hyperstacks only
        return options
    if meta.pixel_size is not None:
        code = {v: k for k, v in RESOLUTION_UNITS.items()}.get(meta.unit or "", 1)
        options["resolutionunit"] = code
    if meta.axes:
        options["metadata"] = {"axes": meta.axes}
    if meta.nodata is not None:
        options["extratags"] = [(42113, 2, 0, f"{meta.nodata:g}", True)]
    return options


def _tiles(image: Any, strip_rows: int, progress: Callable[[int, int], None] | None) -> Iterator[np.ndarray]:
    """The tiles of every plane of ``image`` in TIFF order, computing a strip of rows at a time."""
    rgb_tail = image.shape[-1:] if image.ndim >= 3 and looks_rgb(image.shape) else ()
    spatial = image.ndim - len(rgb_tail) - 2
    rows, cols = image.shape[spatial], image.shape[spatial + 1]
    leading = list(np.ndindex(*image.shape[:spatial])) or [()]
    strip_rows = max(TILE, strip_rows // TILE * TILE)
    total = len(leading) * -(-rows // strip_rows)
    done = 0
    for index in leading:
        for start in range(0, rows, strip_rows):
            strip = np.asarray(image[index + (slice(start, min(start + strip_rows, rows)),)])
            done += 1
            if progress:  # computed; tifffile takes its tiles next (and may not ask past the last)
                progress(done, total)
            for r in range(0, strip.shape[0], TILE):
                for c in range(0, cols, TILE):
                    tile = strip[r : r + TILE, c : c + TILE]
                    if tile.shape[:2] != (TILE, TILE):  # edge tiles are padded to the full tile
                        padded = np.zeros((TILE, TILE, *rgb_tail), strip.dtype)
                        padded[: tile.shape[0], : tile.shape[1]] = tile
                        tile = padded
                    yield tile


def _pages(image: Any, progress: Callable[[int, int], None] | None) -> Iterator[np.ndarray]:
    """Every 2D page (or colour page) of ``image`` in TIFF order, computed one at a time."""
    rgb_tail = 1 if image.ndim >= 3 and looks_rgb(image.shape) else 0
    leading = list(np.ndindex(*image.shape[: image.ndim - 2 - rgb_tail])) or [()]
    for k, index in enumerate(leading):
        page = np.asarray(image[index])
        if progress:
            progress(k + 1, len(leading))
        yield page


def write_tiff(
    path: str,
    image: Any,
    meta: ImageMeta,
    ome: bool,
    lazy: bool,
    progress: Callable[[int, int], None] | None = None,
    strip_rows: int = 1024,
) -> None:
    """Write ``image`` as a TIFF with ``meta``; a lazy (dask) image as tiles, a strip at a time.

    Parameters
    ----------
    path : str
        The file to create.
    image : array-like
        numpy, or dask when ``lazy``.
    meta : ImageMeta
        What to record (already scaled for a result).
    ome : bool
        Write an OME-TIFF.
    lazy : bool
        Compute and write a strip of ``strip_rows`` at a time (memory stays bounded).
    progress : callable, optional
        Called with ``(strips done, strips)``.
    strip_rows : int
        Rows computed at a time (rounded to whole tiles).
    """
    import tifffile

    options = tiff_options(tuple(image.shape), meta, ome)
    _write_pixels(path, image, options, lazy, progress, strip_rows)
    if ome and meta.optics:  # tifffile's OME writer has no place for them: recorded after
        with tifffile.TiffFile(path) as tif:
            xml = tif.pages[0].description
        tifffile.tiffcomment(path, comment=ome_xml_with_optics(xml, meta.optics).encode("utf-8"))


def _write_pixels(
    path: str,
    image: Any,
    options: dict[str, Any],
    lazy: bool,
    progress: Callable[[int, int], None] | None,
    strip_rows: int,
) -> None:
    import tifffile

    size = int(np.prod(image.shape)) * np.dtype(image.dtype).itemsize
    big = size > 2**32 - 2**25  # classic TIFF offsets are 32-bit
    if not lazy:
        tifffile.imwrite(path, np.asarray(image), bigtiff=big, **options)
        if progress:
            progress(1, 1)
        return
    rgb_tail = 1 if image.ndim >= 3 and looks_rgb(image.shape) else 0
    rows, cols = image.shape[image.ndim - 2 - rgb_tail], image.shape[image.ndim - 1 - rgb_tail]
    # ImageJ reads contiguous pages only, and planes narrower than a tile have no tiles: a page at a time
    if options.get("imagej") or rows < TILE or cols < TILE:
        tifffile.imwrite(
            path, _pages(image, progress), shape=tuple(image.shape), dtype=np.dtype(image.dtype), **options
        )
        return
    tifffile.imwrite(
        path,
        _tiles(image, strip_rows, progress),
        shape=tuple(image.shape),
        dtype=np.dtype(image.dtype),
        tile=(TILE, TILE),
        bigtiff=big,
        **options,
    )


GEO_KEY_TAGS = (33550, 33922, 34264, 34735)  # pixel scale, tie points, transformation, geokeys
#: TIFFs larger than this (decoded) are read lazily when the caller lets the size decide
LAZY_BYTES = 512 * 2**20
#: lazy results larger than this are written tile by tile (smaller: computed whole)
STREAM_BYTES = 64 * 2**20


def _has_geokeys(tif: Any) -> bool:
    page = tif.pages.first if hasattr(tif.pages, "first") else tif.pages[0]
    return any(code in page.tags for code in GEO_KEY_TAGS)


def _georeferenced(path: Path, meta: ImageMeta) -> tuple[ImageMeta, bool]:
    """``meta`` with a GeoTIFF's georeference and nodata (rasterio), and whether its bands must move
    first (``YXS`` samples that are not red, green, blue: ``CYX`` bands)."""
    from dataclasses import replace

    from .geotiff import raster_info

    info = raster_info(path)
    if info.geo is None:
        return meta, False
    import rasterio

    with rasterio.open(path) as dataset:
        made_by = dataset.tags().get("NAPARI_NSSR")
    meta = replace(
        meta,
        geo=info.geo,
        provenance=made_by or meta.provenance,
        nodata=info.nodata if info.nodata is not None else meta.nodata,
        pixel_size=info.geo.pixel_size if info.geo.north_up else meta.pixel_size,
        unit=info.geo.units if info.geo.north_up else meta.unit,
    )
    axes = meta.axes or ""
    if axes.endswith("S") and not info.colour:
        return replace(meta, axes="C" + axes[:-1]), True
    if axes.startswith("S"):
        return replace(meta, axes="C" + axes[1:]), False
    return meta, False


def _is_lazy(image: Any) -> bool:
    import dask.array as da

    return isinstance(image, da.Array)


@register_format
class TiffFormat(ImageFormat):
    """TIFF (any compression imagecodecs decodes), ImageJ hyperstacks, and GeoTIFF with its georeference."""

    records_provenance = True
    name = "tif"
    summary = "TIFF"
    suffixes = (".tif", ".tiff")
    napari_reader = True
    #: results are written with an OME-XML
    ome: ClassVar[bool] = False

    def read_header(self, path: Path) -> ImageHeader:
        """Shape, dtype, axes, calibration, OME optics and georeference (tifffile, rasterio)."""
        import tifffile

        with tifffile.TiffFile(path) as tif:
            shape, dtype, axes, _ = tiff_series(tif, path)
            meta = tiff_meta(tif, axes)
            geo = _has_geokeys(tif)
        move = False
        if geo:
            meta, move = _georeferenced(path, meta)
        elif axes.endswith("C") and len(shape) >= 3:
            # channels stored last without colour (YXC, minisblack): the image is CYX, or its last axis
            # would be upsampled as if it were one of the plane's
            from dataclasses import replace

            meta, move = replace(meta, axes="C" + axes[:-1]), True
        shape = (shape[-1], *shape[:-1]) if move else shape
        return ImageHeader(shape, dtype, meta, channels_moved=move)

    def read(self, path: Path, header: ImageHeader, lazy: bool | None) -> tuple[Any, ImageMeta]:
        """Every page; lazily (tile by tile) when asked or when larger than :data:`LAZY_BYTES`."""
        size = int(np.prod(header.shape)) * header.dtype.itemsize
        if lazy or (lazy is None and size > LAZY_BYTES):
            import dask.array as da

            data = read_tiff_lazy(path)
            moved = da.moveaxis(data, -1, 0) if header.channels_moved else data  # bands first
            return moved, header.meta
        pixels = read_tiff_pixels(path)
        return (np.moveaxis(pixels, -1, 0) if header.channels_moved else pixels), header.meta

    def check_writable(self, dtype: np.dtype, shape: tuple[int, ...], meta: ImageMeta) -> None:
        """Any numeric image; a georeferenced one as bands of 2D planes."""
        if meta.geo is not None and not self.ome and len(shape) > 3:
            raise ImageError(f"a GeoTIFF holds bands of 2D planes, this image has shape {shape}; write a .zarr instead")

    def write(self, path: str, image: Any, meta: ImageMeta, progress: Callable[[int, int], None] | None) -> None:
        """A GeoTIFF (rasterio) for a georeferenced image, else a TIFF; a large lazy image a strip
        of tiles at a time."""
        if meta.geo is not None and not self.ome:
            from .geotiff import write_geotiff

            write_geotiff(
                path,
                image,
                meta.geo,
                meta.nodata,
                bool(meta.rgb),
                meta.compression,
                progress=progress,
                provenance=meta.provenance,
            )
            return
        nbytes = int(np.prod(image.shape)) * np.dtype(image.dtype).itemsize
        write_tiff(path, image, meta, self.ome, _is_lazy(image) and nbytes > STREAM_BYTES, progress)


@register_format
class OmeTiffFormat(TiffFormat):
    """OME-TIFF: a TIFF whose OME-XML records axes, physical sizes and optics."""

    name = "ome.tif"
    summary = "OME-TIFF"
    suffixes = (".ome.tif", ".ome.tiff")
    ome = True

    def result_suffix(self, path: str | os.PathLike[str]) -> str:
        """Always ``.ome.tif``: the name OME tools look for."""
        return self.suffixes[0]
