"""What an image file says about its pixels beyond their values, and how upsampling changes it.

:meth:`ImageMeta.scaled` gives the metadata of a super-resolved copy: pixel sizes (resolution
tags, ImageJ and OME calibration, a GeoTIFF's geotransform) divided by the factor, and the same
origin, so the result covers the same ground or field of view as its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

LENGTH_IN_UM = {"µm": 1.0, "um": 1.0, "micron": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6, "Å": 1e-4}


@dataclass(frozen=True)
class GeoInfo:
    """A georeferenced raster's place on Earth (as rasterio reads it).

    Attributes
    ----------
    crs : str
        The coordinate reference system, as WKT.
    transform : tuple of float
        The affine geotransform ``(a, b, c, d, e, f)``: map ``x = a * col + b * row + c`` and
        ``y = d * col + e * row + f`` for pixel corner coordinates (rasterio's ``Affine`` order).
    band_names : tuple of str
        The bands' descriptions (empty strings where the file has none).
    units : str or None
        The CRS's linear unit (``"metre"``), for the pixel size.
    """

    crs: str
    transform: tuple[float, float, float, float, float, float]
    band_names: tuple[str, ...] = ()
    units: str | None = None

    def scaled(self, scale: tuple[float, float]) -> GeoInfo:
        """The same corner origin, pixel steps divided by ``(rows, cols)`` factors."""
        sy, sx = scale
        a, b, c, d, e, f = self.transform
        return replace(self, transform=(a / sx, b / sy, c, d / sx, e / sy, f))

    @property
    def north_up(self) -> bool:
        """Whether rows run along map y and columns along map x (no rotation or shear)."""
        a, b, _, d, e, _ = self.transform
        return b == 0 and d == 0 and a > 0 and e != 0

    @property
    def pixel_size(self) -> tuple[float, float]:
        """``(y, x)`` ground size of a pixel, in the CRS's unit."""
        a, b, _, d, e, _ = self.transform
        return float(np.hypot(b, e)), float(np.hypot(a, d))


@dataclass(frozen=True)
class ImageMeta:
    """What a file says about its pixels beyond their values.

    Attributes
    ----------
    axes : str or None
        tifffile's axis codes (``"YX"``, ``"ZYX"``, ``"TZCYX"``, ``"YXS"`` for colour samples,
        ``"CYX"`` for the bands of a multi-band raster).
    pixel_size : tuple of float or None
        ``(y, x)`` size of one pixel in ``unit``; None when the file is uncalibrated.
    unit : str or None
        ``"um"``, ``"cm"``, ``"inch"``, ``"metre"``, ...
    imagej : bool
        The file is an ImageJ hyperstack (written back as one).
    spacing : float or None
        ImageJ's z spacing, in ``unit`` (not changed by super-resolution, which is in-plane).
    ome : bool
        The file is an OME-TIFF (written back as one, with its physical sizes divided).
    optics : dict
        What the file says about the microscope: ``numerical_aperture``, ``wavelength_um``
        (emission), ``immersion_index``; only the keys it records.
    geo : GeoInfo or None
        A GeoTIFF's georeference.
    nodata : float or None
        The value that marks pixels without data (GDAL's nodata), kept out of the computation.
    origin : tuple of float or None
        ``(y, x)`` position of pixel ``(0, 0)``'s centre in ``unit`` (an OME-Zarr translation).
    compression : str or None
        The file's lossless compression (``"lzw"``, ``"deflate"``, ``"zstd"``), reused for results.
    provenance : str or None
        What made a result (JSON: method, settings, scale, source), written into it and read
        back: a batch skips an existing output only when it says this run would make it.
    """

    axes: str | None = None
    pixel_size: tuple[float, float] | None = None
    unit: str | None = None
    imagej: bool = False
    spacing: float | None = None
    ome: bool = False
    optics: dict[str, float] = field(default_factory=dict)
    geo: GeoInfo | None = None
    nodata: float | None = None
    origin: tuple[float, float] | None = None
    compression: str | None = None
    provenance: str | None = None

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
        sizes divided.

        Parameters
        ----------
        scale : tuple of float
            ``(rows, cols)`` factors.

        Returns
        -------
        ImageMeta
        """
        sy, sx = scale
        pixel_size = None if self.pixel_size is None else (self.pixel_size[0] / sy, self.pixel_size[1] / sx)
        origin = self.origin
        if origin is not None and self.pixel_size is not None:
            # output pixel i sits at input coordinate (i + 0.5) / s - 0.5: pixel 0's centre moves
            # towards the corner the two grids share
            origin = (
                origin[0] + (0.5 / sy - 0.5) * self.pixel_size[0],
                origin[1] + (0.5 / sx - 0.5) * self.pixel_size[1],
            )
        geo = None if self.geo is None else self.geo.scaled(scale)
        # what made the source is not what makes the result
        return replace(self, pixel_size=pixel_size, origin=origin, geo=geo, provenance=None)

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict of everything here (for layer and file metadata)."""
        from dataclasses import asdict

        record = asdict(self)
        record["pixel_size_um"] = self.pixel_size_um
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ImageMeta:
        """The metadata :meth:`record` wrote (unknown keys ignored).

        Parameters
        ----------
        record : dict
            From :meth:`record`, possibly after a JSON round trip.

        Returns
        -------
        ImageMeta
        """
        fields = {k: v for k, v in record.items() if k in cls.__dataclass_fields__}
        for key in ("pixel_size", "origin"):
            if fields.get(key) is not None:
                fields[key] = tuple(float(v) for v in fields[key])
        geo = fields.get("geo")
        if isinstance(geo, dict):
            fields["geo"] = GeoInfo(
                crs=str(geo["crs"]),
                transform=tuple(float(v) for v in geo["transform"]),  # type: ignore[arg-type]
                band_names=tuple(geo.get("band_names") or ()),
                units=geo.get("units"),
            )
        return cls(**fields)
