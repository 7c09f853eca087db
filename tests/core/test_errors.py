"""One base class for everything the library refuses, each also the built-in a caller expects."""

import pytest

from napari_nssr.core import errors


@pytest.mark.parametrize(
    "error, builtin",
    [
        (errors.SettingsError, ValueError),
        (errors.ImageError, ValueError),
        (errors.ImageTypeError, TypeError),
        (errors.ModelFileError, ValueError),
        (errors.ResourceError, MemoryError),
        (errors.OutputExistsError, FileExistsError),
        (errors.TrainingError, RuntimeError),
        (errors.Cancelled, errors.NSSRError),
    ],
)
def test_every_error_is_an_nssr_error_and_its_builtin(error, builtin):
    assert issubclass(error, errors.NSSRError) and issubclass(error, builtin)


def test_cancelled_is_not_a_runtime_error():
    # napari's generator workers treat a RuntimeError as "the worker was deleted"
    assert not issubclass(errors.Cancelled, RuntimeError)
