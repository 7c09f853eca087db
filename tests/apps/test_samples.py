"""Degraded samples with their ground truth (behind napari's sample data)."""

import numpy as np
import pytest

from napari_nssr import super_resolve, upsample_bicubic
from napari_nssr.apps.samples import SAMPLES, degraded_sample
from napari_nssr.core.errors import SettingsError
from napari_nssr.core.metrics import compare_to_reference


@pytest.mark.parametrize("name", list(SAMPLES))
def test_samples_overlay_their_ground_truth(name):
    sample = degraded_sample(name, 2, max_side=96)
    assert sample.hr.dtype == sample.lr.dtype == np.float32
    assert sample.lr.shape[:2] == (sample.hr.shape[0] // 2, sample.hr.shape[1] // 2)
    assert 0 <= sample.lr.min() and sample.lr.max() <= 1
    # bicubic of the LR image on the HR grid is close to the truth: the placement is right
    up = upsample_bicubic(sample.lr, 2, rgb=sample.rgb)
    shifted = upsample_bicubic(np.roll(sample.lr, 1, axis=1), 2, rgb=sample.rgb)
    assert np.abs(up - sample.hr).mean() < np.abs(shifted - sample.hr).mean()


def test_unknown_sample():
    with pytest.raises(SettingsError, match="unknown sample"):
        degraded_sample("nope")


def test_super_resolved_sample_beats_bicubic_against_truth():
    sample = degraded_sample("nuclei", 2, max_side=128)
    ours = compare_to_reference(sample.hr, super_resolve(sample.lr, 2, "chain"))
    bicubic = compare_to_reference(sample.hr, upsample_bicubic(sample.lr, 2))
    assert ours[0] > bicubic[0] and ours[1] > bicubic[1]
