"""The live lens: what is on screen of one image layer, super-resolved at the canvas's zoom, as a layer
that overlays it; computed on a worker thread, the newest view winning.

The GUI thread only reads the camera (where the canvas looks, at what zoom), hands the view to
:class:`LensThread` and, when a result comes back, sets the lens layer's data and placement. The
thread renders only the newest view it has been given (views made stale by further panning are
dropped before they start) with :class:`~napari_nssr.engine.lens.Lens`, which keeps the method's
per-image and per-plane work between views.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers import Image
from napari.utils.transforms import Affine
from qtpy.QtCore import QObject, Signal

from ..core.errors import NSSRError
from ..engine.lens import Lens, LensImage, View, lens_factor
from ..methods.base import MethodSettings

if TYPE_CHECKING:
    import napari

#: the layer metadata key of the plugin's outputs (the Super-resolve widget does not offer them)
METADATA_KEY = "nssr"


@dataclass(frozen=True)
class LensJob:
    """A numbered request: every lens (the method's and, when comparing, plain bicubic's) on one view."""

    serial: int
    lenses: tuple[Lens, ...]
    view: View


@dataclass(frozen=True)
class LensDone:
    """A job's results (one per lens, ``None`` where nothing is shown), or the error it raised."""

    job: LensJob
    images: tuple[LensImage | None, ...] = ()
    error: str = ""


class LensThread(threading.Thread):
    """Renders the newest job handed to it; ``deliver`` is called on this thread with each :class:`LensDone`."""

    def __init__(self, deliver: Callable[[LensDone], None]) -> None:
        super().__init__(name="nssr-lens", daemon=True)
        self._deliver = deliver
        self._wake = threading.Condition()
        self._latest: LensJob | None = None
        self._stopped = False

    def submit(self, job: LensJob) -> None:
        """Make ``job`` the next to render, dropping any job not yet started."""
        with self._wake:
            self._latest = job
            self._wake.notify()

    def stop(self) -> None:
        """End the thread after the job it is rendering (its result is still delivered, and ignored)."""
        with self._wake:
            self._stopped = True
            self._latest = None
            self._wake.notify()

    def run(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._stopped:
                    self._wake.wait()
                if self._stopped or self._latest is None:
                    return
                job, self._latest = self._latest, None
            try:
                images = tuple(lens.render(job.view) for lens in job.lenses)
                self._deliver(LensDone(job, images))
            except NSSRError as exc:
                self._deliver(LensDone(job, error=str(exc)))
            except Exception as exc:  # a view must never end the thread: say what went wrong
                self._deliver(LensDone(job, error=f"{type(exc).__name__}: {exc}"))


class _Relay(QObject):
    """Carries results from the lens thread to the GUI thread (a queued Qt signal)."""

    done = Signal(object)


def camera_of(viewer: napari.Viewer) -> Any:
    """The viewer's camera (``viewer.scene.camera`` since napari 0.9, ``viewer.camera`` before)."""
    scene = getattr(viewer, "scene", None)
    return scene.camera if scene is not None else viewer.camera


def view_of(viewer: napari.Viewer, layer: Image) -> View:
    """What the canvas shows of ``layer``: its plane on the current slice, the box of its last two data
    axes in view, and the zoom in screen pixels per data pixel (read on the GUI thread; cheap)."""
    height, width = viewer.canvas.viewbox_size(viewer.layers)
    zoom = float(camera_of(viewer).zoom)
    point = np.array(viewer.dims.point, dtype=np.float64)
    rows_axis, cols_axis = viewer.dims.displayed[-2], viewer.dims.displayed[-1]
    centre = np.asarray(camera_of(viewer).center, dtype=np.float64)[-2:]
    corners = []
    for dr in (-0.5, 0.5):
        for dc in (-0.5, 0.5):
            world = point.copy()
            world[rows_axis] = centre[0] + dr * height / zoom
            world[cols_axis] = centre[1] + dc * width / zoom
            corners.append(np.asarray(layer.world_to_data(world), dtype=np.float64))
    data = np.array(corners)
    # data pixels per world unit along the displayed columns: the zoom in screen pixels per data pixel
    world = point.copy()
    world[rows_axis], world[cols_axis] = centre
    here = np.asarray(layer.world_to_data(world), dtype=np.float64)[-2:]
    world[cols_axis] += 1.0
    along = np.asarray(layer.world_to_data(world), dtype=np.float64)[-2:]
    pixel = 1.0 / max(float(np.hypot(*(along - here))), 1e-300)
    lead = layer.ndim - 2
    index = tuple(
        int(np.clip(round(float(v)), 0, n - 1)) for v, n in zip(data[0, :lead], _plane_source(layer).shape[:lead])
    )
    return View(
        index,
        (float(data[:, -2].min()), float(data[:, -2].max())),
        (float(data[:, -1].min()), float(data[:, -1].max())),
        zoom * pixel,
    )


def _plane_source(layer: Image) -> Any:
    return layer.data[0] if layer.multiscale else layer.data


def lens_placement(layer: Image, shown: LensImage) -> dict[str, Any]:
    """Scale and translate (and the source's rotation, shear and affine for a 2D source) that put the
    lens's pixels where those of the whole result would be."""
    scale = np.asarray(layer.scale[-2:], dtype=np.float64)
    translate = np.asarray(layer.translate[-2:], dtype=np.float64)
    shift = scale * np.asarray(shown.offset)
    placement: dict[str, Any] = {}
    if layer.ndim == 2:
        linear = Affine(ndim=2, rotate=layer.rotate, shear=layer.shear).linear_matrix
        shift = linear @ shift
        placement.update(rotate=layer.rotate, shear=layer.shear, affine=layer.affine)
    placement.update(scale=tuple(scale * np.asarray(shown.step)), translate=tuple(translate + shift))
    return placement


class LensController:
    """Keeps a lens layer over ``source`` while it is on: follows the camera, the slice and the settings.

    Parameters
    ----------
    viewer : napari.Viewer
        The viewer whose canvas is followed.
    report : callable
        Called with a short status text (on the GUI thread).
    """

    def __init__(self, viewer: napari.Viewer, report: Callable[[str], None]) -> None:
        self.viewer, self.report = viewer, report
        self.source: Image | None = None
        self.layers: list[Image | None] = [None, None]  # the method's lens, plain bicubic's
        self.lenses: tuple[Lens, ...] = ()
        self.serial = self.shown = 0
        self._relay = _Relay()
        self._relay.done.connect(self._show)
        self._thread: LensThread | None = None
        self._grid_ours = False  # the grid was turned on by the comparison (and goes off with it)

    @property
    def running(self) -> bool:
        """Whether the lens is on."""
        return self._thread is not None

    def start(
        self,
        source: Image,
        settings: MethodSettings,
        max_factor: float,
        device: str,
        compare: bool = False,
        nodata: float | None = None,
    ) -> None:
        """Show the lens for ``source`` with ``settings`` (restarting it if it was on)."""
        keep = [layer for layer in self.layers if layer is not None] if source is self.source else []
        self.stop(remove_layers=not keep)
        self.source = source
        data = _plane_source(source)
        rgb = bool(source.rgb)
        method = Lens(data, settings, rgb, max_factor, device, nodata)
        self.lenses = (method, Lens(data, settings, rgb, max_factor, device, nodata, strength=0.0))[: 1 + compare]
        if not compare and self.layers[1] is not None:
            self._remove(1)
        self._set_grid(compare)
        self._thread = LensThread(self._relay.done.emit)
        self._thread.start()
        for event in self._events():
            event.connect(self.update)
        self.viewer.layers.events.removed.connect(self._removed)
        self.update()

    def stop(self, remove_layers: bool = True) -> None:
        """Turn the lens off: the thread ends, pending views are dropped, its layers go (by default)."""
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
            for event in self._events():
                event.disconnect(self.update)
            self.viewer.layers.events.removed.disconnect(self._removed)
        if remove_layers:
            for which in (0, 1):
                self._remove(which)
            self._set_grid(False)
        self.lenses = ()

    def update(self, *_: object) -> None:
        """Hand the current view to the thread (GUI thread; the newest view wins)."""
        if self._thread is None or self.source is None:
            return
        if self.viewer.dims.ndisplay != 2:
            self.report("lens: shown in the 2D view only")
            return
        view = view_of(self.viewer, self.source)
        self.serial += 1
        self._thread.submit(LensJob(self.serial, self.lenses, view))
        factor = lens_factor(view.zoom, self.lenses[0].max_factor)
        self.report(
            "lens: zoom in past x1 to super-resolve the view" if factor is None else f"lens: computing x{factor:g}..."
        )

    def _events(self) -> list[Any]:
        return [
            camera_of(self.viewer).events.zoom,
            camera_of(self.viewer).events.center,
            self.viewer.dims.events.current_step,
            self.viewer.canvas.events.size,
        ]

    def _show(self, done: LensDone) -> None:
        if self._thread is None or done.job.lenses != self.lenses or done.job.serial <= self.shown:
            return  # from a lens since turned off or restarted, or older than what is shown
        self.shown = done.job.serial
        if done.error:
            self.report(f"lens: {done.error}")
            return
        for which, shown in enumerate(done.images):
            self._place(which, shown)
        pending = " (updating...)" if self.shown < self.serial else ""
        first = done.images[0]
        if first is None:
            self.report("lens: nothing new to show at this zoom (x1 or less) or place" + pending)
        else:
            self.report(f"lens: x{first.factor:g} with {first.record.get('method', '?')}{pending}")

    def _place(self, which: int, shown: LensImage | None) -> None:
        layer = self.layers[which]
        if shown is None:
            if layer is not None and layer.visible:
                layer.visible = False
            return
        assert self.source is not None
        placement = lens_placement(self.source, shown)
        metadata = {METADATA_KEY: {**shown.record, "source": self.source.name, "origin": list(shown.origin)}}
        if layer is None or layer not in self.viewer.layers:
            suffix = "lens" if which == 0 else "lens (bicubic)"
            kwargs: dict[str, Any] = {
                "name": f"{self.source.name} {suffix}",
                "rgb": self.source.rgb,
                "contrast_limits": self.source.contrast_limits,
                "blending": self.source.blending,
                "metadata": metadata,
                **placement,
            }
            if not self.source.rgb:
                kwargs["colormap"] = self.source.colormap
            layer = Image(shown.data, **kwargs)
            self.layers[which] = layer
            self.viewer.add_layer(layer)
            self.viewer.layers.selection.active = self.source  # the lens is not what the user works on
            return
        for name in ("scale", "translate"):  # rotation, shear and affine were set when it was made
            if not np.allclose(getattr(layer, name)[-2:], placement[name], rtol=0, atol=1e-12):
                setattr(layer, name, placement[name])
        layer.metadata = metadata
        layer.data = shown.data
        if not layer.visible:  # setting it refreshes the layer again, even unchanged
            layer.visible = True

    def _remove(self, which: int) -> None:
        layer = self.layers[which]
        self.layers[which] = None
        if layer is not None and layer in self.viewer.layers:
            self.viewer.layers.remove(layer)

    def _set_grid(self, compare: bool) -> None:
        """Side by side with linked cameras while comparing (napari's grid); as it was afterwards."""
        grid = self.viewer.canvas.grid
        if compare and not grid.enabled:
            grid.enabled, self._grid_ours = True, True
        elif not compare and self._grid_ours:
            grid.enabled, self._grid_ours = False, False

    def _removed(self, event: Any) -> None:
        layer = event.value
        if layer is self.source:
            self.stop()
            self.report("lens off: its layer was removed")
        elif any(layer is lens for lens in self.layers):
            self.layers = [None if lens is layer else lens for lens in self.layers]
            if self.layers[0] is None:
                self.stop()
                self.report("lens off: the lens layer was removed")
