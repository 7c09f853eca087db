import pytest

from napari_nssr.core import resources
from napari_nssr.core.errors import ResourceError


def test_available_memory_is_a_plausible_number():
    assert 2**26 < resources.available_memory() < 2**50


def test_check_fits_refuses_what_the_machine_cannot_give(monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 10 * 2**30)
    resources.check_fits(7 * 2**30, "a job")
    with pytest.raises(ResourceError, match="a job needs about 9.0 GiB of memory; 8.0 GiB is available"):
        resources.check_fits(9 * 2**30, "a job")
