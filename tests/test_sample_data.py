"""napari sample-data contributions (no viewer needed: they return layer data)."""

import numpy as np

from napari_nssr._sample_data import astronaut_sample, galaxies_sample, nuclei_sample, tissue_sample


def test_each_sample_is_ground_truth_then_the_degraded_image_on_its_grid():
    for make, scale in [(nuclei_sample, 2), (tissue_sample, 2), (astronaut_sample, 2), (galaxies_sample, 4)]:
        (gt, gt_meta, kind_gt), (lr, lr_meta, kind_lr) = make()
        assert kind_gt == kind_lr == "image" and not gt_meta["visible"]
        assert lr_meta["scale"] == (scale, scale) and lr_meta["translate"] == ((scale - 1) / 2,) * 2
        assert np.asarray(lr).shape[0] * scale == np.asarray(gt).shape[0]
