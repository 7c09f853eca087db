"""napari widgets: a thin Qt layer over the Qt-free core (the core never imports from here)."""

from ._model import ModelWidget
from ._super_resolve import SuperResolveWidget

__all__ = ["ModelWidget", "SuperResolveWidget"]
