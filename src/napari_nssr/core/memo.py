"""Remembering what was measured on an image, keyed by the image's content.

Preparing a method at several scales of one image (the lens while zooming, the widget's several
scale rows, a batch's scales) measures the same things each time: the noise model, the blur, the
denoised crops. :class:`ContentCache` keeps such results under :func:`content_key` of the arrays
they were measured on (a digest of their bytes, shape and dtype: about 1 ms per MB), so an equal
image gets the same result without measuring again, and a changed one is measured anew.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np


def content_key(arrays: Sequence[np.ndarray]) -> str:
    """A digest of ``arrays``' values, shapes and dtypes (equal for equal content).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(2, 3)
    >>> content_key([a]) == content_key([a.copy()]), content_key([a]) == content_key([a.T])
    (True, False)
    """
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


class ContentCache:
    """A thread-safe least-recently-used mapping of at most ``size`` results.

    Parameters
    ----------
    size : int
        How many results are kept.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = int(size)
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The result kept under ``key``, or ``compute()`` kept under it (computed outside the lock)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._values.clear()
