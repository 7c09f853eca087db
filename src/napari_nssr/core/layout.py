"""Where the upsampled axes of an image are, and the checks every entry point applies to its inputs.

Images are 2D, RGB(A) with channels last, or n-D stacks; only the last two spatial axes are
upsampled. RGB is guessed as napari does (a last axis of 3 or 4) unless the caller says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ImageError, ImageTypeError
from .settings import is_finite_number

MAX_SCALE = 16.0
MAX_STRENGTH = 4.0


@dataclass(frozen=True)
class Layout:
    """Where the spatial and channel axes are in the caller's array."""

    rgb: bool
    spatial: tuple[int, int]  # axis indices of (rows, cols)

    @classmethod
    def of(cls, shape: tuple[int, ...], rgb: bool | None) -> Layout:
        """Guess (like napari) or take the RGB flag, and find the two upsampled axes.

        Parameters
        ----------
        shape : tuple of int
            The array's shape.
        rgb : bool or None
            Whether the last axis holds colour channels; ``None`` guesses (last axis of 3 or 4).

        Returns
        -------
        Layout
        """
        if rgb is None:
            rgb = looks_rgb(shape)
        if rgb and (len(shape) < 3 or shape[-1] not in (3, 4)):
            raise ImageError(f"rgb=True needs a last axis of 3 or 4 channels, got shape {shape}")
        needed = 3 if rgb else 2
        if len(shape) < needed:
            what = "an RGB image needs (rows, cols, channels)" if rgb else "an image needs at least 2 axes"
            raise ImageError(f"{what}; got shape {shape}")
        n = len(shape)
        return cls(rgb, (n - 3, n - 2) if rgb else (n - 2, n - 1))

    def plane_shape(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """``(rows, cols)`` of one plane of an array of ``shape``."""
        return shape[self.spatial[0]], shape[self.spatial[1]]

    def planes(self, shape: tuple[int, ...]) -> Iterator[tuple[Any, ...]]:
        """Index tuples selecting every 2D plane (leading axes and channels) of an array of ``shape``."""
        lead = shape[: self.spatial[0]]
        channels: list[int | None] = list(range(shape[-1])) if self.rgb else [None]
        for idx in np.ndindex(*lead) if lead else [()]:
            for c in channels:
                yield idx + (slice(None), slice(None)) + ((c,) if c is not None else ())

    def representative_plane(self, image: Any, max_side: int | None = None) -> np.ndarray:
        """One 2D float64 plane that stands for the image: the middle of any leading axes, RGB as the
        mean of the colour channels; with ``max_side``, its centred crop at most that wide, cut
        before reading (a lazily read scene is never loaded whole)."""
        index = tuple(n // 2 for n in image.shape[: self.spatial[0]])
        if max_side is not None:
            index += centre_window(self.plane_shape(tuple(image.shape)), max_side)
        plane = np.asarray(image[index], dtype=np.float64)
        return plane[..., :3].mean(axis=-1) if self.rgb else plane

    def sample_planes(self, image: Any, count: int, max_side: int | None = None) -> list[np.ndarray]:
        """Up to ``count`` planes spread evenly over the leading axes (one: the middle plane, as
        :meth:`representative_plane`), each its centred crop at most ``max_side`` wide, float64;
        RGB planes keep their colour channels (alpha left out): ``(rows, cols, 3)``."""
        leading = tuple(image.shape[: self.spatial[0]])
        total = int(np.prod(leading)) if leading else 1
        if count <= 1 or total == 1:
            indices = [tuple(n // 2 for n in leading)]
        else:
            flat = np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(int))
            indices = [tuple(int(i) for i in np.unravel_index(f, leading)) for f in flat]
        crop = () if max_side is None else centre_window(self.plane_shape(tuple(image.shape)), max_side)
        planes = [np.asarray(image[index + crop], dtype=np.float64) for index in indices]
        return [plane[..., :3] for plane in planes] if self.rgb else planes


def centre_window(plane_shape: tuple[int, ...], side: int) -> tuple[slice, slice]:
    """The ``(rows, cols)`` slices of a plane's centred window at most ``side`` wide.

    Parameters
    ----------
    plane_shape : tuple of int
        ``(rows, cols)`` (further entries, such as colour, are ignored).
    side : int
        The window's largest side.

    Returns
    -------
    tuple of slice
    """
    rows, cols = plane_shape[:2]
    r0, c0 = max(0, (rows - side) // 2), max(0, (cols - side) // 2)
    return slice(r0, r0 + side), slice(c0, c0 + side)


def looks_rgb(shape: tuple[int, ...]) -> bool:
    """napari's guess: an array of 3 or more axes whose last axis has 3 or 4 entries is RGB(A)."""
    return len(shape) >= 3 and shape[-1] in (3, 4)


def check_scale(scale: Any) -> tuple[float, float]:
    """``scale`` (a number, numpy scalars included, or a ``(rows, cols)`` pair) as two floats in
    ``[1, MAX_SCALE]``.

    Parameters
    ----------
    scale : float or tuple of float
        The upsampling factor.

    Returns
    -------
    tuple of float
        ``(rows, cols)`` factors.

    Raises
    ------
    ImageError
        For a non-number, a factor below 1 or above :data:`MAX_SCALE`.
    """
    pair = tuple(scale) if isinstance(scale, (tuple, list, np.ndarray)) else (scale, scale)
    if len(pair) != 2 or not all(is_finite_number(s) for s in pair):
        raise ImageError(f"scale must be a finite number or a (rows, cols) pair, got {scale!r}")
    if min(pair) < 1:
        raise ImageError(f"scale must be >= 1 (this tool only upsamples), got {scale!r}")
    if max(pair) > MAX_SCALE:
        raise ImageError(f"scale must be <= {MAX_SCALE:g}, got {scale!r}")
    return float(pair[0]), float(pair[1])


def check_strength(strength: Any) -> float:
    """``strength`` as a float in ``[0, MAX_STRENGTH]`` (0 is plain bicubic, 1 the method's result)."""
    if not is_finite_number(strength) or not 0 <= strength <= MAX_STRENGTH:
        raise ImageError(f"strength must be in [0, {MAX_STRENGTH:g}], got {strength!r}")
    return float(strength)


def check_image(image: Any, rgb: bool | None) -> Layout:
    """Check that ``image`` can be super-resolved and return its layout.

    Parameters
    ----------
    image : array-like
        Anything with ``shape`` and ``dtype`` (numpy, dask, zarr).
    rgb : bool or None
        See :meth:`Layout.of`.

    Returns
    -------
    Layout

    Raises
    ------
    ImageTypeError
        For a dtype that is not integer or floating point.
    ImageError
        For an empty image or planes smaller than 2x2.
    """
    dtype = np.dtype(image.dtype)
    if dtype.kind not in "uif":
        raise ImageTypeError(
            f"images must be integer or floating point, got dtype {dtype} (convert booleans/labels/complex data first)"
        )
    shape = tuple(int(s) for s in image.shape)
    if 0 in shape:
        raise ImageError(f"the image is empty (shape {shape})")
    if rgb is None and len(shape) >= 3 and shape[-1] == 2:
        raise ImageError(
            f"the last axis of shape {shape} has 2 entries: if it holds channels, move them first "
            "(numpy.moveaxis(image, -1, 0)); if the image really is 2 pixels wide, pass rgb=False"
        )
    layout = Layout.of(shape, rgb)
    rows, cols = layout.plane_shape(shape)
    if rows < 2 or cols < 2:
        raise ImageError(f"the image must be at least 2x2 pixels in its last two spatial axes, got {rows}x{cols}")
    return layout


def output_shape(shape: tuple[int, ...], layout: Layout, scale: tuple[float, float]) -> tuple[int, ...]:
    """The shape of the super-resolved array: ``round(H * sy) x round(W * sx)`` on the two spatial axes."""
    out = list(shape)
    for axis, factor in zip(layout.spatial, scale):
        out[axis] = int(round(shape[axis] * factor))
    return tuple(out)
