"""A trained inverse filter with its provenance, and its file format.

Files are `safetensors <https://huggingface.co/docs/safetensors>`_: raw tensors plus a JSON
header, so loading never executes code from the file. The folded filter is stored next to the
network weights; on load the two must agree, which catches mismatched or tampered files.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from ._config import SettingsError, settings_from_dict, settings_to_dict
from ._files import write_atomically
from ._version import __version__
from .chain import ChainSettings
from .dil import DILLossSettings, project_sum_to_one
from .kernels import GallerySettings
from .model import LCNN, LCNNSettings

FORMAT_NAME = "napari-nssr-model"
FORMAT_VERSION = 1
_NETWORK_PREFIX = "network."


class ModelFileError(ValueError):
    """A model file is missing, corrupt, truncated or inconsistent."""


@dataclass
class NSSRModel:
    """An inverse degradation filter (impulse response, odd square) and how it was made.

    ``kind`` is ``"lcnn"`` (trained network, kept in ``network_state``) or ``"closed_form"``.
    ``chain`` is set when the filter was fitted to the degradation-aware objective (``chain.py``)
    rather than the paper's identity loss.
    """

    filter: torch.Tensor
    name: str = "unnamed"
    kind: str = "lcnn"
    gallery: GallerySettings = field(default_factory=GallerySettings)
    architecture: LCNNSettings | None = field(default_factory=LCNNSettings)
    loss: DILLossSettings = field(default_factory=DILLossSettings)
    chain: ChainSettings | None = None
    training: dict[str, Any] = field(default_factory=dict)
    network_state: dict[str, torch.Tensor] | None = None
    version: str = __version__

    def __post_init__(self) -> None:
        h = torch.as_tensor(self.filter).detach().to("cpu", torch.float32)
        if h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] % 2 == 0:
            raise ModelFileError(f"a model filter must be odd and square, got shape {tuple(h.shape)}")
        if not torch.isfinite(h).all():
            raise ModelFileError("the model filter contains NaN or infinite values")
        self.filter = h

    @property
    def dc_gain(self) -> float:
        """Sum of the filter taps: the factor by which it scales mean brightness."""
        return float(self.filter.double().sum())

    @property
    def noise_gain(self) -> float:
        """``||h||_2``: the factor by which the filter scales white noise (1 for the identity)."""
        return float(self.filter.double().norm())

    def describe(self) -> dict[str, Any]:
        """JSON-ready metadata (everything but the tensors)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "filter_size": int(self.filter.shape[0]),
            "dc_gain": self.dc_gain,
            "noise_gain": self.noise_gain,
            "gallery": settings_to_dict(self.gallery),
            "architecture": settings_to_dict(self.architecture) if self.architecture else None,
            "loss": settings_to_dict(self.loss),
            "chain": settings_to_dict(self.chain) if self.chain else None,
            "training": self.training,
        }


def save_model(model: NSSRModel, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``model`` to ``path`` (``.safetensors``) atomically; refuses to replace a file unless asked."""
    from safetensors.torch import save_file

    tensors = {"filter": model.filter.contiguous()}
    for key, value in (model.network_state or {}).items():
        tensors[_NETWORK_PREFIX + key] = value.detach().to("cpu", torch.float32).contiguous()
    header = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "info": json.dumps(model.describe())}
    return write_atomically(path, lambda tmp: save_file(tensors, tmp, metadata=header), overwrite)


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # safetensors raises several error types for bad headers
        raise ModelFileError(f"{path} is not a readable model file (corrupt or truncated?): {exc}") from exc
    return tensors, header


def load_model(source: str | os.PathLike[str] | None = None) -> NSSRModel:
    """Load a model by bundled name (``"default"``, ``"paper"``) or file path; ``None`` is the default."""
    if source is None:
        source = "default"
    if isinstance(source, str) and source in bundled_models():
        path = bundled_models()[source]
    else:
        path = Path(source)
        if not path.is_file():
            known = ", ".join(sorted(bundled_models()))
            raise ModelFileError(f"model file not found: {path} (bundled models: {known})")
    tensors, header = _read_safetensors(path)
    if header.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is a safetensors file but not a napari-nssr model")
    if header.get("format_version") != str(FORMAT_VERSION):
        raise ModelFileError(
            f"{path} has model format version {header.get('format_version')!r}; "
            f"this napari-nssr reads version {FORMAT_VERSION}"
        )
    try:
        info = json.loads(header["info"])
        gallery = settings_from_dict(GallerySettings, info["gallery"])
        arch = settings_from_dict(LCNNSettings, info["architecture"]) if info["architecture"] else None
        loss = settings_from_dict(DILLossSettings, info["loss"])
        chain = settings_from_dict(ChainSettings, info["chain"]) if info.get("chain") else None
        h = tensors["filter"]
        network = {k[len(_NETWORK_PREFIX) :]: v for k, v in tensors.items() if k.startswith(_NETWORK_PREFIX)}
        model = NSSRModel(
            filter=h,
            name=str(info["name"]),
            kind=str(info["kind"]),
            gallery=gallery,
            architecture=arch,
            loss=loss,
            chain=chain,
            training=dict(info.get("training", {})),
            network_state=network or None,
            version=str(info.get("version", "unknown")),
        )
    except (KeyError, TypeError, json.JSONDecodeError, SettingsError) as exc:
        raise ModelFileError(f"{path} has incomplete or invalid model metadata: {exc}") from exc
    _check_network_matches_filter(model, path)
    return model


def _check_network_matches_filter(model: NSSRModel, path: Path) -> None:
    """Rebuild the network and check that it folds to the stored filter."""
    if model.kind != "lcnn":
        return
    if model.network_state is None or model.architecture is None:
        raise ModelFileError(f"{path} says it holds a trained L-CNN but has no network weights")
    net = LCNN(model.architecture)
    try:
        net.load_state_dict(model.network_state, strict=True)
    except RuntimeError as exc:
        raise ModelFileError(f"{path}: network weights do not match the stated architecture: {exc}") from exc
    with torch.no_grad():
        h = net.double().fold()
        if model.loss.hold_sum_at_one:
            h = project_sum_to_one(h)
    stored = model.filter.double()
    if h.shape != stored.shape or not torch.allclose(h, stored, atol=1e-5 * max(1.0, float(stored.abs().max()))):
        raise ModelFileError(f"{path}: the stored filter is not the one the stored network computes")


def model_for_scale(source: str | os.PathLike[str] | NSSRModel | None, scale: float) -> NSSRModel:
    """Resolve a model for one scale: a per-scale family name (``"chain"``) picks the bundled
    ``chain-xK`` whose K is nearest to ``scale`` (on a log scale); anything else loads as is."""
    if isinstance(source, NSSRModel):
        return source
    if source == "blind":
        raise ValueError("'blind' picks a filter per image: pass it to super_resolve, which sees the image")
    if isinstance(source, str):
        family = {int(n.rsplit("-x", 1)[1]): n for n in bundled_models() if n.startswith(source + "-x")}
        if family and source not in bundled_models():
            nearest = min(family, key=lambda k: (abs(math.log(scale) - math.log(k)), k))
            return load_model(family[nearest])
    return load_model(source)


def bundled_models() -> dict[str, Path]:
    """Models shipped inside the package, by name."""
    folder = resources.files("napari_nssr") / "models"
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".safetensors"):
            found[entry.name[: -len(".safetensors")]] = Path(str(entry))
    return found
