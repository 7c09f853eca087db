import numpy as np
import pytest
import torch

from napari_nssr.core.diagnostics import kernel_mosaic, restored_kernels
from napari_nssr.core.filters import delta_filter
from napari_nssr.core.kernels import GallerySettings, make_gallery


def test_restored_kernels_and_mosaic():
    kernels = make_gallery(GallerySettings(count=3, size=9, seed=2))
    np.testing.assert_allclose(restored_kernels(kernels, delta_filter(5)), kernels, atol=1e-7)
    # true convolution with an impulse at column offset -1 moves the kernel one column left
    shift = torch.zeros(3, 3)
    shift[1, 0] = 1.0
    np.testing.assert_allclose(restored_kernels(kernels, shift)[:, :, :-1], kernels[:, :, 1:], atol=1e-7)
    mosaic = kernel_mosaic(kernels, delta_filter(3), gap=1)
    assert mosaic.shape == (2 * 9 + 1, 3 * 9 + 2)
    np.testing.assert_allclose(mosaic[:9, :9], kernels[0] / kernels[0].max(), atol=1e-6)
    with pytest.raises(ValueError, match="stack of kernels"):
        kernel_mosaic(kernels[0], delta_filter(3))
