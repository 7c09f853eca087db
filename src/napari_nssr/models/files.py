"""The model file format: save and load :class:`NSSRModel` files.

Files are `safetensors <https://huggingface.co/docs/safetensors>`_: raw tensors plus a JSON
header, so loading never executes code from the file. The folded filter is stored next to the
network weights; on load the two must agree, which catches mismatched or tampered files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ..core.errors import ModelFileError, SettingsError
from ..core.filters import project_sum_to_one
from ..core.kernels import GallerySettings
from ..core.settings import settings_from_dict
from ..io.files import write_atomically
from ..networks.lcnn import LCNN, LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings
from .model import NSSRModel

FORMAT_NAME = "napari-nssr-model"
FORMAT_VERSION = 1
_NETWORK_PREFIX = "network."


def save_model(model: NSSRModel, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``model`` to a ``.safetensors`` file atomically.

    Parameters
    ----------
    model : NSSRModel
        The model to save.
    path : str or os.PathLike
        Destination file.
    overwrite : bool
        Replace an existing file; otherwise :class:`OutputExistsError`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from napari_nssr import load_model, save_model
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = save_model(load_model("default"), folder / "mine.safetensors")
    >>> load_model(path).name
    'default'
    """
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


def read_model_file(path: str | os.PathLike[str]) -> NSSRModel:
    """Load a model from a ``.safetensors`` file, checking it thoroughly.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    NSSRModel

    Raises
    ------
    ModelFileError
        When the file is missing, not a napari-nssr model, of another format version, has
        incomplete metadata, a filter that is not finite, float or within the gain limits of
        :class:`NSSRModel`, or network weights that do not fold to the stored filter.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
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
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, SettingsError) as exc:
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
