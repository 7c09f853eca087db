"""Both objectives offer what the trainer needs (the Objective protocol)."""

import numpy as np

from napari_nssr.core.kernels import GallerySettings, make_gallery
from napari_nssr.objectives.base import Objective
from napari_nssr.objectives.chain import ChainSettings, ChainStatistics
from napari_nssr.objectives.dil import DILLossSettings, DILObjective, DILStatistics


def test_both_objectives_have_size_loss_optimum_and_to():
    kernels = make_gallery(GallerySettings(family="div2krk", count=4, size=15, scale=2.0))
    objectives: list[Objective] = [
        DILObjective(DILStatistics.from_kernels(kernels, 5), DILLossSettings()),
        ChainStatistics.expected(kernels, 2, 5, ChainSettings()),
    ]
    for objective in objectives:
        h = objective.optimum()
        assert h.shape == (objective.size, objective.size)
        assert np.isfinite(float(objective.to("cpu").loss(h)))
        assert float(h.sum()) == 1.0 or abs(float(h.sum()) - 1.0) < 1e-9
