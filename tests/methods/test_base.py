"""The method interface: processors, blending, the registry."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from napari_nssr.core.errors import SettingsError
from napari_nssr.core.filters import delta_filter
from napari_nssr.methods.base import (
    Identity,
    LinearFilter,
    Method,
    MethodSettings,
    PlaneFunction,
    Prepared,
    get_method,
    method_for_settings,
    method_names,
    register_method,
    strength_blend,
)
from napari_nssr.methods.bicubic import BicubicSettings


def test_linear_filter_halo_valid_convolution_and_blend():
    h = torch.zeros(5, 5)
    h[2, 2], h[2, 3] = 0.5, 0.5
    processor = LinearFilter(h)
    block = torch.rand(12, 14)
    assert processor.halo == 2 and processor(block).shape == (8, 10)
    half = processor.blended(0.5)
    torch.testing.assert_close(half(block), 0.5 * processor(block) + 0.5 * block[2:-2, 2:-2])
    torch.testing.assert_close(processor.blended(0.0)(block), LinearFilter(delta_filter(5))(block))


def test_generic_blend_matches_for_a_plane_function():
    double = PlaneFunction(lambda plane: 2 * plane)
    block = torch.rand(6, 7)
    assert double.halo is None
    torch.testing.assert_close(double(block), 2 * block)
    torch.testing.assert_close(double.blended(0.25)(block), 1.25 * block)
    assert strength_blend(double, 1) is double and Identity().blended(0.3)(block) is block


def test_registry_finds_methods_by_name_and_by_settings():
    assert {"blind", "filter", "bicubic", "wiener", "richardson-lucy"} <= set(method_names())
    assert get_method("bicubic").settings_type is BicubicSettings
    assert method_for_settings(BicubicSettings()).name == "bicubic"
    with pytest.raises(SettingsError, match="unknown method 'nope'; known: "):
        get_method("nope")


def test_a_new_method_is_one_class_and_names_are_unique(monkeypatch):
    from napari_nssr.methods import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))  # the test's method leaves with it

    @dataclass(frozen=True)
    class NegateSettings(MethodSettings):
        pass

    class Negate(Method):
        name = "test-negate"
        summary = "minus the bicubic upsampling"
        settings_type = NegateSettings

        def prepare(self, image, plan):
            return Prepared(self.name, plan.settings, PlaneFunction(lambda plane: -plane))

    register_method(Negate)
    from napari_nssr import super_resolve

    image = np.random.default_rng(0).random((6, 6)).astype(np.float32)
    np.testing.assert_allclose(super_resolve(image, 2, "test-negate"), -super_resolve(image, 2, "bicubic"), atol=1e-6)
    np.testing.assert_allclose(
        super_resolve(image, 2, NegateSettings()), -super_resolve(image, 2, "bicubic"), atol=1e-6
    )
    with pytest.raises(SettingsError, match="already registered"):
        register_method(Negate)


def test_a_whole_plane_processor_is_told_which_pixels_have_data():
    from napari_nssr.methods.base import TileProcessor

    class Seeing(TileProcessor):
        halo = None
        from_source = True

        def __init__(self, valid=None):
            self.valid = valid

        def __call__(self, block):
            raise NotImplementedError

        def with_validity(self, valid):
            return Seeing(valid)

        def process_source(self, plane, out_shape):
            seen.append(None if self.valid is None else self.valid.copy())
            return np.zeros(out_shape, plane.dtype)

    seen: list = []
    valid = np.ones((4, 4), bool)
    valid[0, 0] = False
    blended = Seeing().blended(0.5)
    assert blended.with_validity(valid).process_source(np.ones((4, 4), np.float32), (8, 8)).shape == (8, 8)
    np.testing.assert_array_equal(seen[-1], valid)  # the strength blend hands the mask on
    assert Seeing().with_validity(None).valid is None

    # the engine hands each plane's mask over, in memory and lazily
    import dask.array as da

    from napari_nssr.core.progress import drain
    from napari_nssr.core.request import Request
    from napari_nssr.engine.pipeline import apply_lazy, iter_apply
    from napari_nssr.methods.base import Prepared
    from napari_nssr.methods.bicubic import BicubicSettings

    image = np.arange(16, dtype=np.float32).reshape(4, 4) + 1
    image[0, 0] = 0
    plan = Request(2, BicubicSettings(), nodata=0).plan(image)
    prepared = Prepared("seeing", BicubicSettings(), Seeing())
    drain(iter_apply(image, plan, prepared))
    np.testing.assert_array_equal(seen[-1], image != 0)
    apply_lazy(da.from_array(image), plan, prepared).compute()
    np.testing.assert_array_equal(seen[-1], image != 0)
