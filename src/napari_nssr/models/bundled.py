"""The models shipped inside the package, and loading a model by name or file.

A *model source* is an :class:`NSSRModel`, the name of a bundled model (``"default"``,
``"paper"``, ``"chain-x2"``, ...), a per-scale *family* of bundled models (``"chain"``: the
``chain-xK`` nearest to the scale asked for) or the path of a model file.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..core.errors import ModelFileError
from .files import read_model_file
from .model import NSSRModel

SUFFIX = ".safetensors"
ModelSource = NSSRModel | str | os.PathLike


def bundled_models() -> dict[str, Path]:
    """Models shipped inside the package, by name.

    Returns
    -------
    dict of str to pathlib.Path
    """
    folder = resources.files("napari_nssr") / "models" / "bundled"
    return {entry.name[: -len(SUFFIX)]: Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(SUFFIX)}


def bundled_families() -> dict[str, dict[int, str]]:
    """Per-scale families of bundled models: ``{"chain": {2: "chain-x2", 3: "chain-x3", ...}}``."""
    families: dict[str, dict[int, str]] = {}
    for name in bundled_models():
        stem, sep, scale = name.rpartition("-x")
        if sep and scale.isdigit():
            families.setdefault(stem, {})[int(scale)] = name
    return families


def load_model(source: str | os.PathLike[str]) -> NSSRModel:
    """Load a bundled model by name, or a model file by path.

    Parameters
    ----------
    source : str or os.PathLike
        A bundled name (see :func:`bundled_models`) or a ``.safetensors`` file.

    Returns
    -------
    NSSRModel

    Raises
    ------
    ModelFileError
        When no such model exists or the file is unusable.

    Examples
    --------
    >>> from napari_nssr import load_model
    >>> load_model("chain-x2").name
    'chain-x2'
    """
    if isinstance(source, str) and source in bundled_models():
        return _load_bundled(source)
    path = Path(source)
    if not path.is_file():
        known = ", ".join(sorted(bundled_models()))
        raise ModelFileError(f"no model {str(source)!r}: not a bundled model ({known}) nor a model file")
    return read_model_file(path)


@lru_cache(maxsize=16)
def _load_bundled(name: str) -> NSSRModel:
    # bundled files never change while the package is installed: read each once per process
    return read_model_file(bundled_models()[name])


def is_model_source(source: object) -> bool:
    """Whether ``source`` names a model without loading it: a model, a bundled name or family, or
    an existing file."""
    if isinstance(source, NSSRModel):
        return True
    if isinstance(source, str) and (source in bundled_models() or source in bundled_families()):
        return True
    return isinstance(source, (str, os.PathLike)) and Path(source).is_file()


def model_for_scale(source: ModelSource, scale: float) -> NSSRModel:
    """The model a source means at one scale.

    Parameters
    ----------
    source : NSSRModel, str or os.PathLike
        A model, a bundled name, a per-scale family (``"chain"`` picks the bundled ``chain-xK``
        whose K is nearest to ``scale`` on a log scale) or a file.
    scale : float
        The (geometric mean) scale factor.

    Returns
    -------
    NSSRModel
    """
    if isinstance(source, NSSRModel):
        return source
    family = bundled_families().get(source) if isinstance(source, str) else None
    if family and source not in bundled_models():
        nearest = min(family, key=lambda k: (abs(math.log(scale) - math.log(k)), k))
        return load_model(family[nearest])
    return load_model(source)
