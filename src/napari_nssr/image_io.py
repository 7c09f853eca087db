"""Reading and writing image files (TIFF via tifffile, PNG/JPEG via imageio)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

TIFF_SUFFIXES = {".tif", ".tiff"}
PNG_SUFFIXES = {".png"}
READ_ONLY_SUFFIXES = {".jpg", ".jpeg", ".bmp"}


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a TIFF, PNG or JPEG file into an array of its stored dtype."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in TIFF_SUFFIXES:
            import tifffile

            return tifffile.imread(path)
        if suffix in PNG_SUFFIXES | READ_ONLY_SUFFIXES:
            import imageio.v3 as iio

            return np.asarray(iio.imread(path))
    except Exception as exc:  # decoders raise many types for damaged files
        raise ValueError(f"could not read {path}: {exc}") from exc
    raise ValueError(f"unsupported image format {suffix!r} for {path}; use TIFF or PNG")


def write_image(path: str | os.PathLike[str], image: np.ndarray, overwrite: bool = False) -> Path:
    """Write ``image`` as TIFF (any numeric dtype) or PNG (uint8/uint16), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TIFF_SUFFIXES | PNG_SUFFIXES:
        raise ValueError(f"cannot write {suffix!r}; write .tif/.tiff or .png")
    if suffix in PNG_SUFFIXES and image.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"PNG stores only uint8/uint16 images, this one is {image.dtype}; write a .tif instead")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=suffix)
    os.close(fd)
    try:
        if suffix in TIFF_SUFFIXES:
            import tifffile

            rgb = image.ndim == 3 and image.shape[-1] in (3, 4)
            tifffile.imwrite(tmp, image, photometric="rgb" if rgb else "minisblack")
        else:
            import imageio.v3 as iio

            iio.imwrite(tmp, image, extension=".png")
        _umask = os.umask(0)
        os.umask(_umask)
        os.chmod(tmp, 0o666 & ~_umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
