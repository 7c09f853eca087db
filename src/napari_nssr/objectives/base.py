"""What the trainer needs of an objective: a differentiable loss of a filter and its exact optimum."""

from __future__ import annotations

from typing import Protocol

import torch


class Objective(Protocol):
    """A quadratic-or-convex loss over filters of side ``size`` with a computable minimiser."""

    @property
    def size(self) -> int:
        """Side of the filters the objective scores."""
        ...

    def loss(self, h: torch.Tensor) -> torch.Tensor:
        """The loss of filter ``h`` (impulse response), differentiable."""
        ...

    def optimum(self) -> torch.Tensor:
        """The filter minimising :meth:`loss` (float64)."""
        ...

    def to(self, device: torch.device | str) -> Objective:
        """The same objective with its tensors on ``device``."""
        ...
