"""The method interface: what every super-resolution method is to the engine, and their registry.

A method has a ``name``, a frozen settings dataclass (``settings_type``, a :class:`MethodSettings`),
and :meth:`Method.prepare`, which looks at one image under one request (a :class:`~napari_nssr.core.request.Plan`:
the settings, the scale, the image's layout; estimating or solving what it needs) and returns a
:class:`Prepared`: a :class:`TileProcessor` plus a record of what was done.

The engine (``engine/``) knows nothing else. It upsamples each output region, with the
processor's halo around it, by pixel-centre bicubic interpolation, hands that block to the
processor, and writes what comes back: torch tensors on CUDA (:meth:`TileProcessor.__call__`,
which drops the halo), numpy arrays with OpenCV on the CPU (:meth:`TileProcessor.process_same`,
which mirrors at the block's borders and keeps its shape). A processor whose ``halo`` is ``None``
sees whole planes. A processor with ``from_source`` set (an image-specific network that makes
its own upsampling, as ZSSR does) is given each whole low-resolution plane instead
(:meth:`TileProcessor.process_source`).

A method whose preparation is long (training on the image) overrides :meth:`Method.iter_prepare`,
a generator that yields :class:`PrepareProgress` and returns the :class:`Prepared`; closing it
stops the work.

Methods register themselves with :func:`register_method`; names are unique.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch

from ..core.errors import SettingsError
from ..core.filters import blend_with_identity, convolve, project_sum_to_one
from ..core.progress import PrepareProgress, drain
from ..core.request import Plan
from ..core.resample import bicubic_plane, bicubic_tensor, resample_plane
from ..core.settings import Settings, settings_to_dict
from ..models.model import NSSRModel


class MethodSettings(Settings):
    """Base of every method's settings (a frozen dataclass; see :mod:`napari_nssr.core.settings`).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from napari_nssr import MethodSettings
    >>> from napari_nssr.core.settings import setting
    >>> @dataclass(frozen=True)
    ... class GammaSettings(MethodSettings):
    ...     gamma: float = setting(0.8, "exponent applied after upsampling", min=0.1, max=4)
    >>> GammaSettings(gamma=0.5).gamma
    0.5
    """


@dataclass(frozen=True)
class PlaneSplit:
    """A whole-plane processor as ``part`` (working values of one low-resolution plane to a plane of the
    same shape and dtype, whatever the scale; it depends on nothing else but ``key``) followed by
    ``remainder``, a processor with a halo applied to ``part``'s result as to any input."""

    key: Hashable
    part: Callable[[np.ndarray], np.ndarray]
    remainder: TileProcessor


class TileProcessor(ABC):
    """Turns a bicubic-upsampled block (a tile plus ``halo`` pixels on each side) into the tile.

    Blocks are 2D float32 tensors in the image's own intensity units, on the engine's device.
    """

    #: Output pixels of context needed on each side of a tile; ``None``: whole planes only.
    halo: int | None = 0
    #: Takes whole low-resolution planes (:meth:`process_source`) instead of upsampled blocks.
    from_source: bool = False
    #: A source processor that hands its result's rows out as it finishes them
    #: (:meth:`iter_process_source` with ``rows``), so that no whole float plane is held.
    streams_rows: bool = False

    @abstractmethod
    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        """The tile: ``block`` without ``halo`` pixels on each side, processed."""

    def to(self, device: torch.device, dtype: torch.dtype = torch.float32) -> TileProcessor:
        """The same processor with its tensors on ``device`` in ``dtype`` (the blocks' precision)."""
        return self

    def process_same(self, block: np.ndarray) -> np.ndarray:
        """The processed ``block`` (2D numpy, float32 or float64), same shape, borders mirrored.

        The CPU engine's entry: where ``block`` ends inside the image, the engine has given it
        ``halo`` more pixels than it keeps, so the mirroring matters only at the image's edges.
        This default mirrors and runs :meth:`__call__` on the CPU; processors override it with
        OpenCV or numpy.

        Parameters
        ----------
        block : numpy.ndarray
            Upsampled values, C-contiguous.

        Returns
        -------
        numpy.ndarray
            Same shape and dtype.
        """
        r = self.halo or 0
        padded = np.pad(block, r, mode="reflect") if r else block
        tensor = torch.from_numpy(np.ascontiguousarray(padded))
        return self.to(torch.device("cpu"), tensor.dtype)(tensor).numpy()

    def blended(self, strength: float) -> TileProcessor:
        """Bicubic (``strength`` 0) to this processor (1) and beyond: ``up + s * (processed - up)``."""
        return strength_blend(self, strength)

    def with_validity(self, valid: np.ndarray | None) -> TileProcessor:
        """This processor for one plane whose pixels without data are where ``valid`` is False
        (``None``: every pixel has data).

        The engine fills such pixels before a processor sees them and puts nodata back after, so
        the default ignores the mask. A whole-plane processor that fits the plane (the guided
        method's regressions) returns a copy that keeps those pixels out of its fits.
        """
        return self

    def split_plane(self) -> PlaneSplit | None:
        """For a whole-plane processor whose work is a scale-independent part on the low-resolution plane
        followed by a windowed processor (the blind method's denoising, then its filter): the two, so
        that a viewer keeps the part per plane and computes only the windows it shows. ``None``: no
        such split."""
        return None

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        """The super-resolved plane from the whole low-resolution ``plane`` (processors with
        :attr:`from_source` only).

        Parameters
        ----------
        plane : numpy.ndarray
            2D float32 or float64 input values.
        out_shape : tuple of int
            The output ``(rows, cols)``.

        Returns
        -------
        numpy.ndarray
            ``out_shape``, the plane's dtype.
        """
        raise NotImplementedError(f"{type(self).__name__} works on upsampled blocks, not on source planes")

    def iter_process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> Generator[str, None, np.ndarray]:
        """:meth:`process_source` as a generator that yields a few words on each step it starts.

        A processor whose planes take long (seconds) overrides it, so that the engine can report
        within a plane and stop between steps when the generator is closed; the default yields
        nothing.

        Parameters
        ----------
        plane, out_shape
            As for :meth:`process_source`.

        Returns
        -------
        numpy.ndarray
            As :meth:`process_source`.
        """
        return self.process_source(plane, out_shape)
        yield  # pragma: no cover - makes this a generator

    def iter_source_rows(
        self, plane: np.ndarray, out_shape: tuple[int, int], rows: Callable[[slice, np.ndarray], None]
    ) -> Generator[str, None, None]:
        """:meth:`iter_process_source` for a processor with :attr:`streams_rows`: the result is not
        returned but handed to ``rows`` a range of rows at a time, as each is finished.

        Parameters
        ----------
        plane, out_shape
            As for :meth:`process_source`.
        rows : callable
            ``rows(range, values)``: the result's rows ``range`` (a slice) and their float values;
            called from several threads at once, with disjoint ranges that together cover the plane.
        """
        raise NotImplementedError(f"{type(self).__name__} returns whole planes (streams_rows is False)")
        yield  # pragma: no cover - makes this a generator


def process_plane(processor: TileProcessor, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """A whole plane through ``processor`` as the engine would run it: its own upsampling for a
    source processor, else bicubic then :meth:`TileProcessor.process_same` (mirrored at the
    plane's edges, as the engine's tiles are). The plane's dtype is kept."""
    if processor.from_source:
        return processor.process_source(plane, out_shape)
    scale = (out_shape[0] / plane.shape[0], out_shape[1] / plane.shape[1])
    up = np.ascontiguousarray(bicubic_plane(plane, scale), dtype=plane.dtype)
    return processor.process_same(up).astype(plane.dtype)


def process_plane_tensor(processor: TileProcessor, plane: torch.Tensor, out_shape: tuple[int, int]) -> torch.Tensor:
    """:func:`process_plane` of a tensor, on its device (the GPU path of a whole-plane processor):
    bicubic, the borders mirrored by the halo (as :meth:`TileProcessor.process_same` does), then
    the processor moved to the tensor's device."""
    up = bicubic_tensor(plane, out_shape)
    r = processor.halo or 0
    padded = torch.nn.functional.pad(up[None, None], (r, r, r, r), mode="reflect")[0, 0] if r else up
    return processor.to(plane.device, plane.dtype)(padded)


class UnitRangeLearner(TileProcessor):
    """Base of the image-specific learners (ZSSR, IKE): whole low-resolution planes, each scaled to
    [0, 1] by its own range for :meth:`upscale_unit` and back; a flat plane is upsampled by bicubic.
    Outputs are clipped to the plane's range (ZSSR's paper code does so; a briefly trained network
    can overshoot)."""

    halo = None
    from_source = True

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} takes whole low-resolution planes (process_source)")

    @abstractmethod
    def upscale_unit(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        """The super-resolved plane from ``plane`` (float32, in [0, 1]); any float dtype and shape
        near ``out_shape`` (resampled to it)."""

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        lo, hi = float(plane.min()), float(plane.max())
        if hi <= lo:  # flat: nothing to learn or sharpen
            scale = (out_shape[0] / plane.shape[0], out_shape[1] / plane.shape[1])
            return bicubic_plane(plane, scale).astype(plane.dtype)
        scaled = ((plane - lo) / (hi - lo)).astype(np.float32)
        result = np.clip(self.upscale_unit(scaled, out_shape), 0.0, 1.0)
        if result.shape != out_shape:
            result = resample_plane(result, out_shape)
        return (result.astype(np.float64) * (hi - lo) + lo).astype(plane.dtype)


class Identity(TileProcessor):
    """Plain bicubic: the block as it is."""

    halo = 0

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        return block

    def process_same(self, block: np.ndarray) -> np.ndarray:
        return block

    def blended(self, strength: float) -> TileProcessor:
        return self


class LinearFilter(TileProcessor):
    """Convolution with one filter ``h`` (impulse response, odd square); halo is its radius.

    ``unit_sum`` says the filter's taps are meant to sum to exactly 1 (brightness kept): in float64
    the float32 taps' rounding (a few 1e-8) is then removed, so that a constant 4e9 stays 4e9.
    """

    def __init__(self, h: torch.Tensor, unit_sum: bool = False) -> None:
        self.h = h
        self.unit_sum = unit_sum
        self.halo = h.shape[-1] // 2

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        return convolve(block[None, None], self.h, padding="valid")[0, 0]

    def process_same(self, block: np.ndarray) -> np.ndarray:
        import cv2  # imported here: the CPU engine's library, not needed to define methods

        h = self.h.detach().cpu().to(torch.float64)
        if self.unit_sum and block.dtype == np.float64:
            h = project_sum_to_one(h)
        # filter2D correlates: flipping the impulse response makes it a convolution; its mirrored
        # border (REFLECT_101: no edge repeat) is torch's "reflect", as the tiles use
        kernel = np.ascontiguousarray(h.flip(0, 1).numpy().astype(block.dtype))
        return cv2.filter2D(block, -1, kernel, borderType=cv2.BORDER_REFLECT_101)

    def to(self, device: torch.device, dtype: torch.dtype = torch.float32) -> TileProcessor:
        h = self.h.to(device=device, dtype=dtype)
        if self.unit_sum and dtype == torch.float64:
            h = project_sum_to_one(h)
        return LinearFilter(h, self.unit_sum)

    def blended(self, strength: float) -> TileProcessor:
        # blending a linear filter is blending its taps: one convolution instead of two passes
        return LinearFilter(blend_with_identity(self.h, strength), self.unit_sum)


class PlaneFunction(TileProcessor):
    """A function of whole upsampled planes (numpy float64 in, same shape out), such as a
    deconvolution from scikit-image that works in the Fourier domain or iterates."""

    halo = None

    def __init__(self, function: Callable[[np.ndarray], np.ndarray]) -> None:
        self.function = function

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        out = self.function(block.detach().cpu().numpy().astype(np.float64))
        return torch.from_numpy(np.asarray(out, dtype=np.float64)).to(device=block.device, dtype=block.dtype)

    def process_same(self, block: np.ndarray) -> np.ndarray:
        return np.asarray(self.function(block.astype(np.float64)), dtype=np.float64).astype(block.dtype)


class _Blend(TileProcessor):
    def __init__(self, inner: TileProcessor, strength: float) -> None:
        self.inner, self.strength, self.halo = inner, strength, inner.halo
        self.from_source = inner.from_source

    def process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
        return drain(self.iter_process_source(plane, out_shape))

    def iter_process_source(self, plane: np.ndarray, out_shape: tuple[int, int]) -> Generator[str, None, np.ndarray]:
        scale = (out_shape[0] / plane.shape[0], out_shape[1] / plane.shape[1])
        up = bicubic_plane(plane, scale).astype(plane.dtype)
        processed = yield from self.inner.iter_process_source(plane, out_shape)
        return up + plane.dtype.type(self.strength) * (processed - up)

    def __call__(self, block: torch.Tensor) -> torch.Tensor:
        r = self.halo or 0
        core = block[r : block.shape[0] - r, r : block.shape[1] - r]
        return core + self.strength * (self.inner(block) - core)

    def process_same(self, block: np.ndarray) -> np.ndarray:
        processed = self.inner.process_same(block)
        return block + block.dtype.type(self.strength) * (processed - block)

    def to(self, device: torch.device, dtype: torch.dtype = torch.float32) -> TileProcessor:
        return _Blend(self.inner.to(device, dtype), self.strength)

    def with_validity(self, valid: np.ndarray | None) -> TileProcessor:
        inner = self.inner.with_validity(valid)
        return self if inner is self.inner else _Blend(inner, self.strength)


def strength_blend(processor: TileProcessor, strength: float) -> TileProcessor:
    """``processor`` blended with plain bicubic by ``strength`` (1 leaves it as it is)."""
    return processor if strength == 1 else _Blend(processor, strength)


@dataclass(frozen=True)
class Prepared:
    """What a method made of one image at one scale.

    Attributes
    ----------
    method : str
        The method's registered name.
    settings : MethodSettings
        The settings it ran with.
    processor : TileProcessor
        What the engine applies to each tile.
    model : NSSRModel or None
        The filter, when the method's result is one linear filter (shown in the widgets).
    info : Mapping
        What the method estimated or chose for this image (recorded in metadata).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import make_request, prepare
    >>> prepared = prepare(np.ones((32, 32), np.float32), make_request(2, "default"))
    >>> prepared.describe()["method"], prepared.describe()["model"]
    ('filter', 'default')
    """

    method: str
    settings: MethodSettings
    processor: TileProcessor
    model: NSSRModel | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    #: the image's values were multiplied by 2 to this power for the method (0: not; see
    #: :func:`~napari_nssr.engine.pipeline.value_exponent`); applying does so again and undoes it
    value_exponent: int = 0

    def found(self) -> str:
        """One line on what the method measured on the image (``""`` when it says nothing)."""
        estimate = self.info.get("estimate", {})
        return str(estimate.get("summary", "")) if isinstance(estimate, Mapping) else ""

    def describe(self) -> dict[str, Any]:
        """JSON-ready record of the method, its settings and what it found, for layer and file metadata."""
        record: dict[str, Any] = {"method": self.method, "settings": settings_to_dict(self.settings)}
        if self.model is not None:
            record["model"] = self.model.name
            record["filter_size"] = self.model.size
        record.update(self.info)
        return record


class Method(ABC):
    """A super-resolution method (see the module docstring).

    Examples
    --------
    A method is one class (see ``docs/architecture.md``):

    >>> from napari_nssr import Method, Prepared
    >>> from napari_nssr.methods import BicubicSettings
    >>> from napari_nssr.methods.base import Identity
    >>> class Plain(Method):
    ...     name, summary, settings_type = "plain", "bicubic again", BicubicSettings
    ...     def prepare(self, image, plan):
    ...         return Prepared(self.name, plan.settings, Identity())
    >>> Plain.takes_guides
    False
    """

    name: ClassVar[str]
    #: One line for menus and ``--help``.
    summary: ClassVar[str]
    settings_type: ClassVar[type[MethodSettings]]
    #: Whether the method reads guide images (``Request.guides``); others refuse them.
    takes_guides: ClassVar[bool] = False

    @abstractmethod
    def prepare(self, image: Any, plan: Plan) -> Prepared:
        """Look at ``image`` (numpy or dask, any dtype the engine accepts) and make its tile processor.

        Parameters
        ----------
        image : array-like
            The whole input (the method may read a plane or two of it, never change it).
        plan : Plan
            The request on this image: ``plan.settings`` (an instance of :attr:`settings_type`),
            ``plan.scale`` (``(rows, cols)`` factors in ``[1, 16]``), ``plan.layout`` (where its
            spatial and channel axes are) and ``plan.request.guides``.

        Returns
        -------
        Prepared
        """

    def iter_prepare(self, image: Any, plan: Plan) -> Generator[PrepareProgress, None, Prepared]:
        """:meth:`prepare` as a generator of :class:`PrepareProgress` (for GUIs and progress bars).

        Methods whose preparation takes long override it (and make :meth:`prepare` exhaust it);
        the default yields nothing.

        Parameters
        ----------
        image, plan
            As for :meth:`prepare`.

        Returns
        -------
        Prepared
        """
        return self.prepare(image, plan)
        yield  # pragma: no cover - makes this a generator


M = TypeVar("M", bound=type[Method])
_REGISTRY: dict[str, Method] = {}


def register_method(cls: M) -> M:
    """Class decorator: add a :class:`Method` to the registry under its ``name``.

    Parameters
    ----------
    cls : type
        A :class:`Method` subclass with ``name``, ``summary`` and ``settings_type``.

    Returns
    -------
    type
        ``cls`` itself.

    Raises
    ------
    SettingsError
        When the name, or the settings class, is already taken.

    Examples
    --------
    >>> from napari_nssr import register_method
    >>> from napari_nssr.methods import BicubicSettings
    >>> from napari_nssr.methods.bicubic import Bicubic
    >>> class Again(Bicubic):
    ...     name = "bicubic"
    >>> register_method(Again)
    Traceback (most recent call last):
    ...
    napari_nssr.core.errors.SettingsError: a method named 'bicubic' is already registered
    """
    name = cls.name
    if name in _REGISTRY:
        raise SettingsError(f"a method named {name!r} is already registered")
    if any(type(m).settings_type is cls.settings_type for m in _REGISTRY.values()):
        raise SettingsError(f"{cls.settings_type.__name__} already belongs to another method")
    _REGISTRY[name] = cls()
    return cls


def method_names() -> list[str]:
    """Names of the registered methods, in registration order.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from napari_nssr.methods import method_names
    >>> "blind" in method_names() and "wiener" in method_names()
    True
    """
    return list(_REGISTRY)


def get_method(name: str) -> Method:
    """The registered method called ``name``.

    Parameters
    ----------
    name : str
        A registered name (:func:`method_names`).

    Returns
    -------
    Method

    Raises
    ------
    SettingsError
        For an unknown name (the message lists the known ones).

    Examples
    --------
    >>> from napari_nssr.methods import get_method
    >>> get_method("blind").summary
    "a filter solved for each image's own blur and noise (the default)"
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SettingsError(f"unknown method {name!r}; known: {', '.join(_REGISTRY)}") from None


def method_for_settings(settings: Settings) -> Method:
    """The registered method whose settings type ``settings`` is.

    Parameters
    ----------
    settings : MethodSettings
        Settings of a registered method.

    Returns
    -------
    Method
    """
    for method in _REGISTRY.values():
        if type(settings) is method.settings_type:
            return method
    raise SettingsError(f"no registered method takes {type(settings).__name__}")
