"""Choosing a torch device by name."""

from __future__ import annotations

import torch

from .errors import SettingsError


def available_devices() -> list[str]:
    """Device names usable here: ``"cpu"`` and, when present, ``"cuda"`` / ``"cuda:N"``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names.append("cuda")
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return names


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU; other names are checked for availability."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise SettingsError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SettingsError("CUDA was asked for but torch sees no CUDA device; use device='auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise SettingsError(f"unsupported device {device!r}; use 'auto', 'cpu' or 'cuda'")
    return dev
