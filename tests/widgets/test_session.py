from napari_nssr._widgets._session import SESSION_MODELS, bundled_choices, model_choices


def test_session_models_get_unique_labels_and_signals(tiny_result):
    changed, chosen = [], []
    SESSION_MODELS.changed.connect(lambda: changed.append(1))
    SESSION_MODELS.chosen.connect(chosen.append)
    first, second = SESSION_MODELS.add(tiny_result.model), SESSION_MODELS.add(tiny_result.model)
    assert first == "tiny (session)" and second == "tiny (session 2)" and len(changed) == 2
    SESSION_MODELS.choose("paper")
    assert chosen == ["paper"]
    values = [value for _, value in model_choices()]
    assert values[: len(bundled_choices())] == [v for _, v in bundled_choices()] and tiny_result.model in values
    assert "chain" in values and "blind" not in values  # blind is a method, not a model
    SESSION_MODELS.clear()
