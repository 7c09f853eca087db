"""napari sample-data contributions: degraded images with their ground truth, overlaid in world space."""

from __future__ import annotations

from typing import Any

from .apps.samples import degraded_sample

LayerData = tuple[Any, dict[str, Any], str]


def sample_layers(name: str, scale: int = 2) -> list[LayerData]:
    """The low-resolution image (on the HR world grid) and its ground truth, as napari layer data."""
    sample = degraded_sample(name, scale)
    step, offset = float(sample.scale), sample.lr_translate
    look = {"contrast_limits": (0.0, 1.0)} if not sample.rgb else {}
    lr = (
        sample.lr,
        {
            "name": f"{name} x{scale} degraded",
            "scale": (step, step),
            "translate": (offset, offset),
            "rgb": sample.rgb,
            **look,
        },
        "image",
    )
    gt = (sample.hr, {"name": f"{name} ground truth", "rgb": sample.rgb, "visible": False, **look}, "image")
    return [gt, lr]


def nuclei_sample() -> list[LayerData]:
    """Grey microscopy (nuclear stain of scikit-image's ``immunohistochemistry``), blurred with a
    DIV2KRK kernel and subsampled x2."""
    return sample_layers("nuclei")


def tissue_sample() -> list[LayerData]:
    """RGB brightfield microscopy (scikit-image ``immunohistochemistry``), degraded x2."""
    return sample_layers("tissue")


def astronaut_sample() -> list[LayerData]:
    """RGB photo (scikit-image ``astronaut``), degraded x2."""
    return sample_layers("astronaut")


def galaxies_sample() -> list[LayerData]:
    """RGB astronomy (scikit-image ``hubble_deep_field``), degraded x4."""
    return sample_layers("galaxies", scale=4)
