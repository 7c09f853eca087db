import json
import pickle

import pytest
import torch

from napari_nssr import PRESETS, ModelFileError, bundled_models, load_model, save_model, train_preset
from napari_nssr.model_file import NSSRModel


def test_round_trip_keeps_filter_and_metadata(tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    loaded = load_model(path)
    torch.testing.assert_close(loaded.filter, tiny_result.model.filter)
    assert loaded.describe() == tiny_result.model.describe()
    assert loaded.architecture.depth == 3 and loaded.gallery.count == 48 and loaded.loss.hold_sum_at_one
    assert loaded.training["converged"] is True


def test_save_refuses_to_clobber(tiny_result, tmp_path):
    path = save_model(tiny_result.model, tmp_path / "m.safetensors")
    with pytest.raises(FileExistsError):
        save_model(tiny_result.model, path)
    save_model(tiny_result.model, path, overwrite=True)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_missing_file():
    with pytest.raises(ModelFileError, match="not found"):
        load_model("/nonexistent/model.safetensors")


def test_corrupt_truncated_and_empty_files(tiny_result, tmp_path):
    good = save_model(tiny_result.model, tmp_path / "good.safetensors").read_bytes()
    cases = {"truncated": good[: len(good) // 2], "empty": b"", "garbage": b"\x00\x01not a model" * 50}
    for name, data in cases.items():
        path = tmp_path / f"{name}.safetensors"
        path.write_bytes(data)
        with pytest.raises(ModelFileError, match="corrupt or truncated"):
            load_model(path)


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path))
    with pytest.raises(ModelFileError, match="not a napari-nssr model"):
        load_model(path)


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
        load_model(path)


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
        load_model(path)


class _Exploit:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_pickle_files_are_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not (tmp_path / "pwned").exists()


def test_non_finite_filter_is_refused():
    with pytest.raises(ModelFileError, match="NaN"):
        NSSRModel(filter=torch.full((3, 3), float("nan")))


def test_bundled_models_load():
    assert {"default", "paper"} <= set(bundled_models())
    default = load_model()
    assert default.name == "default" and default.kind == "lcnn"
    assert default.dc_gain == pytest.approx(1.0, abs=1e-5)
    assert default.training["converged"] and load_model("paper").training["converged"]
    assert default.gallery == PRESETS["default"].gallery


def test_default_model_is_reproducible_from_its_preset():
    # what `napari-nssr train --preset default` does (about 10 s on 2 cores)
    retrained = train_preset("default", device="cpu").model
    torch.testing.assert_close(retrained.filter, load_model("default").filter, rtol=0, atol=1e-5)
