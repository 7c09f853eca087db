"""The model widget: use a bundled model, load a model file, or train one; inspect it and save it."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import ComboBox, Container, FileEdit, Label, LineEdit, PushButton, RadioButtons
from magicgui.widgets import Image as ImageView
from napari.utils.colormaps import ensure_colormap
from napari.utils.notifications import show_error, show_info

from ..core.devices import available_devices
from ..core.diagnostics import kernel_mosaic
from ..core.errors import NSSRError, SettingsError
from ..core.kernels import GallerySettings, kernel_families, make_gallery
from ..models.bundled import load_model, model_for_scale
from ..models.files import save_model
from ..models.model import NSSRModel
from ..networks.lcnn import LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings
from ..training.presets import PRESETS
from ..training.trainer import TrainProgress, TrainResult, TrainSettings, iter_train
from ._lifetime import connect_while_alive
from ._session import SESSION_MODELS, bundled_choices
from ._settings_form import SettingsForm, compact
from ._task import ScrollingDock, TaskControls, wrapped

if TYPE_CHECKING:
    import napari

SHOWN_KERNELS = 4
MODEL_SUFFIX = ".safetensors"
# the gallery fields each kernel family uses (the others keep their values, hidden)
COMMON_FIELDS = {"family", "count", "size", "seed"}
FAMILY_FIELDS = {
    "anisotropic_gaussian": {"sigma_min", "sigma_max", "sigma_is"},
    "isotropic_gaussian": {"sigma_min", "sigma_max", "sigma_is"},
    "div2krk": {"scale"},
    "file": {"kernel_path"},
    "widefield": {"numerical_aperture", "wavelength_um", "pixel_um", "immersion_index", "defocus_um"},
}


def colourise(values: np.ndarray, colormap: str, limit: float, zoom: int) -> np.ndarray:
    """RGB uint8 picture of ``values`` in ``[-limit, limit]`` with a napari colormap, enlarged ``zoom`` times."""
    unit = np.clip((np.asarray(values, dtype=np.float64) / (limit or 1.0) + 1) / 2, 0, 1)
    rgba = ensure_colormap(colormap).map(unit.ravel()).reshape(*unit.shape, 4)
    rgb = (rgba[..., :3] * 255).round().astype(np.uint8)
    return np.kron(rgb, np.ones((zoom, zoom, 1), dtype=np.uint8))


def sample_kernels(model: NSSRModel, count: int = SHOWN_KERNELS) -> np.ndarray:
    """A few kernels from the model's own gallery (the paper's gallery if that one cannot be drawn now)."""
    try:
        # a small fresh draw from the same family: drawing the whole gallery would stall the GUI
        gallery = make_gallery(replace(model.gallery, seed=model.gallery.seed + 1, count=min(model.gallery.count, 16)))
    except (NSSRError, OSError):  # e.g. a PSF file that has moved since training
        gallery = make_gallery(GallerySettings(count=count))
    picks = np.linspace(0, len(gallery) - 1, min(count, len(gallery))).round().astype(int)
    return gallery[picks]


def train_steps(
    gallery: GallerySettings,
    loss: DILLossSettings,
    train: TrainSettings,
    chain: ChainSettings | None,
    name: str,
    architecture: LCNNSettings | None = None,
) -> Generator[TrainProgress, None, TrainResult]:
    """Worker body: :func:`iter_train` with the widget's settings."""
    return (yield from iter_train(gallery, architecture or LCNNSettings(), loss, train, name=name, chain=chain))


class ModelWidget(ScrollingDock):
    """Choose, train, inspect and save the inverse-kernel model the super-resolve widget uses."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        # PyTorch imports its compiler stack (about 1 s, 800 modules) on an optimiser's first step; in
        # the training worker that import held the GUI still for 0.2 s and the progress bar for 1 s.
        # Opening the widget is where such a pause belongs.
        import torch._dynamo  # noqa: F401

        self._viewer = viewer
        self.current: NSSRModel | None = None
        super().__init__(
            labels=False,  # a label column for "Source" alone would indent every form below it
            widgets=[
                Label(value="<b>Model source</b>"),
                *self._source_widgets(),
                self._train_box(),
                Label(value="<b>Model</b>"),
                *self._model_widgets(),
            ],
        )
        self._connect()
        self.apply_preset(self.preset.value)
        self._show_source(self.source.value)
        self._show_gallery_fields()

    def _source_widgets(self) -> list[Any]:
        """Where the model comes from: the source buttons and the bundled / file choice."""
        self.source = RadioButtons(
            label="Source",
            choices=["bundled", "file", "train"],
            orientation="horizontal",
            tooltip="use a model shipped with the plugin, load a model file, or train one here",
        )
        self.source.value = "bundled"
        self.bundled = compact(
            ComboBox(
                label="Bundled model",
                choices=bundled_choices(),
                value="default",
                tooltip="models shipped with the plugin; 'chain' is the per-scale family (x2, x3, x4)",
            )
        )
        self.path = FileEdit(
            label="Model file",
            mode=FileDialogMode.EXISTING_FILE,
            filter=f"*{MODEL_SUFFIX}",
            tooltip="a .safetensors model file (never runs code from the file)",
        )
        self.load_button = PushButton(text="Load", tooltip="load it and make it the Super-resolve widget's model")
        self.load_box = Container(widgets=[self.bundled, self.path, self.load_button])
        self.load_box.margins = (0, 0, 0, 0)
        return [self.source, self.load_box]

    def _train_box(self) -> Container:
        """Training from kernels alone: the preset, the generated settings forms and the Train controls."""
        self.preset = compact(
            ComboBox(
                label="Start from preset",
                choices=list(PRESETS),
                value="default",
                tooltip="fill every field from the recipe of a bundled model",
            )
        )
        family = compact(ComboBox(name="family", label="Kernel family", choices=kernel_families()))
        self.gallery_form = SettingsForm(GallerySettings, overrides={"family": family}, title="Gallery")
        self.objective = compact(
            ComboBox(
                label="Objective",
                choices=[("identity (paper's DIL loss)", "identity"), ("chain (degradation-aware)", "chain")],
                tooltip="identity: the paper's loss on kernels alone; chain: blur, subsample and bicubic upsampling "
                "scored on synthetic natural-image statistics",
            )
        )
        self.loss_form = SettingsForm(DILLossSettings)
        self.chain_form = SettingsForm(ChainSettings)
        device = compact(
            ComboBox(
                name="device",
                label="Device",
                choices=["auto", *available_devices()],
                value="auto",
                tooltip="where to train: auto uses CUDA when torch sees a GPU",
            )
        )
        self.train_form = SettingsForm(TrainSettings, overrides={"device": device}, title="Optimiser")
        self.model_name = LineEdit(label="Name", value="my-model", tooltip="name of the trained model (and its file)")
        self.train_task = TaskControls("Train")
        self.train_box = Container(
            widgets=[
                Label(value="<b>Train from kernels alone</b>"),
                self.preset,
                self.gallery_form,
                self.objective,
                self.loss_form,
                self.chain_form,
                self.train_form,
                self.model_name,
                self.train_task,
            ]
        )
        self.train_box.margins = (0, 0, 0, 0)
        return self.train_box

    def _model_widgets(self) -> list[Any]:
        """What the model is: its description, the filter and kernel pictures, and saving it."""
        self.in_use = wrapped(Label(value=""))
        self.info = wrapped(Label(value="Shown here: no model yet (load or train one, or run Super-resolve)."))
        self.filter_view = ImageView(label="Inverse filter h", tooltip="the filter's taps: red positive, blue negative")
        self.mosaic_view = ImageView(
            label="K (top), K * h (bottom)",
            tooltip="a few blur kernels K from the model's gallery, and what the filter makes of them "
            "(a perfect inverse gives single dots)",
        )
        # captions above the pictures: beside them, a long caption and a wide picture overflow the dock
        self.views = Container(
            widgets=[
                Label(value="Inverse filter h"),
                self.filter_view,
                Label(value="K (top), K * h (bottom)"),
                self.mosaic_view,
            ],
            labels=False,
        )
        self.views.margins = (0, 0, 0, 0)
        self.layers_button = PushButton(
            text="Add kernels as layers", tooltip="put the filter and the kernel pictures in the viewer as image layers"
        )
        self.save_path = FileEdit(
            label="Save as",
            mode=FileDialogMode.OPTIONAL_FILE,
            filter=f"*{MODEL_SUFFIX}",
            tooltip="a .safetensors file; an existing file is replaced only if it is a napari-nssr model",
        )
        self.save_button = PushButton(text="Save", tooltip="save the model shown above")
        return [self.in_use, self.info, self.views, self.layers_button, self.save_path, self.save_button]

    def _connect(self) -> None:
        connect_while_alive(self, [(SESSION_MODELS.in_use, self._show_in_use)])
        if SESSION_MODELS.in_use_text:  # a Super-resolve widget opened before this one
            self._show_in_use(SESSION_MODELS.in_use_text, SESSION_MODELS.in_use_model)
        self.source.changed.connect(self._show_source)
        self.gallery_form.fields["family"].changed.connect(self._show_gallery_fields)
        self.objective.changed.connect(self._show_gallery_fields)
        self.preset.changed.connect(self.apply_preset)
        self.load_button.changed.connect(self.load)
        self.train_task.run_button.changed.connect(self.train)
        self.layers_button.changed.connect(self.add_kernel_layers)
        self.save_button.changed.connect(self.save)

    def _show_source(self, source: str) -> None:
        self.load_box.visible = source != "train"
        self.bundled.visible = source == "bundled"
        self.path.visible = source == "file"
        self.train_box.visible = source == "train"

    def _show_gallery_fields(self, *_: object) -> None:
        family = self.gallery_form.fields["family"].value
        chain = self.objective.value == "chain"
        shown = COMMON_FIELDS | FAMILY_FIELDS.get(family, set()) | ({"scale"} if chain else set())
        self.gallery_form.show_only(shown)
        self.chain_form.visible = chain

    def apply_preset(self, name: str) -> None:
        """Fill the training fields from a bundled model's preset."""
        preset = PRESETS[name]
        self.gallery_form.set_settings(preset.gallery)
        self.loss_form.set_settings(preset.loss)
        self.chain_form.set_settings(preset.chain or ChainSettings())
        self.train_form.set_settings(preset.train)
        self.objective.value = "identity" if preset.chain is None else "chain"
        self._show_gallery_fields()

    def settings(self) -> tuple[GallerySettings, DILLossSettings, TrainSettings, ChainSettings | None]:
        """The training settings in the widget, validated (raises :class:`SettingsError` with a plain message)."""
        gallery = self.gallery_form.settings()
        if gallery.family != "file":
            gallery = replace(gallery, kernel_path=None)
        elif not gallery.kernel_path or not Path(gallery.kernel_path).is_file():
            raise SettingsError("the 'file' family needs a PSF or kernel file; choose one")
        chain = self.chain_form.settings() if self.objective.value == "chain" else None
        return gallery, self.loss_form.settings(), self.train_form.settings(), chain

    def train(self) -> Any:
        """Start training in a worker; returns it, or ``None`` when the settings are unusable."""
        try:
            gallery, loss, train, chain = self.settings()
        except NSSRError as exc:
            self.train_task.fail(str(exc))
            return None
        name = self.model_name.value.strip() or "my-model"
        architecture = PRESETS[self.preset.value].architecture
        return self.train_task.start(
            train_steps, self._on_train_step, self._on_trained, gallery, loss, train, chain, name, architecture
        )

    def _on_train_step(self, step: TrainProgress) -> None:
        self.train_task.report(step.fraction, step.text)

    def _on_trained(self, result: TrainResult) -> None:
        verdict = "converged" if result.converged else "NOT converged (try more epochs or a lower learning rate)"
        self.train_task.report(
            1.0, f"Trained in {result.seconds:.1f} s: {verdict}, {100 * result.relative_gap:.2f}% above the optimum"
        )
        SESSION_MODELS.add(result.model)
        self.set_model(result.model, result.model)

    def load(self) -> NSSRModel | None:
        """Load the bundled model or file chosen above and make it the active model."""
        try:
            if self.source.value == "bundled":
                name = self.bundled.value
                model = model_for_scale(name, 2)  # a family shows its x2 member
                self.set_model(model, name)
            else:
                path = Path(str(self.path.value))
                model = load_model(path)
                SESSION_MODELS.add(model, path.stem)  # listed under its file's name
                self.set_model(model, model)
        except (NSSRError, OSError) as exc:
            show_error(f"could not load the model: {exc}")
            still = f" The model shown is still {self.current.name}." if self.current is not None else ""
            self.info.value = f"Error: could not load the model: {exc}.{still}"
            return None
        return model

    def _show_in_use(self, text: str, model: NSSRModel | None) -> None:
        """What the Super-resolve widget uses; the model it used last is shown here too."""
        self.in_use.value = text
        if model is not None and model is not self.current:
            self.set_model(model)

    def set_model(self, model: NSSRModel, active: NSSRModel | str | None = None) -> None:
        """Show ``model`` here; ``active`` (a session model or bundled name) becomes the super-resolver's choice."""
        self.current = model
        self.info.value = (
            f"{model.name} ({model.kind}, {model.filter.shape[0]}x{model.filter.shape[1]} filter)\n"
            f"DC gain {model.dc_gain:.4f}, noise gain {model.noise_gain:.2f}"
        )
        h = model.filter.numpy()
        limit = float(np.abs(h).max())
        self._show_picture(self.filter_view, colourise(h, "bwr", limit, zoom=12))
        self._show_picture(self.mosaic_view, colourise(kernel_mosaic(sample_kernels(model), h), "bwr", 1.0, zoom=3))
        if active is not None:
            SESSION_MODELS.choose(active)

    @staticmethod
    def _show_picture(view: ImageView, picture: np.ndarray) -> None:
        view.value = picture
        # the picture is drawn at the label's size: reserve its pixel size so it is not squeezed
        view.native.setMinimumSize(picture.shape[1], picture.shape[0])

    def add_kernel_layers(self) -> None:
        """Add the inverse filter and the K / K * h mosaic of the current model as image layers."""
        if self.current is None:
            show_info("Load or train a model first.")
            return
        h = self.current.filter.numpy()
        limit = float(np.abs(h).max())
        self._viewer.add_image(
            h, name=f"{self.current.name} inverse filter", colormap="bwr", contrast_limits=(-limit, limit)
        )
        mosaic = kernel_mosaic(sample_kernels(self.current), h)
        self._viewer.add_image(mosaic, name=f"{self.current.name} K and K*h", colormap="bwr", contrast_limits=(-1, 1))

    def save(self) -> Path | None:
        """Save the current model; an existing file is replaced only if it is itself a napari-nssr model."""
        if self.current is None:
            show_info("Load or train a model first.")
            return None
        path = Path(str(self.save_path.value))
        if path.suffix != MODEL_SUFFIX:
            path = path.with_name(path.name + MODEL_SUFFIX)
        replace_existing = False
        if path.exists():
            try:
                load_model(path)
                replace_existing = True
            except (NSSRError, OSError):
                show_error(f"{path} exists and is not a napari-nssr model; choose another name")
                return None
        try:
            saved = save_model(self.current, path, overwrite=replace_existing)
        except (NSSRError, OSError) as exc:
            show_error(f"could not save the model: {exc}")
            return None
        show_info(f"Saved {saved}")
        return saved
