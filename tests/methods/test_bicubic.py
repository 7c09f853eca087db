import numpy as np
import torch
import torch.nn.functional as F

from napari_nssr import super_resolve
from napari_nssr.core.request import Request
from napari_nssr.methods.base import Identity
from napari_nssr.methods.bicubic import Bicubic, BicubicSettings


def test_bicubic_is_the_identity_processor_and_equals_torch(rng):
    x = rng.random((9, 11)).astype(np.float32)
    prepared = Bicubic().prepare(x, Request((2.0, 2.0), BicubicSettings()).plan(x))
    assert isinstance(prepared.processor, Identity) and prepared.describe() == {"method": "bicubic", "settings": {}}
    ref = F.interpolate(torch.from_numpy(x)[None, None], size=(18, 22), mode="bicubic", align_corners=False)[0, 0]
    np.testing.assert_allclose(super_resolve(x, 2, "bicubic"), ref.numpy(), atol=1e-5)
