"""How responsive the napari widgets stay during long work (issue: "silent waits").

Run under a virtual screen:
``xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python benchmarks/gui_responsiveness.py``

For a 4096 x 4096 float32 image super-resolved x2 with the blind method, and for training the
default preset, it measures:
- the longest GUI stall: a 10 ms timer on the GUI thread, and the most it fired late;
- the longest stretch with the progress bar at one value (a bar that does not move looks hung);
- how long Cancel takes: from the click to the end of the job.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import napari  # noqa: E402
from qtpy.QtCore import QTimer  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402


class Watch:
    """A 10 ms GUI-thread timer recording its lateness, and the progress bar's changes."""

    def __init__(self, task) -> None:
        self.task = task
        self.last = time.perf_counter()
        self.worst = 0.0
        self.changes: list[tuple[float, int, str]] = []
        self.stalls: list[tuple[int, str]] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        late = now - self.last - 0.010
        if late > 0.05:
            self.stalls.append((round(1000 * late), str(self.task.status.value)[:50]))
        self.worst = max(self.worst, late)
        self.last = now
        value = int(self.task.progress.value)
        if not self.changes or self.changes[-1][1] != value:  # the bar moved (a new text alone does not count)
            self.changes.append((now, value, str(self.task.status.value)))

    def longest_still(self) -> tuple[float, str]:
        """The longest time between two progress-bar values, and the status shown then."""
        longest, text = 0.0, ""
        for (t0, _, s0), (t1, _, _) in zip(self.changes, self.changes[1:]):
            if t1 - t0 > longest:
                longest, text = t1 - t0, s0
        return longest, text


def spin_until(condition, timeout: float = 600.0) -> None:
    start = time.perf_counter()
    while not condition():
        QApplication.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - start > timeout:
            raise TimeoutError


def run_and_measure(task, start, cancel_after: float | None = None) -> dict:
    watch = Watch(task)
    t0 = time.perf_counter()
    worker = start()
    assert worker is not None, task.status.value
    spin_until(lambda: task.running)
    clicked = None
    while task.running:
        QApplication.processEvents()
        time.sleep(0.002)
        if cancel_after is not None and clicked is None and time.perf_counter() - t0 > cancel_after:
            clicked = time.perf_counter()
            task.cancel()
    end = time.perf_counter()
    watch.timer.stop()
    if watch.stalls:
        print("stalls over 50 ms (ms, status then):", watch.stalls)
    still, text = watch.longest_still()
    return {
        "seconds": end - t0,
        "worst stall ms": 1000 * watch.worst,
        "longest still s": still,
        "still at": text,
        "cancel s": None if clicked is None else end - clicked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=4096)
    args = parser.parse_args()
    from napari_nssr.objectives.chain import random_natural_image

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    _, sr = viewer.window.add_plugin_dock_widget("napari-nssr", "Super-resolve")
    _, model = viewer.window.add_plugin_dock_widget("napari-nssr", "Model (load, train, inspect)")
    image = random_natural_image(args.side, 2.0, np.random.default_rng(0)).astype(np.float32)
    viewer.layers.selection.active = viewer.add_image(image, name="big")
    QApplication.processEvents()
    results = {}
    results[f"blind x2, {args.side}^2"] = run_and_measure(sr.task, sr.run)
    settle = time.perf_counter()  # napari draws the new 8192^2 layer after the job: not the job's stall
    while time.perf_counter() - settle < 3:
        QApplication.processEvents()
    viewer.layers.selection.active = viewer.layers["big"]
    results[f"blind x2, {args.side}^2, cancel at 3 s"] = run_and_measure(sr.task, sr.run, cancel_after=3.0)
    model.source.value = "train"
    model.preset.value = "default"
    results["training, default preset"] = run_and_measure(model.train_task, model.train)
    results["training, cancel at 2 s"] = run_and_measure(model.train_task, model.train, cancel_after=2.0)
    print("| job | seconds | worst GUI stall (ms) | longest at one progress value (s) | status then | cancel (s) |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        cancel = "" if r["cancel s"] is None else f"{r['cancel s']:.2f}"
        print(
            f"| {name} | {r['seconds']:.1f} | {r['worst stall ms']:.0f} | {r['longest still s']:.2f} | "
            f"{r['still at'][:40]} | {cancel} |"
        )
    viewer.close()


if __name__ == "__main__":
    main()
