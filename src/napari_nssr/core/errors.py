"""The package's exceptions: one base class, :class:`NSSRError`, for everything the library refuses.

Each subclass also derives from the built-in exception a Python caller would expect
(``ValueError`` for a bad value, ``TypeError`` for a bad kind of input, ``MemoryError`` for a
result too big, ``FileExistsError`` for an output in the way), so ``except ValueError`` keeps
working. The command line catches :class:`NSSRError` and ``OSError`` and prints one line; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class NSSRError(Exception):
    """Base class of every error napari-nssr raises on purpose (bad input, bad settings, cancel).

    Examples
    --------
    >>> from napari_nssr import NSSRError, super_resolve
    >>> import numpy as np
    >>> try:
    ...     super_resolve(np.zeros((8, 8)), 0.5)
    ... except NSSRError as error:
    ...     print(error)
    scale must be >= 1 (this tool only upsamples), got 0.5
    """


class SettingsError(NSSRError, ValueError):
    """A settings value is out of range or of the wrong kind.

    Examples
    --------
    >>> from napari_nssr import BlindSettings, SettingsError
    >>> try:
    ...     BlindSettings(noise_margin=-1)
    ... except SettingsError as error:
    ...     print(error)
    BlindSettings.noise_margin must satisfy 0.1 <= value <= 10, got -1.0
    """


class ImageError(NSSRError, ValueError):
    """An image cannot be super-resolved as given (empty, too small, NaN, wrong layout).

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import ImageError, super_resolve
    >>> isinstance(ImageError("x"), ValueError)
    True
    """


class ImageTypeError(NSSRError, TypeError):
    """An image has a dtype that is not a number (bool, complex, object)."""


class ModelFileError(NSSRError, ValueError):
    """A model file is missing, corrupt, truncated or inconsistent."""


class ResourceError(NSSRError, MemoryError):
    """A result or gallery would need more memory than this tool allows itself."""


class OutputExistsError(NSSRError, FileExistsError):
    """An output file exists and replacing it was not asked for."""


class Cancelled(NSSRError):
    """Long work (super-resolution, training) was stopped by the caller.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import Cancelled, super_resolve
    >>> try:
    ...     super_resolve(np.ones((32, 32), np.float32), 2, "chain", cancel=lambda: True)
    ... except Cancelled as stop:
    ...     print(stop)
    cancelled after 0 of 1 steps
    """


class TrainingError(NSSRError, RuntimeError):
    """Training failed (for example the loss became NaN)."""


class LargeResultWarning(UserWarning):
    """A result about to be built in memory is large (above :data:`~napari_nssr.core.request.WARN_OUTPUT_BYTES`):
    said before the work starts, with the lazy way to compute it instead."""
