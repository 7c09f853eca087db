"""Make the widget screenshots in docs/images with a real napari window.

Run headless with ``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python docs/scripts/screenshots.py``
(needs the ``testing`` or ``all`` extra). Every picture is of the real plugin doing real work, in a
1280 x 800 window (a laptop screen).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*System theme detection.*")

import napari  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "images"


def wait_for(task, timeout: float = 300.0) -> None:
    """Spin the Qt event loop until ``task`` (a TaskControls) has finished its job."""
    start = time.perf_counter()
    while task.running:
        QApplication.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the job did not finish in time")
    for _ in range(20):  # let the last layer draw
        QApplication.processEvents()
        time.sleep(0.02)


def snap(viewer: napari.Viewer, name: str, canvas_only: bool = False) -> None:
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.02)
    viewer.screenshot(str(OUT / name), canvas_only=canvas_only, flash=False)
    print("wrote", OUT / name)


def lens_screenshot(viewer: napari.Viewer) -> None:
    """The live lens over the nuclei image of ../shared/data at x2, beside plain bicubic (the grid)."""
    import tifffile

    data = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "nuclei.tif"
    if not data.exists():
        print("skipped lens-compare.png: no", data)
        return
    _, sr = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")
    nuclei = tifffile.imread(data)
    layer = viewer.add_image(nuclei, name="nuclei")
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    camera.center, camera.zoom = (nuclei.shape[0] * 0.45, nuclei.shape[1] * 0.5), 2.0
    sr.layers.value = [layer]
    sr.lens_on.value = True
    sr.lens_compare.value = True
    start = time.perf_counter()
    while not (sr.lens.shown == sr.lens.serial and sr.lens.layers[1] is not None):
        QApplication.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - start > 120:
            raise TimeoutError(sr.lens_status.value)
    snap(viewer, "lens-compare.png")
    sr.lens_on.value = False


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    dock, sr = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")

    # super-resolve the degraded nuclei sample at x2, scored against its ground truth
    viewer.open_sample("napari-nssr", "nuclei")
    gt, lr = viewer.layers["nuclei ground truth"], viewer.layers["nuclei x2 degraded"]
    viewer.layers.selection.active = lr
    sr.reference.value = gt
    sr.run()
    wait_for(sr.task)
    viewer.reset_view()
    snap(viewer, "super-resolve-widget.png")

    # degraded input, NSSR output and ground truth side by side on one world grid
    viewer.grid.enabled = True
    viewer.grid.shape = (1, 3)
    gt.visible = True
    viewer.window.remove_dock_widget(dock)
    viewer.window._qt_window.resize(1280, 560)
    for _ in range(10):
        QApplication.processEvents()
    viewer.reset_view()
    snap(viewer, "super-resolve-grid.png", canvas_only=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.grid.enabled = False
    viewer.layers.clear()

    # the live lens on the real nuclei image, compared with plain bicubic of the same view
    lens_screenshot(viewer)
    viewer.layers.clear()

    # the model widget: train a model inside napari and inspect its inverse filter
    _, model = viewer.window.add_plugin_dock_widget("napari-nssr", "Model (load, train, inspect)")
    model.source.value = "train"
    model.preset.value = "default"
    model.model_name.value = "my-model"
    model.train()
    wait_for(model.train_task)
    model.add_kernel_layers()
    viewer.reset_view()
    snap(viewer, "model-widget.png")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
