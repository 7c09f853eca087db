"""What to compute, said once: a :class:`Request`, and a :class:`Plan` (a request on one image).

Every entry point (``super_resolve`` eager or lazy, ``iter_super_resolve``, the CLI's batch, the
napari widget) builds one :class:`Request` and hands it to the engine's one prepare-then-apply
path (``engine/pipeline.py``). A request holds the method's settings (which name the method), the
scale, the strength, the device, the nodata value, the tile size and the auxiliary inputs a method
reads (guide images). It is checked when it is made, before any image is read, so a bad value is
one clear error up front; it is frozen, so a request made once serves every image of a batch.
:func:`~napari_nssr.methods.resolve.make_request` makes one from any spelling of a method
(``"wiener"``, a model file, ``psf=...``).

:meth:`Request.plan` binds a request to one image: the image's layout (which axes are upsampled)
and the output's shape. Methods prepare from a plan (:meth:`~napari_nssr.methods.base.Method.prepare`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .devices import resolve_device
from .errors import ResourceError, SettingsError
from .layout import Layout, check_image, check_scale, check_strength, output_shape
from .settings import Settings

#: in-memory results larger than this are refused (a dask input stays lazy and is not limited)
MAX_OUTPUT_BYTES = 8 * 2**30
#: in-memory results larger than this are announced (:class:`~.errors.LargeResultWarning`) before the work
WARN_OUTPUT_BYTES = 2**30
MIN_TILE_SIZE = 16


def check_tile_size(tile_size: Any) -> int:
    """``tile_size`` as an integer of at least :data:`MIN_TILE_SIZE`, or a :class:`SettingsError`."""
    if isinstance(tile_size, bool) or not isinstance(tile_size, (int, np.integer)) or tile_size < MIN_TILE_SIZE:
        raise SettingsError(f"tile_size must be an integer >= {MIN_TILE_SIZE}, got {tile_size!r}")
    return int(tile_size)


def check_nodata(nodata: Any) -> float | None:
    """``nodata`` as a float (NaN allowed) or ``None``, or a :class:`SettingsError`."""
    if nodata is None:
        return None
    if isinstance(nodata, bool) or not isinstance(nodata, (int, float, np.integer, np.floating)):
        raise SettingsError(f"nodata must be a number (NaN allowed) or None, got {nodata!r}")
    value = float(nodata)
    if math.isinf(value):
        raise SettingsError(f"nodata must be finite or NaN, got {nodata!r}")
    return value


@dataclass(frozen=True)
class Request:
    """What to compute: a method with its settings, at a scale, and how.

    :func:`~napari_nssr.methods.resolve.make_request` makes one from any spelling of a method; the
    fields are checked on construction.

    Attributes
    ----------
    scale : tuple of float
        ``(rows, cols)`` factors, each in ``[1, 16]`` (a number is taken for both axes).
    settings : MethodSettings
        The method's settings; they name the method.
    strength : float
        0 (plain bicubic) to 4; 1 is the method's result.
    rgb : bool or None
        Whether the last axis is colour; ``None`` guesses as napari does (3 or 4 entries).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    nodata : float or None
        The value of pixels without data (NaN allowed): kept out of every fit and of the result.
    tile_size : int
        Side of the output tiles (memory, not results: tiled equals untiled).
    guides : tuple
        Auxiliary images for a method that reads them (the ``guided`` method's sharper bands, on the
        result's grid; :func:`~napari_nssr.methods.resolve.make_request` refuses them for a method
        that does not).

    Examples
    --------
    >>> from napari_nssr import Request
    >>> from napari_nssr.methods import WienerSettings
    >>> request = Request(2, WienerSettings(), strength=0.5)
    >>> request.scale, request.strength
    ((2.0, 2.0), 0.5)
    >>> request.at(3).scale
    (3.0, 3.0)
    """

    scale: tuple[float, float]
    settings: Settings
    strength: float = 1.0
    rgb: bool | None = None
    device: str = "auto"
    nodata: float | None = None
    tile_size: int = 1024
    guides: tuple[Any, ...] = field(default=())

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "scale", check_scale(self.scale))
        if not isinstance(self.settings, Settings):
            raise SettingsError(f"settings must be a method's settings, got {type(self.settings).__name__}")
        set_(self, "strength", check_strength(self.strength))
        if self.rgb is not None and not isinstance(self.rgb, (bool, np.bool_)):
            raise SettingsError(f"rgb must be True, False or None, got {self.rgb!r}")
        if not isinstance(self.device, str):
            set_(self, "device", str(self.device))
        resolve_device(self.device)  # an unknown or absent device is refused now, not per image
        set_(self, "nodata", check_nodata(self.nodata))
        set_(self, "tile_size", check_tile_size(self.tile_size))
        set_(self, "guides", tuple(self.guides))

    def at(self, scale: Any) -> Request:
        """The same request at another scale (a batch computes each input at each of its scales).

        Parameters
        ----------
        scale : float or tuple of float
            The new factor(s).

        Returns
        -------
        Request
        """
        return replace(self, scale=check_scale(scale))

    def plan(self, image: Any) -> Plan:
        """This request on ``image``: checked against its shape and dtype, before any work.

        Parameters
        ----------
        image : array-like
            Anything with ``shape`` and ``dtype`` (numpy, dask, zarr, a file's header).

        Returns
        -------
        Plan

        Raises
        ------
        ImageError, ImageTypeError
            For an image that cannot be super-resolved (empty, too small, not numbers).
        """
        layout = check_image(image, self.rgb)
        shape = tuple(int(n) for n in image.shape)
        return Plan(self, layout, shape, output_shape(shape, layout, self.scale), np.dtype(image.dtype))


@dataclass(frozen=True)
class Plan:
    """A :class:`Request` on one image: where its upsampled axes are and what it will produce.

    Attributes
    ----------
    request : Request
        What to compute.
    layout : Layout
        The image's spatial and colour axes.
    in_shape, shape : tuple of int
        The input's and the result's shapes.
    dtype : numpy.dtype
        The input's (and the result's) dtype.
    """

    request: Request
    layout: Layout
    in_shape: tuple[int, ...]
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def scale(self) -> tuple[float, float]:
        """``(rows, cols)`` factors."""
        return self.request.scale

    @property
    def mean_scale(self) -> float:
        """The geometric mean of the two factors (what a method solves one filter for)."""
        return math.sqrt(self.scale[0] * self.scale[1])

    @property
    def strength(self) -> float:
        """The strength of the result (0: plain bicubic)."""
        return self.request.strength

    @property
    def settings(self) -> Any:
        """The method's settings (typed ``Any``: each method reads its own fields)."""
        return self.request.settings

    @property
    def plane_shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``(rows, cols)`` of one input plane and of one output plane."""
        return self.layout.plane_shape(self.in_shape), self.layout.plane_shape(self.shape)

    @property
    def output_bytes(self) -> int:
        """The size of the whole result in memory."""
        return math.prod(self.shape) * self.dtype.itemsize

    def announce_size(self) -> None:
        """Warn (:class:`~.errors.LargeResultWarning`), before any work, of an in-memory result larger
        than :data:`WARN_OUTPUT_BYTES` (the second hostile round: 8 GiB were built without a word)."""
        if WARN_OUTPUT_BYTES < self.output_bytes <= MAX_OUTPUT_BYTES:
            import warnings

            from .errors import LargeResultWarning

            shape = " x ".join(str(n) for n in self.shape)
            warnings.warn(
                LargeResultWarning(
                    f"building a {shape} result in memory ({self.output_bytes / 2**30:.1f} GiB); a dask array "
                    "input gives a lazy result, computed and written a chunk at a time"
                ),
                stacklevel=4,
            )

    def check_memory(self) -> None:
        """Refuse, before any work, an in-memory result larger than :data:`MAX_OUTPUT_BYTES`."""
        if self.output_bytes > MAX_OUTPUT_BYTES:
            raise ResourceError(
                f"the result would take {self.output_bytes / 2**30:.1f} GiB, more than the "
                f"{MAX_OUTPUT_BYTES / 2**30:.0f} GiB computed in memory; super-resolve a dask array (computed "
                "lazily) or a crop"
            )
