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
    """User models by display name; ``changed`` fires on additions, ``chosen`` when one is made active,
    ``in_use`` when a super-resolve widget says which model it uses (a text, and the model once a
    run has solved or loaded one)."""

    changed = Signal()
    chosen = Signal(object)
    in_use = Signal(str, object)

    def __init__(self) -> None:
        self._models: dict[str, NSSRModel] = {}
        self.in_use_text = ""
        self.in_use_model: NSSRModel | None = None

    def report_in_use(self, text: str, model: NSSRModel | None = None) -> None:
        """Say which model a super-resolve widget uses (kept for widgets opened later)."""
        self.in_use_text = text
        if model is not None:
            self.in_use_model = model
        self.in_use.emit(text, model)

    def add(self, model: NSSRModel, name: str | None = None) -> str:
        """Register ``model`` under a unique label (from ``name``, a file's stem, say, or the model's
        own name) and return that label."""
        base = name or model.name
        label, n = f"{base} (session)", 2
        while label in self._models:
            label, n = f"{base} (session {n})", n + 1
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
