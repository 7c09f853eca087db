"""A model: one inverse degradation filter and how it was made.

"Model" means this one thing throughout the package: an odd, square filter (impulse response)
applied after bicubic upsampling, with its provenance (gallery, architecture, loss, objective,
training record). It may come from a trained L-CNN (``kind="lcnn"``, the network weights are kept
so files can be checked), from a closed-form solve (``"closed_form"``), or be solved per image by
the blind method. Files: ``files.py``; the models shipped with the package: ``bundled.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .._version import __version__
from ..core.errors import ModelFileError
from ..core.kernels import GallerySettings
from ..core.settings import settings_to_dict
from ..networks.lcnn import LCNNSettings
from ..objectives.chain import ChainSettings
from ..objectives.dil import DILLossSettings

KINDS = ("lcnn", "closed_form")
# Brightness (the taps' sum) a usable filter keeps: the paper's own loss gives 1.11, a sum held at
# 1 gives 1. Outside this range a file is damaged or made for another purpose.
DC_GAIN_RANGE = (0.5, 2.0)
# ||h||_2, the factor by which a filter scales white noise: the bundled models are at about 5, an
# exact inverse of one narrow PSF without a ridge in the hundreds. Above this, outputs are noise.
MAX_NOISE_GAIN = 1000.0


# eq=False: models compare by identity. Comparing field by field would compare tensors, which
# is ambiguous, and widget drop-downs look their values up by equality.
@dataclass(eq=False)
class NSSRModel:
    """An inverse degradation filter (impulse response, odd square) and how it was made.

    Parameters
    ----------
    filter : torch.Tensor
        The filter, odd and square; stored as float32 on the CPU.
    name : str
        A label for people.
    kind : {"lcnn", "closed_form"}
        A trained network (``network_state`` holds its weights) or a closed-form solve.
    gallery, architecture, loss, chain
        The settings it was made with; ``chain`` is set when the filter was fitted to the
        degradation-aware objective rather than the paper's identity loss.
    training : dict
        Training record (losses, convergence, time; what the blind method estimated).
    network_state : dict, optional
        L-CNN weights by name.
    version : str
        napari-nssr version that made it.

    Raises
    ------
    ModelFileError
        When the filter is not odd and square, not floating point, not finite, or its DC gain or
        noise gain is outside :data:`DC_GAIN_RANGE` / :data:`MAX_NOISE_GAIN`.

    Examples
    --------
    >>> from napari_nssr import load_model
    >>> model = load_model("default")
    >>> model.size, round(model.dc_gain, 6)
    (11, 1.0)
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
        h = torch.as_tensor(self.filter).detach()
        if not h.is_floating_point():
            raise ModelFileError(f"a model filter must be floating point, got {h.dtype}")
        h = h.to("cpu", torch.float32)
        if h.ndim != 2 or h.shape[0] != h.shape[1] or h.shape[0] % 2 == 0:
            raise ModelFileError(f"a model filter must be odd and square, got shape {tuple(h.shape)}")
        if not torch.isfinite(h).all():
            raise ModelFileError("the model filter contains NaN or infinite values")
        if self.kind not in KINDS:
            raise ModelFileError(f"model kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        self.filter = h
        low, high = DC_GAIN_RANGE
        if not low <= self.dc_gain <= high:
            raise ModelFileError(
                f"the model filter's taps sum to {self.dc_gain:.4g}; a usable filter sums to {low:g}..{high:g} "
                "(it would change the image's brightness by that factor)"
            )
        if self.noise_gain > MAX_NOISE_GAIN:
            raise ModelFileError(
                f"the model filter multiplies noise by {self.noise_gain:.4g} (at most {MAX_NOISE_GAIN:g}); "
                "train it with a ridge (noise) term"
            )

    @classmethod
    def closed_form(
        cls,
        h: torch.Tensor,
        name: str,
        gallery: GallerySettings,
        chain: ChainSettings | None,
        training: dict[str, Any],
        loss: DILLossSettings | None = None,
    ) -> NSSRModel:
        """A model whose filter was solved exactly rather than trained (no network).

        Parameters
        ----------
        h : torch.Tensor
            The filter.
        name : str
            Its name.
        gallery : GallerySettings
            The kernels it was solved for.
        chain : ChainSettings or None
            The degradation-aware objective's settings, or None for the paper's loss.
        training : dict
            What the solve found (its loss, what an estimate found).
        loss : DILLossSettings, optional
            The identity loss's settings (defaults).

        Returns
        -------
        NSSRModel
        """
        return cls(
            filter=h,
            name=name,
            kind="closed_form",
            gallery=gallery,
            architecture=None,
            loss=loss or DILLossSettings(),
            chain=chain,
            training=training,
        )

    @property
    def dc_gain(self) -> float:
        """Sum of the filter taps: the factor by which it scales mean brightness."""
        return float(self.filter.double().sum())

    @property
    def noise_gain(self) -> float:
        """``||h||_2``: the factor by which the filter scales white noise (1 for the identity)."""
        return float(self.filter.double().norm())

    @property
    def size(self) -> int:
        """Side of the filter in pixels."""
        return int(self.filter.shape[0])

    def describe(self) -> dict[str, Any]:
        """JSON-ready metadata (everything but the tensors)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "filter_size": self.size,
            "dc_gain": self.dc_gain,
            "noise_gain": self.noise_gain,
            "gallery": settings_to_dict(self.gallery),
            "architecture": settings_to_dict(self.architecture) if self.architecture else None,
            "loss": settings_to_dict(self.loss),
            "chain": settings_to_dict(self.chain) if self.chain else None,
            "training": self.training,
        }
