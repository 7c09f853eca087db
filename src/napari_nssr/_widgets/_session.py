"""Models loaded or trained in this napari session, shared by the model and super-resolve widgets."""

from __future__ import annotations

from psygnal import Signal

from ..models.bundled import bundled_models
from ..models.model import NSSRModel

# (label, value) choices offered before any user model: a value is a bundled name or family
BUNDLED_CHOICES: list[tuple[str, str]] = [
    ("chain: degradation-aware, per scale (best on clean DIV2KRK-like blur)", "chain"),
    ("default: paper loss, sum held at 1", "default"),
    ("paper: paper-faithful", "paper"),
]


def bundled_choices() -> list[tuple[str, str]]:
    """The bundled models as widget choices: the per-scale family first, then single models."""
    names = sorted(bundled_models())
    listed = {value for _, value in BUNDLED_CHOICES}
    return BUNDLED_CHOICES + [(f"{name}: bundled", name) for name in names if name not in listed]


class SessionModels:
    """User models by display name; ``changed`` fires on additions, ``chosen`` when one is made active."""

    changed = Signal()
    chosen = Signal(object)

    def __init__(self) -> None:
        self._models: dict[str, NSSRModel] = {}

    def add(self, model: NSSRModel) -> str:
        """Register ``model`` under a unique label and return that label."""
        label, n = f"{model.name} (session)", 2
        while label in self._models:
            label, n = f"{model.name} (session {n})", n + 1
        self._models[label] = model
        self.changed.emit()
        return label

    def choose(self, value: NSSRModel | str) -> None:
        """Make ``value`` (a session model or bundled name) the one super-resolve widgets use (with
        the ``filter`` method)."""
        self.chosen.emit(value)

    def choices(self) -> list[tuple[str, NSSRModel]]:
        """Session models as ``(label, model)`` widget choices, oldest first."""
        return list(self._models.items())

    def clear(self) -> None:
        """Forget every session model."""
        self._models.clear()
        self.changed.emit()


SESSION_MODELS = SessionModels()


def model_choices(*_: object) -> list[tuple[str, NSSRModel | str]]:
    """All models the ``filter`` method can use in a super-resolve widget (magicgui choices callback)."""
    return [*bundled_choices(), *SESSION_MODELS.choices()]
