import json
import pickle

import pytest
import torch

from napari_nssr.core.errors import ModelFileError, OutputExistsError
from napari_nssr.models.files import read_model_file, save_model
from napari_nssr.models.model import NSSRModel


def test_round_trip_keeps_filter_and_metadata(tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    loaded = read_model_file(path)
    torch.testing.assert_close(loaded.filter, tiny_result.model.filter)
    assert loaded.describe() == tiny_result.model.describe()
    assert loaded.architecture.depth == 3 and loaded.gallery.count == 48 and loaded.loss.hold_sum_at_one
    assert loaded.training["converged"] is True


def test_save_refuses_to_clobber(tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    with pytest.raises(OutputExistsError):
        save_model(tiny_result.model, path)
    save_model(tiny_result.model, path, overwrite=True)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_missing_file():
    with pytest.raises(ModelFileError, match="not found"):
        read_model_file("/nonexistent/model.safetensors")


def test_corrupt_truncated_and_empty_files(tiny_result, tmp_path):
    good = save_model(tiny_result.model, tmp_path / "good.safetensors").read_bytes()
    cases = {"truncated": good[: len(good) // 2], "empty": b"", "garbage": b"\x00\x01not a model" * 50}
    for name, data in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match="corrupt or truncated"):
            read_model_file(path)


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(ModelFileError, match="not a napari-nssr model"):
        read_model_file(path)


def _rewrite(path, tensors=None, info=None):
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        header = f.metadata()
        data = {k: f.get_tensor(k) for k in f.keys()}
    data.update(tensors or {})
    if info is not None:
        header["info"] = json.dumps(info)
    save_file(data, str(path), metadata=header)


def test_filter_that_does_not_match_network_is_rejected(tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    _rewrite(path, {"filter": tiny_result.model.filter * 1.5})
    with pytest.raises(ModelFileError, match="not the one the stored network computes"):
        read_model_file(path)


@pytest.mark.parametrize(
    "section, key, value, message",
    [
        ("architecture", "width", 16, "do not match the stated architecture"),
        ("gallery", "size", 4, "invalid model metadata"),
    ],
)
def test_inconsistent_metadata_is_rejected(tiny_result, tmp_path, section, key, value, message):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    info = tiny_result.model.describe()
    info[section][key] = value
    _rewrite(path, info=info)
    with pytest.raises(ModelFileError, match=message):
        read_model_file(path)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_pickle_files_are_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ModelFileError):
        read_model_file(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "filter, message",
    [
        (torch.full((3, 3), 1000.0 / 9), "sum to 1000"),
        (torch.zeros(3, 3), "sum to 0"),
        (torch.full((3, 3), 3e38), "NaN or infinite|sum to"),
        (torch.ones(3, 3, dtype=torch.int64), "floating point"),
    ],
)
def test_closed_form_files_that_lie_are_refused(tiny_result, tmp_path, filter, message):
    # a closed-form file has no network to check against: its filter alone must be sound
    model = NSSRModel(filter=torch.full((3, 3), 1 / 9), name="honest", kind="closed_form", architecture=None)
    path = save_model(model, tmp_path / "m.safetensors")
    _rewrite(path, {"filter": filter})
    with pytest.raises(ModelFileError, match=message):
        read_model_file(path)
