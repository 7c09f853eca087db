"""The live lens's latency and the GUI's stalls while panning and zooming (issue #25's targets).

Run under a virtual screen large enough for a 1280 x 800 canvas beside the dock:
``xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python benchmarks/lens.py [--data ../shared/data]``

For each case the Super-resolve widget's lens is turned on over one layer with the default method,
the view zoomed to x3.7 (screen pixels per image pixel), then panned 20 times by a tenth of the
canvas and zoomed 6 times (x3.7 to x6.1 and back), waiting for each view to be shown:

- ``latency``: from setting the camera to the lens showing that view (the newest view; the
  camera's own redraw is part of it, as the user sees it);
- ``gui stall``: a 10 ms timer on the GUI thread, the most it fired late during all of it;
- ``peak rss``: the process's peak resident memory (napari included; the image's own bytes are
  given beside it, and the 2D case runs at two sizes: peak memory that does not grow with the
  image beyond the image itself is what "no whole-result array" means).

Cases: the real Landsat-8 band tiled to 8192 x 8192 uint16 (and 4096 x 4096); a 3-D stack (8 x 2048
x 2048 uint16, the nuclei tiled, the lens on plane 5); the aerial orthophoto tiled to 4096 x 4096
RGB; the 4-band GeoTIFF opened with the plugin's reader (a georeferenced layer). The last line is
one JSON object: the worst case's ``latency_ms_median``, ``latency_ms_p95``, ``max_gui_stall_ms``,
``peak_rss_mb``, and every case.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

warnings.filterwarnings("ignore")

import napari  # noqa: E402
from qtpy.QtCore import QTimer  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from napari_nssr._widgets._lens import camera_of  # noqa: E402

CANVAS = (800, 1280)  # rows, columns


class StallWatch:
    """A 10 ms GUI-thread timer; ``worst`` is the most it fired late."""

    def __init__(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - 0.010)
        self.last = now

    def start(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0
        self.timer.start()


def wait_shown(widget: Any, timeout: float = 120.0) -> float:
    """Process events until the lens shows its newest view; the seconds it took."""
    start = time.perf_counter()
    lens = widget.lens
    while not (lens.shown == lens.serial and lens.layers[0] is not None):
        QApplication.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - start > timeout:
            raise TimeoutError(widget.lens_status.value)
    QApplication.processEvents()
    return time.perf_counter() - start


def tiled(image: np.ndarray, side: int) -> np.ndarray:
    reps = (-(-side // image.shape[0]), -(-side // image.shape[1])) + (1,) * (image.ndim - 2)
    return np.tile(image, reps)[:side, :side]


def fit_canvas(viewer: napari.Viewer) -> tuple[int, int]:
    """Resize the window until the canvas is :data:`CANVAS` (the dock takes its share); the size reached."""
    window = viewer.window._qt_window
    for _ in range(5):
        QApplication.processEvents()
        height, width = viewer.canvas.size
        if (height, width) == CANVAS:
            break
        window.resize(window.width() + CANVAS[1] - width, window.height() + CANVAS[0] - height)
    QApplication.processEvents()
    return tuple(int(v) for v in viewer.canvas.size)


def run_case(viewer: napari.Viewer, widget: Any, layer: Any, step: int | None = None) -> dict[str, Any]:
    """The lens over ``layer`` (on plane ``step`` of a stack): latencies, the worst stall, memory."""
    pixel = float(layer.scale[-1])
    height, width = layer.data.shape[-3:-1] if layer.rgb else layer.data.shape[-2:]
    if step is not None:
        viewer.dims.set_current_step(0, step)
    camera = camera_of(viewer)
    world = np.asarray(layer.translate[-2:]) + pixel * np.array([height / 2, width / 2])
    camera.center = tuple(world)
    camera.zoom = 3.7 / pixel
    widget.layers.value = [layer]
    widget.method.value = "blind"
    widget.lens_on.value = True
    first = wait_shown(widget)
    watch = StallWatch()
    watch.start()
    latencies = []
    for k in range(20):  # pan right and down by a tenth of the canvas each time
        camera.center = tuple(world + (k + 1) * np.array([CANVAS[0], CANVAS[1]]) / 10 / camera.zoom)
        latencies.append(wait_shown(widget))
    zooms = []
    for factor in (4.2, 4.8, 5.4, 6.1, 4.8, 3.7):
        camera.zoom = factor / pixel
        zooms.append(wait_shown(widget))
    watch.timer.stop()
    widget.lens_on.value = False
    QApplication.processEvents()
    every = latencies + zooms
    return {
        "first_view_ms": round(1000 * first, 1),
        "latency_ms_median": round(1000 * statistics.median(every), 1),
        "latency_ms_p95": round(1000 * float(np.percentile(every, 95)), 1),
        "pan_latency_ms_median": round(1000 * statistics.median(latencies), 1),
        "zoom_latency_ms_median": round(1000 * statistics.median(zooms), 1),
        "max_gui_stall_ms": round(1000 * watch.worst, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "image_mb": round(layer.data.nbytes / 2**20, 1) if hasattr(layer.data, "nbytes") else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    parser.add_argument("--screenshot", type=Path, help="save the window with the lens on (2D case) here")
    parser.add_argument(
        "--memory", type=int, metavar="SIDE", help="only the 2D case at this side, its peak memory (run once per "
        "side, each in its own process, with and without --without-lens)"
    )
    parser.add_argument("--without-lens", action="store_true", help="with --memory: the same views, no lens")
    args = parser.parse_args()
    viewer = napari.Viewer(show=True)
    _, widget = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")
    canvas = fit_canvas(viewer)
    landsat = tifffile.imread(args.data / "landsat8_b4_30m.tif")[700:1700, 700:1700]
    if args.memory:
        layer = viewer.add_image(tiled(landsat, args.memory), name="landsat")
        if args.without_lens:
            camera = camera_of(viewer)
            camera.center, camera.zoom = (args.memory / 2, args.memory / 2), 3.7
            for k in range(20):
                camera.center = (args.memory / 2 + 20 * k, args.memory / 2 + 30 * k)
                for _ in range(5):
                    QApplication.processEvents()
                viewer.window._qt_viewer.canvas._scene_canvas.native.repaint()
        else:
            run_case(viewer, widget, layer)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"side": args.memory, "lens": not args.without_lens, "peak_rss_mb": round(peak, 1)}))
        return
    cases: dict[str, Any] = {}
    for side in (4096, 8192):
        layer = viewer.add_image(tiled(landsat, side), name=f"landsat {side}")
        cases[f"2d uint16 {side}"] = run_case(viewer, widget, layer)
        print(f"2d uint16 {side}", cases[f"2d uint16 {side}"], flush=True)
        if side == 8192 and args.screenshot:
            widget.lens_on.value = True
            wait_shown(widget)
            viewer.window._qt_window.grab().save(str(args.screenshot))
            widget.lens_on.value = False
        viewer.layers.remove(layer)
    nuclei = tifffile.imread(args.data / "nuclei.tif")
    stack = np.stack([tiled(nuclei, 2048) for _ in range(8)])
    layer = viewer.add_image(stack, name="stack")
    cases["3d stack slice"] = run_case(viewer, widget, layer, step=5)
    print("3d stack slice", cases["3d stack slice"], flush=True)
    viewer.layers.remove(layer)
    aerial = tifffile.imread(args.data / "aerial_osbs.tif")
    layer = viewer.add_image(tiled(aerial, 4096), name="aerial", rgb=True)
    cases["rgb"] = run_case(viewer, widget, layer)
    print("rgb", cases["rgb"], flush=True)
    viewer.layers.remove(layer)
    layers = viewer.open(str(args.data / "rgbn_5m.tif"), plugin="napari-nssr")
    cases["geotiff"] = run_case(viewer, widget, layers[0])
    print("geotiff", cases["geotiff"], flush=True)
    worst = {key: max(case[key] for case in cases.values()) for key in
             ("latency_ms_median", "latency_ms_p95", "max_gui_stall_ms", "peak_rss_mb")}
    print(json.dumps({**worst, "canvas": list(canvas), "cases": cases}))


if __name__ == "__main__":
    main()
