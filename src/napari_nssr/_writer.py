"""napari writer contribution: save layers from a georeferenced file as a GeoTIFF that keeps its place.

A layer read by this plugin's reader from a GeoTIFF carries the file's georeference in
``metadata["nssr_file"]``; a super-resolved layer keeps that record and adds its ``scale`` in
``metadata["nssr"]``. Saved here, the GeoTIFF has the CRS, the same corner origin and the pixel
size divided by that scale (rasterio reads the source's bounds), and the nodata value. Several
selected layers of the same shape and place (the bands of a multi-band file, each super-resolved)
become the bands of one GeoTIFF, in the order they are listed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core.errors import ImageError
from .io.images import write_image
from .io.meta import ImageMeta

FILE_KEY = "nssr_file"
RESULT_KEY = "nssr"


def layer_meta(name: str, metadata: dict[str, Any]) -> ImageMeta:
    """The georeferenced metadata of a layer (its file's, scaled by its super-resolution factor).

    Parameters
    ----------
    name : str
        The layer's name (for the message).
    metadata : dict
        The layer's ``metadata``.

    Returns
    -------
    ImageMeta

    Raises
    ------
    ImageError
        When the layer did not come from a GeoTIFF read by this plugin.
    """
    record = metadata.get(FILE_KEY)
    meta = ImageMeta.from_record(record) if isinstance(record, dict) else None
    if meta is None or meta.geo is None:
        raise ImageError(
            f"layer '{name}' has no georeference: open the GeoTIFF with the napari-nssr reader "
            "(File > Open with plugin) before super-resolving it"
        )
    scale = (metadata.get(RESULT_KEY) or {}).get("scale")
    if scale:
        factors = tuple(scale) if isinstance(scale, (list, tuple)) else (float(scale), float(scale))
        meta = meta.scaled((float(factors[0]), float(factors[1])))
    return meta


def write_geotiff_layers(path: str, layer_data: list[tuple[Any, dict[str, Any], str]]) -> list[str]:
    """Write image layers as one GeoTIFF (npe2 multi-layer writer).

    Parameters
    ----------
    path : str
        The destination ``.tif``.
    layer_data : list of (data, attributes, layer type)
        The selected layers, as napari passes them.

    Returns
    -------
    list of str
        The path written.
    """
    if not layer_data:
        return []
    metas, planes = [], []
    for data, attributes, _ in layer_data:
        name = attributes.get("name", "layer")
        meta = layer_meta(name, attributes.get("metadata") or {})
        array = data[0] if attributes.get("multiscale") else data
        metas.append(meta)
        planes.append(array)
    first = metas[0]
    for meta, array in zip(metas[1:], planes[1:]):
        if meta.geo != first.geo or array.shape != planes[0].shape or array.dtype != planes[0].dtype:
            raise ImageError("the selected layers differ in place, shape or type: save them one at a time")
    if len(planes) == 1:
        image, axes = planes[0], first.axes
    else:
        if planes[0].ndim != 2:
            raise ImageError("several layers become the bands of one GeoTIFF only when each is one 2D band")
        import dask.array as da

        lazy = not all(isinstance(p, np.ndarray) for p in planes)
        image = da.stack(planes) if lazy else np.stack(planes)
        axes = "CYX"
    meta = ImageMeta(
        axes=axes if axes and len(axes) == image.ndim else None,
        geo=first.geo,
        nodata=first.nodata,
        compression=first.compression,
        pixel_size=first.pixel_size,
        unit=first.unit,
    )
    write_image(path, image, overwrite=True, meta=meta)
    return [path]
