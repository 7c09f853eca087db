"""The super-resolve widget: chosen image layers x enabled scales -> new layers that overlay their source."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, Label, PushButton, Select
from napari.layers import Image
from napari.utils.notifications import show_info, show_warning
from napari.utils.transforms import Affine

from .._writer import write_geotiff_layers
from ..core.devices import available_devices
from ..core.errors import ImageError, NSSRError, ResourceError, SettingsError
from ..core.layout import MAX_SCALE, MAX_STRENGTH
from ..core.metrics import compare_to_reference
from ..core.overlay import overlay_geometry
from ..core.progress import InferenceProgress, PrepareProgress, relay
from ..core.request import Plan, Request
from ..engine.api import upsample_bicubic
from ..engine.pipeline import apply_lazy, iter_apply, iter_prepare
from ..methods.base import MethodSettings, get_method, method_for_settings
from ..methods.psf.kernels import FIELDS_BY_SOURCE, OPTICS_FIELDS
from ..methods.resolve import DEFAULT_METHOD, method_menu
from ..models.model import NSSRModel
from ._guides import check_overlay, guide_arrays, guide_scale
from ._lens import LensController
from ._lifetime import connect_while_alive
from ._session import SESSION_MODELS, model_choices
from ._settings_form import SettingsForm, compact
from ._task import ScrollingDock, TaskControls, wrapped

if TYPE_CHECKING:
    import napari

METADATA_KEY = "nssr"
FILE_METADATA_KEY = "nssr_file"  # written by the plugin's reader (napari_nssr._reader)
NOT_AN_IMAGE = "The selected layer is a"


class ScaleRow(Container):
    """One output scale: on/off, the factor (editable on the custom row) and its strength."""

    def __init__(self, factor: float, enabled: bool, custom: bool = False) -> None:
        self.use = CheckBox(
            value=enabled,
            text="custom" if custom else f"x{factor:g}",
            tooltip="make an output at this scale" if not custom else "make an output at the custom factor",
        )
        self.factor = FloatSpinBox(
            value=factor,
            min=1.0,
            max=MAX_SCALE,
            step=0.1,
            visible=custom,
            tooltip=f"the custom scale factor: 1 to {MAX_SCALE:g}, any real number",
        )
        self.factor.native.setPrefix("x")
        self.strength = FloatSpinBox(
            value=1.0,
            min=0.0,
            max=MAX_STRENGTH,
            step=0.05,
            tooltip="0 = plain bicubic, 1 = the method's full result, above 1 = sharper (up to 4)",
        )
        self.strength.native.setPrefix("strength ")
        super().__init__(widgets=[self.use, self.factor, self.strength], layout="horizontal", labels=False)


@dataclass
class Job:
    """One output layer to make: everything read from the GUI before the worker starts (the request
    on the layer's data, planned)."""

    source: str
    data: Any
    layer: Any
    plan: Plan
    layer_kwargs: dict[str, Any]
    reference: Any = None

    @property
    def scale(self) -> float:
        """The (equal) factor of both axes."""
        return self.plan.scale[0]

    @property
    def rgb(self) -> bool:
        """Whether the last axis is colour."""
        return self.plan.layout.rgb


@dataclass
class JobDone:
    """A finished output layer with its scores against the reference (if one was chosen)."""

    job: Job
    data: Any
    scores: tuple[float, float] | None = None
    bicubic_scores: tuple[float, float] | None = None
    note: str = ""
    model: NSSRModel | None = None
    found: str = ""  # what the method measured on the image (blur, noise, spectrum)


@dataclass
class Step:
    """Overall progress in 0..1 and what is being done."""

    fraction: float
    text: str


# outputs wider than this are shown as a multiscale pyramid: napari then uploads only the level it
# draws (adding an 8192 x 8192 layer whole held the GUI 0.1-0.4 s)
PYRAMID_ABOVE = 4096
PYRAMID_SMALLEST = 1024


def source_levels(layer: Any) -> list[Any]:
    """A layer's data as a list of levels (one for a plain layer)."""
    return list(layer.data) if getattr(layer, "multiscale", False) else [layer.data]


def lazy_view(data: np.ndarray, rgb: bool) -> Any:
    """``data`` as a dask array chunked one plane (colour planes together) and 1024 pixels at a time."""
    spatial = (data.ndim - 3, data.ndim - 2) if rgb else (data.ndim - 2, data.ndim - 1)
    chunks = tuple(1 if a < spatial[0] else (1024 if a in spatial else -1) for a in range(data.ndim))
    return da.from_array(data, chunks=chunks)


def display_pyramid(data: Any, rgb: bool, source: list[Any] | None = None) -> Any:
    """``data`` as napari levels when a plane is wider than :data:`PYRAMID_ABOVE`; otherwise
    ``data`` itself.

    In-memory results are halved by striding (views only). A lazy result is computed only where
    it is viewed at full resolution: its coarser levels are the ``source`` levels (the input, which
    a super-resolved image equals once averaged down), so zooming out never computes the whole
    result.
    """
    axes = (-3, -2) if rgb else (-2, -1)
    if max(data.shape[a] for a in axes) <= PYRAMID_ABOVE:
        return data
    if not isinstance(data, np.ndarray):
        if not source:
            return data
        return [data] + [level for level in source if all(level.shape[a] < data.shape[a] for a in axes)]
    levels = [data]
    step = [slice(None)] * data.ndim
    for axis in axes:
        step[axis] = slice(None, None, 2)
    while max(levels[-1].shape[a] for a in axes) > PYRAMID_SMALLEST:
        levels.append(levels[-1][tuple(step)])
    return levels


def _image_layers(viewer: napari.Viewer) -> list[tuple[str, Image]]:
    """The image layers to offer, less the live lens's own (they come and go with the view)."""
    return [
        (layer.name, layer)
        for layer in viewer.layers
        if isinstance(layer, Image) and not (layer.metadata.get(METADATA_KEY) or {}).get("lens")
    ]


def georeferenced(metadata: dict[str, Any]) -> bool:
    """Whether a layer's metadata carries a GeoTIFF's georeference (read by this plugin's reader)."""
    record = metadata.get(FILE_METADATA_KEY)
    return isinstance(record, dict) and bool(record.get("geo"))


def _file_nodata(layer: Any) -> float | None:
    """The nodata value a layer's file declares (read by this plugin's reader), if any."""
    return (layer.metadata.get(FILE_METADATA_KEY) or {}).get("nodata")


def output_name(source: str, scale: float, strength: float) -> str:
    """``"cells x2 (NSSR)"``; plain bicubic outputs (strength 0) say so."""
    return f"{source} x{scale:g} ({'bicubic' if strength == 0 else 'NSSR'})"


def check_layer(layer: Any) -> None:
    """Raise :class:`ImageError` with a plain message if ``layer`` cannot be super-resolved."""
    if not isinstance(layer, Image):
        kind = type(layer).__name__
        raise ImageError(f"'{getattr(layer, 'name', layer)}' is a {kind} layer; super-resolution works on image layers")


def output_layer_kwargs(layer: Image, out_shape: tuple[int, ...], scale: float, strength: float) -> dict[str, Any]:
    """Keyword arguments for the output layer: overlay geometry, the source's look, and provenance."""
    ndim = layer.ndim
    linear = Affine(ndim=ndim, rotate=layer.rotate, shear=layer.shear).linear_matrix
    shape_in = source_levels(layer)[0].shape
    new_scale, new_translate = overlay_geometry(layer.scale, layer.translate, shape_in[:ndim], out_shape[:ndim], linear)
    kwargs: dict[str, Any] = {
        "name": output_name(layer.name, scale, strength),
        "scale": new_scale,
        "translate": new_translate,
        "rotate": layer.rotate,
        "shear": layer.shear,
        "affine": layer.affine,
        "rgb": layer.rgb,
        "contrast_limits": layer.contrast_limits,
        "gamma": layer.gamma,
        "opacity": layer.opacity,
        "blending": layer.blending,
        "metadata": {**layer.metadata},
    }
    if not layer.rgb:
        kwargs["colormap"] = layer.colormap
    for optional in ("units", "axis_labels", "interpolation2d"):
        if hasattr(layer, optional):
            kwargs[optional] = getattr(layer, optional)
    return kwargs


def run_jobs(jobs: list[Job]) -> Generator[Step | JobDone, None, int]:
    """Worker body: super-resolve each job as its plan says, yielding :class:`Step` progress and each
    :class:`JobDone`."""
    n = len(jobs)
    for i, job in enumerate(jobs):
        label = f"{job.source} x{job.scale:g}"
        yield Step(i / n, f"{label}: preparing {method_for_settings(job.plan.settings).name}")
        trained: list[PrepareProgress] = []  # a method training on the image: half this job's bar

        def training_step(step: PrepareProgress, i: int = i, label: str = label, trained: list = trained) -> Step:
            trained.append(step)
            return Step((i + 0.5 * step.done / max(1, step.total)) / n, f"{label}: {step.text}")

        prepared = yield from relay(iter_prepare(job.data, job.plan), training_step)
        share = 0.5 if trained else 0.0
        if isinstance(job.data, da.Array):  # stays lazy: computed chunk by chunk as napari draws it
            data = apply_lazy(job.data, job.plan, prepared)
        else:

            def tile_step(p: InferenceProgress, i: int = i, label: str = label, share: float = share) -> Step:
                within = f"tile {p.done} of {p.total}" if p.phase == InferenceProgress.phase else p.phase
                return Step((i + share + (1 - share) * p.done / p.total) / n, f"{label}: {within}")

            data = yield from relay(iter_apply(job.data, job.plan, prepared), tile_step)
        job.layer_kwargs["metadata"][METADATA_KEY] = {
            **prepared.describe(),
            "scale": job.scale,
            "strength": job.plan.strength,
            "source": job.source,
            "device": job.plan.request.device,
        }
        if job.reference is not None:
            yield Step((i + 1) / n, f"{label}: scoring against the ground truth")
        finished = _scored(job, data)
        finished.model = prepared.model
        finished.found = prepared.found()
        yield finished
    return n


def _scored(job: Job, data: Any) -> JobDone:
    if job.reference is None:
        return JobDone(job, data)
    reference = np.asarray(job.reference)
    if reference.shape != tuple(data.shape):
        shapes = f"{'x'.join(map(str, reference.shape))} against {'x'.join(map(str, data.shape))}"
        return JobDone(job, data, note=f"not scored: the ground truth's shape differs ({shapes})")
    bicubic = upsample_bicubic(job.data, job.scale, rgb=job.rgb)
    return JobDone(
        job,
        data,
        compare_to_reference(reference, np.asarray(data), job.rgb),
        compare_to_reference(reference, np.asarray(bicubic), job.rgb),
    )


def score_line(done: JobDone) -> str:
    """The score table's lines for one output: its PSNR and SSIM and their gains over bicubic (or why
    it has none), then what the method found on the image (blur, noise, spectrum) when it says."""
    name = done.job.layer_kwargs["name"]
    found = f"{name}: found {done.found}" if done.found else ""
    if done.scores is None or done.bicubic_scores is None:
        return "\n".join(line for line in (f"{name}: {done.note}" if done.note else "", found) if line)
    (psnr, ssim), (b_psnr, b_ssim) = done.scores, done.bicubic_scores
    line = f"{name}: PSNR {psnr:.2f} dB ({psnr - b_psnr:+.2f} over bicubic), SSIM {ssim:.4f} ({ssim - b_ssim:+.4f})"
    if psnr < b_psnr:
        line += ": below plain bicubic, the method's assumptions do not fit this image (try blind, or a lower strength)"
    return "\n".join(line for line in (line, found) if line)


class SuperResolveWidget(ScrollingDock):
    """Super-resolve the chosen image layers at each enabled scale; outputs overlay their sources."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        inputs = self._input_widgets(viewer)
        method = self._method_widgets()
        self.device = compact(
            ComboBox(
                label="Device",
                choices=["auto", *available_devices()],
                value="auto",
                tooltip="where to compute: auto uses CUDA when torch sees a GPU",
            )
        )
        self.reference = compact(
            ComboBox(
                label="Ground truth",
                choices=lambda _: [("none", None), *_image_layers(viewer)],
                tooltip="a high-resolution layer to score outputs against (PSNR, SSIM), with plain bicubic "
                "for comparison",
            )
        )
        self.task = TaskControls("Super-resolve")
        self.in_use = wrapped(Label(value=""))
        self.scores = wrapped(Label(value=""))
        self.results: list[JobDone] = []
        self.save_geotiff_button = PushButton(
            text="Save GeoTIFF...",
            enabled=False,
            tooltip="save the selected georeferenced outputs as one GeoTIFF with their CRS, origin, pixel size and "
            "nodata (napari's own TIFF writer drops them)",
        )
        self.save_geotiff_button.changed.connect(self._ask_and_save_geotiff)
        lens = self._lens_widgets(viewer)
        # the run button, its progress and the run's scores come right after what to run (layers, scales,
        # method), above the method's settings: at 1280 x 800 they stay in view with any form (they were
        # below the fold)
        choice, forms = method[:2], method[2:]
        super().__init__(
            widgets=[
                *inputs,
                *choice,
                self.task,
                self.in_use,
                self.scores,
                self.save_geotiff_button,
                lens,
                *forms,
                self.device,
                self.reference,
            ]
        )
        self.optics_note = wrapped(Label(value=""))
        self.forms["psf"].append(self.optics_note)
        self.guides = Select(
            label="Guide layers",
            choices=lambda _: _image_layers(viewer),
            tooltip="sharper bands of the same scene on the result's grid (a GeoTIFF read by this plugin sits "
            "there by its georeference); their grid sets the scale",
        )
        self.guides.native.setMaximumHeight(80)
        self.forms["guided"].append(self.guides)
        self._connect(viewer)
        self._follow_selection()

    def _input_widgets(self, viewer: napari.viewer.Viewer) -> list[Any]:
        """The layers to super-resolve and the scale rows."""
        self.layers = Select(
            label="Image layers",
            choices=lambda _: _image_layers(viewer),
            tooltip="every chosen layer is super-resolved at every enabled scale (follows the layer list "
            "selection; this widget's own outputs are not picked up unless you tick them)",
        )
        self.layers.native.setMaximumHeight(100)
        self.scale_rows = [ScaleRow(2, True), ScaleRow(3, False), ScaleRow(4, False), ScaleRow(1.5, False, custom=True)]
        return [self.layers, Container(widgets=self.scale_rows, labels=False)]

    def _lens_widgets(self, viewer: napari.viewer.Viewer) -> Container:
        """The live lens: on/off (also Shift-L), its largest factor, the comparison with bicubic, its status."""
        self.lens_on = CheckBox(
            value=False,
            text="Live lens (Shift-L)",
            tooltip="super-resolve what is on screen of the first chosen layer at the canvas's zoom, as a layer "
            "over it; it follows pan, zoom, the slice and the settings below",
        )
        self.lens_max = FloatSpinBox(
            value=8.0,
            min=1.5,
            max=MAX_SCALE,
            step=0.5,
            tooltip="the lens's largest factor: zoomed further, it shows this factor enlarged",
        )
        self.lens_max.native.setPrefix("up to x")
        self.lens_compare = CheckBox(
            value=False,
            text="compare",
            tooltip="show plain bicubic of the same view beside it (napari's grid, cameras linked)",
        )
        self.lens_status = wrapped(Label(value=""))
        self.lens = LensController(viewer, self._lens_report)
        # two short rows: one long row made the dock wider than a laptop screen leaves it
        controls: list[Any] = [self.lens_on, self.lens_compare]
        row = Container(widgets=controls, layout="horizontal", labels=False)
        row.margins = (0, 0, 0, 0)
        for control in (self.lens_on, self.lens_max, self.lens_compare):
            control.changed.connect(self.refresh_lens)
        viewer.bind_key("Shift-L", self._toggle_lens, overwrite=True)
        return Container(widgets=[row, self.lens_max, self.lens_status], labels=False)

    def _toggle_lens(self, *_: object) -> None:
        self.lens_on.value = not self.lens_on.value

    def _lens_report(self, text: str) -> None:
        self.lens_status.value = text
        if text.startswith("lens off"):
            with self.lens_on.changed.blocked():
                self.lens_on.value = False

    def refresh_lens(self, *_: object) -> None:
        """Start, restart (new settings, layer or factor) or stop the live lens as the controls say."""
        if not self.lens_on.value:
            if self.lens.running or any(self.lens.layers):
                self.lens.stop()
                self.lens_status.value = ""
            return
        layers = [layer for layer in self.layers.value if isinstance(layer, Image)]
        if not layers:
            self._lens_report("lens off: choose an image layer")
            return
        if get_method(self.method.value).takes_guides:
            # its guides lie on one grid, the result's: a view at any zoom has none
            self._lens_report(f"lens off: the {self.method.value} method runs on its guides' grid, not at any zoom")
            return
        try:
            settings = self.method_settings()
        except NSSRError as exc:
            self.lens_status.value = f"lens: {exc}"
            return
        nodata = _file_nodata(layers[0])
        self.lens.start(
            layers[0], settings, float(self.lens_max.value), self.device.value, bool(self.lens_compare.value), nodata
        )

    def _method_widgets(self) -> list[Any]:
        """The method, its summary and one generated settings form per method (the chosen one shown)."""
        self.method = compact(
            ComboBox(
                label="Method",
                choices=method_menu(),
                value=DEFAULT_METHOD,
                tooltip="how the image is super-resolved:\n"
                + "\n".join(f"{name}: {get_method(name).summary}" for name in method_menu()),
            )
        )
        self.method_summary = wrapped(Label(value=""))
        self.model = compact(
            ComboBox(
                name="model",
                label="Model",
                choices=model_choices,
                tooltip="the inverse filter the 'filter' method applies: a bundled model, the per-scale family "
                "'chain', or a model loaded or trained in the Model widget",
            )
        )
        self.forms = {
            name: SettingsForm(
                get_method(name).settings_type, overrides={"model": self.model} if name == "filter" else None
            )
            for name in method_menu()
        }
        self._follow_psf_source()
        return [self.method, self.method_summary, *self.forms.values()]

    def _follow_psf_source(self) -> None:
        """The PSF sub-form shows only the fields its source uses (no confocal pinhole for a widefield PSF)."""
        psf_form = self.forms["psf"].nested.get("psf")
        if psf_form is None:
            return
        source = psf_form.fields["source"]

        def show(*_: object) -> None:
            psf_form.show_only(set(FIELDS_BY_SOURCE.get(str(source.value), tuple(psf_form.fields))))

        source.changed.connect(show)
        show()

    def _connect(self, viewer: napari.viewer.Viewer) -> None:
        self.method.changed.connect(self._show_method)
        for changed in (self.method.changed, self.device.changed, self.layers.changed):
            changed.connect(self._settings_changed)
        for form in self.forms.values():
            form.changed.connect(self._settings_changed)
        self.guides.changed.connect(self._settings_changed)
        self.model.changed.connect(self._announce_model)
        self._show_method(self.method.value)
        self.task.run_button.changed.connect(self.run)
        layer_events = viewer.layers.events
        connect_while_alive(
            self,
            [
                (layer_events.inserted, self.reset_choices),
                (layer_events.removed, self.reset_choices),
                (layer_events.reordered, self.reset_choices),
                (viewer.layers.selection.events.changed, self._follow_selection),
                (SESSION_MODELS.changed, self.reset_choices),
                (SESSION_MODELS.chosen, self._choose_model),
            ],
        )

    def _settings_changed(self, *_: object) -> None:
        if self.layers.value and self.task.status.value.startswith(NOT_AN_IMAGE):
            self.task.status.value = ""  # images are chosen now: the note about a labels layer is stale
        if self.lens_on.value:
            self.refresh_lens()

    def _follow_selection(self, *_: object) -> None:
        selected = list(self._viewer.layers.selection)
        # napari selects each new layer: our own outputs are not offered again unless picked by hand
        chosen = [layer for layer in selected if isinstance(layer, Image) and METADATA_KEY not in layer.metadata]
        if chosen:
            self.layers.value = chosen
            self.offer_optics()
        elif selected and not any(isinstance(layer, Image) for layer in selected):
            # a labels or points layer: say so, rather than silently keep the previous image
            self.layers.value = []
            kinds = ", ".join(sorted({type(layer).__name__ for layer in selected}))
            self.task.status.value = f"{NOT_AN_IMAGE} {kinds} layer: choose an image layer."

    def offer_optics(self) -> None:
        """Fill the ``psf`` method's optics from the first chosen layer's file (OME metadata read by
        this plugin's reader), as editable defaults."""
        layers = list(self.layers.value)
        record = layers[0].metadata.get(FILE_METADATA_KEY) if layers else None
        if not record:
            return
        found = dict(record.get("optics") or {})
        if record.get("pixel_size_um"):
            found["pixel_um"] = record["pixel_size_um"]
        fields = self.forms["psf"].nested["psf"].fields
        used = {name: value for name, value in found.items() if name in OPTICS_FIELDS and name in fields}
        for name, value in used.items():
            fields[name].value = value
        if used:
            listed = ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in used.items())
            self.optics_note.value = f"From {layers[0].name}'s file: {listed}"

    def _show_method(self, name: str) -> None:
        for method, form in self.forms.items():
            form.visible = method == name
        self.method_summary.value = get_method(name).summary
        self._announce_model()

    def _announce_model(self, *_: object) -> None:
        """Say which model the next run uses, here and (through the session) in the Model widget."""
        name = self.method.value
        if name == "filter":
            value = self.model.value
            text = f"Model in use: {value if isinstance(value, str) else value.name} (filter method)"
        elif name in ("blind", "psf"):
            text = f"Model in use: solved for each image by the {name} method (shown in the Model widget after a run)"
        else:
            text = f"No model: the {name} method does not use one"
        self.in_use.value = text
        SESSION_MODELS.report_in_use(text)

    def _choose_model(self, value: NSSRModel | str) -> None:
        self.reset_choices()
        self.method.value = "filter"
        self.model.value = value

    def method_settings(self) -> MethodSettings:
        """The chosen method's settings from its form (raises ``SettingsError`` with a message)."""
        return self.forms[self.method.value].settings()

    def enabled_scales(self) -> list[tuple[float, float]]:
        """``(scale, strength)`` of each enabled row, duplicates dropped."""
        seen: dict[float, float] = {}
        for row in self.scale_rows:
            if row.use.value:
                seen.setdefault(round(float(row.factor.value), 6), float(row.strength.value))
        return list(seen.items())

    def plan(self, layers: list[Any] | None = None) -> list[Job]:
        """Check the inputs and the form, and list the jobs (a request per layer and scale); raises
        :class:`NSSRError` with a message for the user."""
        layers = list(self.layers.value if layers is None else layers)
        if not layers:
            raise ImageError("choose at least one image layer")
        scales = self.enabled_scales()
        guided = get_method(self.method.value).takes_guides
        if not scales and not guided:
            raise SettingsError("enable at least one scale")
        settings = self.method_settings()
        reference = self.reference.value
        jobs = []
        for layer in layers:
            check_layer(layer)
            data = source_levels(layer)[0]
            nodata = _file_nodata(layer)
            guides: tuple[Any, ...] = ()
            if guided:  # the guides' grid sets the scale; an enabled row of that scale gives the strength
                chosen = list(self.guides.value)
                scale = guide_scale(layer, chosen)
                for guide in chosen:
                    check_overlay(layer, guide, scale)
                guides = tuple(guide_arrays(chosen, _file_nodata))
                scales = [(scale, dict(self.enabled_scales()).get(round(scale, 6), 1.0))]
            for scale, strength in scales:
                request = Request(
                    (scale, scale), settings, strength, layer.rgb, self.device.value, nodata, guides=guides
                )
                plan = request.plan(data)
                source = data
                if not isinstance(data, da.Array):
                    try:
                        plan.check_memory()
                    except ResourceError:
                        # too big for memory: computed lazily, chunk by chunk, where it is viewed
                        source = lazy_view(data, plan.layout.rgb)
                kwargs = output_layer_kwargs(layer, plan.shape, scale, strength)
                ref = None if reference is None or reference is layer else reference.data
                jobs.append(Job(layer.name, source, layer, plan, kwargs, ref))
        return jobs

    def run(self) -> Any:
        """Start super-resolving in a worker; returns the worker, or ``None`` if the inputs are unusable."""
        try:
            jobs = self.plan()
        except NSSRError as exc:
            self.task.fail(str(exc))
            return None
        self.results = []
        self.scores.value = ""
        return self.task.start(run_jobs, self._on_yield, self._on_return, jobs)

    def _on_yield(self, item: Step | JobDone) -> None:
        if isinstance(item, Step):
            self.task.report(item.fraction, item.text)
            return
        if item.job.layer not in self._viewer.layers:  # deleted while it was being super-resolved
            item.note = "not added: its source layer was deleted during the run"
        else:
            shown = display_pyramid(item.data, item.job.rgb, source_levels(item.job.layer))
            self._viewer.add_layer(Image(shown, multiscale=shown is not item.data, **item.job.layer_kwargs))
            if georeferenced(item.job.layer_kwargs["metadata"]):
                self.save_geotiff_button.enabled = True
                show_info(
                    f"{item.job.layer_kwargs['name']} is georeferenced: save it with 'Save GeoTIFF...' in the "
                    "Super-resolve widget (or File > Save Selected Layers, napari-nssr's GeoTIFF); napari's own "
                    "TIFF writer drops the CRS, origin and nodata"
                )
        self.results.append(item)
        self.scores.value = "\n".join(line for line in map(score_line, self.results) if line)
        below = item.scores is not None and item.bicubic_scores is not None and item.scores[0] < item.bicubic_scores[0]
        if below:
            show_warning(f"{item.job.layer_kwargs['name']} scores below plain bicubic: see the widget's scores")
        if item.model is not None:
            self.in_use.value = f"Model used for {item.job.layer_kwargs['name']}: {item.model.name}"
            SESSION_MODELS.report_in_use(self.in_use.value, item.model)

    def georeferenced_selection(self) -> list[Image]:
        """The selected layers that carry a GeoTIFF's georeference (in layer order)."""
        return [layer for layer in self._viewer.layers.selection if georeferenced(layer.metadata)]

    def save_geotiff(self, path: str) -> list[str]:
        """Save the selected georeferenced layers as one GeoTIFF at ``path`` (the plugin's writer: CRS,
        origin, pixel size divided by the scale, nodata); says what it did in the status line."""
        layers = [layer for layer in self._viewer.layers if layer in self.georeferenced_selection()]
        if not layers:
            self.task.fail("select the georeferenced outputs to save (layers from a GeoTIFF read by napari-nssr)")
            return []
        try:
            written = write_geotiff_layers(path, [layer.as_layer_data_tuple() for layer in layers])
        except NSSRError as exc:
            self.task.fail(str(exc))
            return []
        self.task.status.value = f"Saved {len(layers)} layer{'s' * (len(layers) != 1)} as GeoTIFF: {path}"
        return written

    def _ask_and_save_geotiff(self, *_: object) -> None:
        from qtpy.QtWidgets import QFileDialog

        chosen = QFileDialog.getSaveFileName(self.native, "Save GeoTIFF", "", "GeoTIFF (*.tif *.tiff)")[0]
        if chosen:
            self.save_geotiff(chosen)

    def _on_return(self, count: int) -> None:
        added = sum(1 for r in self.results if not r.note.startswith("not added"))
        self.task.report(1.0, f"Done: {added} layer{'s' * (added != 1)} added.")
