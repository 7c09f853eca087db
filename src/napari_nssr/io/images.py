"""Reading and writing image files: TIFF (tifffile + imagecodecs), PNG and JPEG (imageio).

A TIFF is read whole, with what a super-resolved copy must keep (:class:`ImageMeta`):
- every page: several same-shaped images become one stack; images of different shapes are refused
  (napari-nssr never keeps the first and drops the rest);
- its axes (ImageJ hyperstacks' ``TZCYX``, colour samples ``S``), so colour is not guessed;
- its calibration: the pixel size from the resolution tags (and ImageJ's unit and z spacing);
- a GeoTIFF's georeference tags (CRS, tie point, pixel scale, nodata);
- an OME-TIFF's physical pixel size and the optics it records (objective NA, immersion, emission
  wavelength), which the ``psf`` method offers as defaults.

Writing a result passes :meth:`ImageMeta.scaled`: pixel sizes (resolution tags, ImageJ
calibration, GeoTIFF pixel scale) are divided by the upsampling factor and the origin is kept, so
the result covers the same ground or field of view as its source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import ImageError
from ..core.layout import looks_rgb
from .files import write_atomically

TIFF_SUFFIXES = {".tif", ".tiff"}
PNG_SUFFIXES = {".png"}
READ_ONLY_SUFFIXES = {".jpg", ".jpeg", ".bmp"}
IMAGE_SUFFIXES = TIFF_SUFFIXES | PNG_SUFFIXES | READ_ONLY_SUFFIXES
RESOLUTION_UNITS = {2: "inch", 3: "cm"}
# GeoTIFF tags (code: tifffile data type): pixel scale, tie points, transformation, geokeys and
# their parameters, GDAL's metadata and nodata
GEO_TAGS = {33550: 12, 33922: 12, 34264: 12, 34735: 3, 34736: 12, 34737: 2, 42112: 2, 42113: 2}
MODEL_PIXEL_SCALE, MODEL_TRANSFORMATION = 33550, 34264
OME_SUFFIXES = (".ome.tif", ".ome.tiff")
LENGTH_IN_UM = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6, "Å": 1e-4}
IMMERSION_INDEX = {"Oil": 1.515, "Water": 1.333, "WaterDipping": 1.333, "Glycerol": 1.47, "Air": 1.0}


@dataclass(frozen=True)
class ImageMeta:
    """What a file says about its pixels beyond their values.

    Attributes
    ----------
    axes : str or None
        tifffile's axis codes (``"YX"``, ``"ZYX"``, ``"TZCYX"``, ``"YXS"`` for colour samples).
    pixel_size : tuple of float or None
        ``(y, x)`` size of one pixel in ``unit``; None when the file is uncalibrated.
    unit : str or None
        ``"um"``, ``"cm"``, ``"inch"``, ...
    imagej : bool
        The file is an ImageJ hyperstack (written back as one).
    spacing : float or None
        ImageJ's z spacing, in ``unit`` (not changed by super-resolution, which is in-plane).
    geo_tags : dict
        GeoTIFF tags by code, written back with the pixel scale divided by the factor.
    ome : bool
        The file is an OME-TIFF (written back as one, with its physical sizes divided).
    optics : dict
        What the file says about the microscope: ``numerical_aperture``, ``wavelength_um``
        (emission), ``immersion_index``; only the keys it records.
    """

    axes: str | None = None
    pixel_size: tuple[float, float] | None = None
    unit: str | None = None
    imagej: bool = False
    spacing: float | None = None
    geo_tags: dict[int, Any] = field(default_factory=dict)
    ome: bool = False
    optics: dict[str, float] = field(default_factory=dict)

    @property
    def pixel_size_um(self) -> float | None:
        """The pixel size in micrometres (the mean of rows and columns), when the unit is a length."""
        if self.pixel_size is None or self.unit not in LENGTH_IN_UM:
            return None
        return float(np.mean(self.pixel_size)) * LENGTH_IN_UM[self.unit]

    @property
    def rgb(self) -> bool | None:
        """Whether the last axis is colour, when the axes say (``None`` when they do not)."""
        return None if not self.axes else self.axes.endswith("S")

    def scaled(self, scale: tuple[float, float]) -> ImageMeta:
        """The metadata of the image upsampled by ``(rows, cols)`` factors: same origin, pixel
        sizes divided."""
        sy, sx = scale
        pixel_size = None if self.pixel_size is None else (self.pixel_size[0] / sy, self.pixel_size[1] / sx)
        geo = dict(self.geo_tags)
        if MODEL_PIXEL_SCALE in geo:
            px, py, *rest = geo[MODEL_PIXEL_SCALE]
            geo[MODEL_PIXEL_SCALE] = (px / sx, py / sy, *rest)
        if MODEL_TRANSFORMATION in geo:
            m = list(geo[MODEL_TRANSFORMATION])  # 4x4 row-major: columns 0 and 1 map pixel steps
            for row in range(4):
                m[4 * row] /= sx
                m[4 * row + 1] /= sy
            geo[MODEL_TRANSFORMATION] = tuple(m)
        return replace(self, pixel_size=pixel_size, geo_tags=geo)


@dataclass(frozen=True)
class ImageHeader:
    """An image file's shape, dtype and metadata, read without decoding its pixels."""

    shape: tuple[int, ...]
    dtype: np.dtype
    meta: ImageMeta


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageError(f"unsupported image format {path.suffix.lower()!r} for {path}; use TIFF, PNG or JPEG")
    if path.stat().st_size == 0:
        raise ImageError(f"could not read {path}: the file is empty")


def _tiff_meta(tif: Any, axes: str) -> ImageMeta:
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
    geo = {code: tags[code].value for code in GEO_TAGS if code in tags}
    spacing = ij.get("spacing")
    meta = ImageMeta(axes, pixel_size, unit, imagej, float(spacing) if spacing else None, geo)
    if tif.is_ome and tif.ome_metadata:
        size, size_unit, optics = _ome_physics(tif.ome_metadata)
        meta = replace(meta, ome=True, optics=optics)
        if size is not None:
            meta = replace(meta, pixel_size=size, unit=size_unit)
    return meta


def _ome_physics(xml: str) -> tuple[tuple[float, float] | None, str | None, dict[str, float]]:
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


def _tiff_series(tif: Any, path: Path) -> tuple[tuple[int, ...], np.dtype, str, list[Any]]:
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


def read_header(path: str | os.PathLike[str]) -> ImageHeader:
    """Shape, dtype and metadata of an image file, without decoding its pixels.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF, PNG or JPEG file.

    Returns
    -------
    ImageHeader

    Raises
    ------
    ImageError
        For an unsupported, empty, damaged or mixed-shape file (one line).
    """
    path = Path(path)
    _check_file(path)
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                shape, dtype, axes, _ = _tiff_series(tif, path)
                return ImageHeader(shape, dtype, _tiff_meta(tif, axes))
        import imageio.v3 as iio

        props = iio.improps(path)
        return ImageHeader(tuple(int(n) for n in props.shape), np.dtype(props.dtype), ImageMeta())
    except ImageError:
        raise
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {_first_line(exc)}") from exc


def read_image_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, ImageMeta]:
    """Read an image file with its metadata.

    Parameters
    ----------
    path : str or os.PathLike
        A TIFF (any compression imagecodecs decodes: LZW, deflate, zstd, JPEG), PNG or JPEG file.

    Returns
    -------
    tuple of (numpy.ndarray, ImageMeta)
        The pixels in their stored dtype (every page of a TIFF), and the metadata.

    Raises
    ------
    ImageError
        For an unsupported, empty, damaged or mixed-shape file (one line).
    """
    path = Path(path)
    _check_file(path)
    try:
        if path.suffix.lower() in TIFF_SUFFIXES:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                shape, _, axes, series = _tiff_series(tif, path)
                data = np.stack([s.asarray() for s in series]) if len(series) > 1 else series[0].asarray()
                return np.asarray(data).reshape(shape), _tiff_meta(tif, axes)
        import imageio.v3 as iio

        return np.asarray(iio.imread(path)), ImageMeta()
    except ImageError:
        raise
    except Exception as exc:  # decoders raise many types for damaged files
        raise ImageError(f"could not read {path}: {_first_line(exc)}") from exc


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a TIFF, PNG or JPEG file into an array of its stored dtype (see :func:`read_image_file`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    numpy.ndarray
    """
    return read_image_file(path)[0]


def check_writable(path: str | os.PathLike[str], dtype: np.dtype, shape: tuple[int, ...]) -> None:
    """Raise :class:`ImageError` if an image of ``dtype`` and ``shape`` cannot be written to ``path``
    (checked before any work: a format that cannot hold the data)."""
    suffix = Path(path).suffix.lower()
    if suffix not in TIFF_SUFFIXES | PNG_SUFFIXES:
        raise ImageError(f"cannot write {suffix!r}; write .tif/.tiff or .png")
    if suffix in PNG_SUFFIXES:
        if np.dtype(dtype) not in (np.uint8, np.uint16):
            raise ImageError(
                f"PNG stores only uint8/uint16 images, this one is {np.dtype(dtype)}; write a .tif instead"
            )
        if len(shape) > 3 or (len(shape) == 3 and not looks_rgb(shape)):
            raise ImageError(f"PNG stores one grey or RGB(A) image, this one has shape {shape}; write a .tif instead")
        if np.dtype(dtype) == np.uint16 and len(shape) == 3:
            raise ImageError("16-bit PNG is written for grey images only; write a .tif for 16-bit colour")


def _tiff_options(image: np.ndarray, meta: ImageMeta, ome: bool) -> dict[str, Any]:
    rgb = meta.rgb if meta.rgb is not None else (image.ndim == 3 and looks_rgb(image.shape))
    options: dict[str, Any] = {"photometric": "rgb" if rgb else "minisblack"}
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
        return options
    if meta.pixel_size is not None:
        code = {v: k for k, v in RESOLUTION_UNITS.items()}.get(meta.unit or "", 1)
        options["resolutionunit"] = code
    if meta.axes:
        options["metadata"] = {"axes": meta.axes}
    if meta.geo_tags:
        options["extratags"] = [
            (code, GEO_TAGS[code], _count(value, GEO_TAGS[code]), value, True) for code, value in meta.geo_tags.items()
        ]
    return options


def _count(value: Any, dtype: int) -> int:
    if dtype == 2:  # ASCII: tifffile counts the terminating NUL itself
        return 0
    return len(value) if isinstance(value, (tuple, list)) else 1


def write_image(
    path: str | os.PathLike[str], image: np.ndarray, overwrite: bool = False, meta: ImageMeta | None = None
) -> Path:
    """Write ``image`` as TIFF (any numeric dtype) or PNG (uint8/uint16), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; the suffix picks the format.
    image : numpy.ndarray
        The pixels.
    overwrite : bool
        Replace an existing file (otherwise :class:`OutputExistsError`).
    meta : ImageMeta, optional
        Axes, calibration and georeference to write into a TIFF (for a result, pass the source's
        ``meta.scaled(scale)``).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    check_writable(path, image.dtype, image.shape)
    meta = meta or ImageMeta()
    suffix = path.suffix.lower()

    def write(tmp: str) -> None:
        if suffix in TIFF_SUFFIXES:
            import tifffile

            tifffile.imwrite(tmp, image, **_tiff_options(image, meta, path.name.lower().endswith(OME_SUFFIXES)))
        else:
            import imageio.v3 as iio

            iio.imwrite(tmp, image, extension=".png")

    if path.is_dir():
        raise ImageError(f"cannot write {path}: it is a folder")
    return write_atomically(path, write, overwrite)
