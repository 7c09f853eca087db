"""Files: images of every registered format with their metadata, kernel files, atomic writes.

Importing the package registers the built-in image formats (``io/images.py``), so the registry
(``io/formats.py``) is complete whichever module of it is imported first.
"""

from . import images as images  # noqa: F401 - registers the built-in formats
