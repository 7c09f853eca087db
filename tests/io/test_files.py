import os
from pathlib import Path

import pytest

from napari_nssr.core.errors import OutputExistsError
from napari_nssr.io.files import write_atomically


def test_writes_then_renames_and_refuses_to_clobber(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    write_atomically(target, lambda tmp: open(tmp, "w").write("one"))
    assert target.read_text() == "one" and oct(target.stat().st_mode & 0o777) != "0o600"
    with pytest.raises(OutputExistsError, match="exists"):
        write_atomically(target, lambda tmp: open(tmp, "w").write("two"))
    write_atomically(target, lambda tmp: open(tmp, "w").write("two"), overwrite=True)
    assert target.read_text() == "two" and os.listdir(target.parent) == ["out.txt"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("precious")

    def fail(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail, overwrite=True)
    assert target.read_text() == "precious" and os.listdir(tmp_path) == ["out.txt"]


def test_a_failing_write_is_named_by_its_output_and_leaves_nothing(tmp_path):
    from napari_nssr.core.errors import ImageError
    from napari_nssr.io.files import write_atomically

    def full_disk(tmp):
        Path(tmp).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(ImageError, match=r"cannot write .*r\.tif: No space left on device"):
        write_atomically(tmp_path / "r.tif", full_disk)
    assert list(tmp_path.iterdir()) == []
