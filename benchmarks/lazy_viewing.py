"""Panning and zooming over a super-resolved scene too big for memory (issue: field data).

Run under a virtual screen (from the project root, with ../shared/data beside it):
``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python benchmarks/lazy_viewing.py [--side 20000]``

A ``side`` x ``side`` uint16 scene (the real Landsat-8 band tiled, a tiled TIFF) is opened with the
plugin's reader (a lazy pyramid), super-resolved x2 with the Super-resolve widget (a lazy pyramid
whose coarser levels are the source's), and viewed in a 1280 x 800 window: the whole scene, then
full resolution at the centre, panned by a screen width five times, then zoomed out step by step.
Each step is timed from the camera move to the end of the redraw (napari loads what it shows on
the GUI thread, so this is what the user waits for), and the process's peak memory is reported.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

import napari  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from field_data import field_image  # noqa: E402


def settle(viewer: napari.Viewer) -> float:
    """Redraw now and process events until idle; the seconds it took."""
    start = time.perf_counter()
    canvas = viewer.window._qt_viewer.canvas
    for _ in range(3):
        QApplication.processEvents()
        canvas._scene_canvas.native.repaint()
    QApplication.processEvents()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=20000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nssr-view-"))
    source = field_image(args.side, work / "scene.tif")
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    _, widget = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")
    (layer,) = viewer.open(source, plugin="napari-nssr")
    print(f"source: {layer.data.shapes if hasattr(layer.data, 'shapes') else layer.level_shapes}")
    viewer.layers.selection.active = layer
    widget.method.value = "filter"
    widget.model.value = "default"
    started = time.perf_counter()
    widget.run()
    while widget.task.running or not any(n.endswith("(NSSR)") for n in map(str, viewer.layers)):
        QApplication.processEvents()
        time.sleep(0.01)
    print(f"super-resolve (lazy result made): {time.perf_counter() - started:.2f} s")
    out = next(layer for layer in viewer.layers if layer.name.endswith("(NSSR)"))
    print(f"result levels: {out.level_shapes.tolist()}")
    layer.visible = False
    steps = []
    viewer.reset_view()
    steps.append(("whole scene", settle(viewer)))
    extent = out.extent.world[1]
    centre = ((extent[0] + out.extent.world[0][0]) / 2, (extent[1] + out.extent.world[0][1]) / 2)
    viewer.camera.center = centre
    viewer.camera.zoom = 1.0 / out.scale[-1]  # one screen pixel per output pixel
    steps.append(("full resolution, centre", settle(viewer)))
    for k in range(5):
        viewer.camera.center = (centre[0], centre[1] + (k + 1) * 1280 * out.scale[-1])
        steps.append((f"pan right {k + 1} screen(s)", settle(viewer)))
    for zoom in (0.5, 0.25, 0.125, 0.0625):
        viewer.camera.zoom = zoom / out.scale[-1]
        steps.append((f"zoom {zoom:g}", settle(viewer)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| view | seconds until drawn |")
    print("|---|---|")
    for name, seconds in steps:
        print(f"| {name} | {seconds:.2f} |")
    print(f"peak memory of the napari process: {peak:.0f} MB")
    viewer.close()


if __name__ == "__main__":
    main()
