"""The model widget: use a bundled model, load a model file, or train one; inspect it and save it."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    LineEdit,
    PushButton,
    RadioButtons,
    SpinBox,
)
from magicgui.widgets import Image as ImageView
from napari.utils.colormaps import ensure_colormap
from napari.utils.notifications import show_error, show_info

from ..chain import ChainSettings
from ..devices import available_devices
from ..diagnostics import kernel_mosaic
from ..dil import DILLossSettings
from ..kernels import GallerySettings, kernel_families, make_gallery
from ..model import LCNNSettings
from ..model_file import ModelFileError, NSSRModel, bundled_models, load_model, save_model
from ..training import PRESETS, TrainProgress, TrainResult, TrainSettings, iter_train
from ._session import SESSION_MODELS
from ._task import TaskControls

if TYPE_CHECKING:
    import napari

SHOWN_KERNELS = 4
MODEL_SUFFIX = ".safetensors"


def colourise(values: np.ndarray, colormap: str, limit: float, zoom: int) -> np.ndarray:
    """RGB uint8 picture of ``values`` in ``[-limit, limit]`` with a napari colormap, enlarged ``zoom`` times."""
    unit = np.clip((np.asarray(values, dtype=np.float64) / (limit or 1.0) + 1) / 2, 0, 1)
    rgba = ensure_colormap(colormap).map(unit.ravel()).reshape(*unit.shape, 4)
    rgb = (rgba[..., :3] * 255).round().astype(np.uint8)
    return np.kron(rgb, np.ones((zoom, zoom, 1), dtype=np.uint8))


def precise_box(label: str, minimum: float, maximum: float, step: float, decimals: int) -> FloatSpinBox:
    """A float spin box that keeps ``decimals`` places: Qt's default of 2 would round 0.175 to 0.17."""
    box = FloatSpinBox(label=label, step=step)
    box.native.setDecimals(decimals)
    box.min, box.max = minimum, maximum
    return box


def sample_kernels(model: NSSRModel, count: int = SHOWN_KERNELS) -> np.ndarray:
    """A few kernels from the model's own gallery (the paper's gallery if that one cannot be drawn now)."""
    try:
        # a small fresh draw from the same family: drawing the whole gallery would stall the GUI
        gallery = make_gallery(replace(model.gallery, seed=model.gallery.seed + 1, count=min(model.gallery.count, 16)))
    except (ValueError, OSError):  # e.g. a PSF file that has moved since training
        gallery = make_gallery(GallerySettings(count=count))
    picks = np.linspace(0, len(gallery) - 1, min(count, len(gallery))).round().astype(int)
    return gallery[picks]


def train_steps(
    gallery: GallerySettings, loss: DILLossSettings, train: TrainSettings, chain: ChainSettings | None, name: str
) -> Generator[TrainProgress, None, TrainResult]:
    """Worker body: :func:`iter_train` with the widget's settings."""
    return (yield from iter_train(gallery, LCNNSettings(), loss, train, name=name, chain=chain))


class ModelWidget(Container):
    """Choose, train, inspect and save the inverse-kernel model the super-resolve widget uses."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self.current: NSSRModel | None = None
        self.source = RadioButtons(
            label="Source", choices=["bundled", "file", "train"], value="bundled", orientation="horizontal"
        )
        self.bundled = ComboBox(label="Bundled model", choices=sorted(bundled_models()), value="default")
        self.path = FileEdit(label="Model file", mode="r", filter=f"*{MODEL_SUFFIX}")
        self.load_button = PushButton(text="Load")
        self.load_box = Container(widgets=[self.bundled, self.path, self.load_button])

        self.preset = ComboBox(label="Start from preset", choices=list(PRESETS), value="default")
        self.family = ComboBox(label="Kernel family", choices=kernel_families())
        self.count = SpinBox(label="Kernels", min=1, max=100_000)
        self.size = SpinBox(label="Kernel size", min=3, max=255, step=2)
        self.sigma_min = precise_box("Sigma min", 0.001, 100.0, 0.025, decimals=4)
        self.sigma_max = precise_box("Sigma max", 0.001, 100.0, 0.25, decimals=4)
        self.sigma_is = ComboBox(label="Sigma is", choices=["std", "variance"])
        self.kernel_scale = FloatSpinBox(label="Scale (div2krk, chain)", min=1.0, max=16.0, step=0.5)
        self.psf_path = FileEdit(
            label="PSF / kernel file", mode="r", tooltip="image or .npy; used by the 'file' family"
        )
        self.numerical_aperture = precise_box("Numerical aperture", 0.05, 1.95, 0.05, decimals=3)
        self.wavelength = precise_box("Emission wavelength (um)", 0.2, 2.0, 0.01, decimals=3)
        self.pixel_size = precise_box("Output pixel size (um)", 0.001, 10.0, 0.005, decimals=4)
        self.immersion_index = precise_box("Immersion index", 1.0, 2.0, 0.01, decimals=3)
        self.defocus = precise_box("Defocus range +- (um)", 0.0, 50.0, 0.1, decimals=3)
        self.optics = Container(
            widgets=[self.numerical_aperture, self.wavelength, self.pixel_size, self.immersion_index, self.defocus]
        )
        self.seed = SpinBox(label="Seed", min=0, max=2**31 - 1)
        self.objective = ComboBox(
            label="Objective",
            choices=[("identity (paper's DIL loss)", "identity"), ("chain (degradation-aware)", "chain")],
        )
        self.hold_sum = CheckBox(text="Hold filter sum at 1")
        self.epochs = SpinBox(label="Epochs", min=1, max=100_000)
        self.learning_rate = precise_box("Learning rate", 1e-6, 1.0, 1e-4, decimals=6)
        self.device = ComboBox(label="Device", choices=["auto", *available_devices()], value="auto")
        self.model_name = LineEdit(label="Name", value="my-model")
        self.train_task = TaskControls("Train")
        self.train_box = Container(
            widgets=[
                self.preset,
                self.family,
                self.count,
                self.size,
                self.sigma_min,
                self.sigma_max,
                self.sigma_is,
                self.kernel_scale,
                self.psf_path,
                self.optics,
                self.seed,
                self.objective,
                self.hold_sum,
                self.epochs,
                self.learning_rate,
                self.device,
                self.model_name,
                self.train_task,
            ]
        )

        self.info = Label(value="No model loaded yet.")
        self.filter_view = ImageView(label="Inverse filter h")
        self.mosaic_view = ImageView(label="K (top), K * h (bottom)")
        self.views = Container(widgets=[self.filter_view, self.mosaic_view])
        self.layers_button = PushButton(text="Add kernels as layers")
        self.save_path = FileEdit(label="Save as", mode="w", filter=f"*{MODEL_SUFFIX}")
        self.save_button = PushButton(text="Save")
        super().__init__(
            widgets=[
                self.source,
                self.load_box,
                self.train_box,
                self.info,
                self.views,
                self.layers_button,
                self.save_path,
                self.save_button,
            ]
        )
        self.source.changed.connect(self._show_source)
        self.family.changed.connect(self._show_family_fields)
        self.preset.changed.connect(self.apply_preset)
        self.load_button.changed.connect(self.load)
        self.train_task.run_button.changed.connect(self.train)
        self.layers_button.changed.connect(self.add_kernel_layers)
        self.save_button.changed.connect(self.save)
        self.apply_preset(self.preset.value)
        self._show_source(self.source.value)
        self._show_family_fields(self.family.value)

    def _show_source(self, source: str) -> None:
        self.load_box.visible = source != "train"
        self.bundled.visible = source == "bundled"
        self.path.visible = source == "file"
        self.train_box.visible = source == "train"

    def _show_family_fields(self, family: str) -> None:
        self.psf_path.visible = family == "file"
        self.optics.visible = family == "widefield"

    def apply_preset(self, name: str) -> None:
        """Fill the training fields from a bundled model's preset."""
        preset = PRESETS[name]
        g, t = preset.gallery, preset.train
        self.family.value, self.count.value, self.size.value = g.family, g.count, g.size
        self.sigma_min.value, self.sigma_max.value, self.sigma_is.value = g.sigma_min, g.sigma_max, g.sigma_is
        self.kernel_scale.value, self.seed.value = g.scale, g.seed
        self.numerical_aperture.value, self.wavelength.value = g.numerical_aperture, g.wavelength_um
        self.pixel_size.value, self.immersion_index.value = g.pixel_um, g.immersion_index
        self.defocus.value = g.defocus_um
        self.objective.value = "identity" if preset.chain is None else "chain"
        self.hold_sum.value = preset.loss.hold_sum_at_one
        self.epochs.value, self.learning_rate.value = t.epochs, t.learning_rate

    def settings(self) -> tuple[GallerySettings, DILLossSettings, TrainSettings, ChainSettings | None]:
        """The training settings in the widget, validated (raises ``ValueError`` with a plain message)."""
        psf = str(self.psf_path.value) if self.family.value == "file" else None
        if self.family.value == "file" and not Path(psf).is_file():
            raise ValueError("the 'file' family needs a PSF or kernel file; choose one")
        gallery = GallerySettings(
            family=self.family.value,
            count=int(self.count.value),
            size=int(self.size.value),
            sigma_min=float(self.sigma_min.value),
            sigma_max=float(self.sigma_max.value),
            sigma_is=self.sigma_is.value,
            seed=int(self.seed.value),
            scale=float(self.kernel_scale.value),
            kernel_path=psf,
            numerical_aperture=float(self.numerical_aperture.value),
            wavelength_um=float(self.wavelength.value),
            pixel_um=float(self.pixel_size.value),
            immersion_index=float(self.immersion_index.value),
            defocus_um=float(self.defocus.value),
        )
        preset = PRESETS[self.preset.value]
        train = replace(preset.train, epochs=int(self.epochs.value), learning_rate=float(self.learning_rate.value))
        train.device = self.device.value
        chain = (preset.chain or ChainSettings()) if self.objective.value == "chain" else None
        loss = DILLossSettings(hold_sum_at_one=bool(self.hold_sum.value))
        for part in (gallery, loss, train, chain):
            if part is not None:
                part.validate()
        return gallery, loss, train, chain

    def train(self) -> Any:
        """Start training in a worker; returns it, or ``None`` when the settings are unusable."""
        try:
            gallery, loss, train, chain = self.settings()
        except ValueError as exc:
            self.train_task.fail(str(exc))
            return None
        name = self.model_name.value.strip() or "my-model"
        return self.train_task.start(
            train_steps, self._on_train_step, self._on_trained, gallery, loss, train, chain, name
        )

    def _on_train_step(self, step: TrainProgress) -> None:
        self.train_task.report(step.epoch / step.epochs, f"epoch {step.epoch} of {step.epochs}: loss {step.loss:.5g}")

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
                model = load_model(self.bundled.value)
                self.set_model(model, self.bundled.value)
            else:
                model = load_model(self.path.value)
                SESSION_MODELS.add(model)
                self.set_model(model, model)
        except (ModelFileError, OSError, ValueError) as exc:
            show_error(f"could not load the model: {exc}")
            self.info.value = f"Error: {exc}"
            return None
        return model

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
        path = Path(self.save_path.value)
        if path.suffix != MODEL_SUFFIX:
            path = path.with_name(path.name + MODEL_SUFFIX)
        replace_existing = False
        if path.exists():
            try:
                load_model(path)
                replace_existing = True
            except (ModelFileError, OSError, ValueError):
                show_error(f"{path} exists and is not a napari-nssr model; choose another name")
                return None
        try:
            saved = save_model(self.current, path, overwrite=replace_existing)
        except (OSError, ValueError) as exc:
            show_error(f"could not save the model: {exc}")
            return None
        show_info(f"Saved {saved}")
        return saved
