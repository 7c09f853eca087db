import pytest

from napari_nssr.core.progress import run_steps


def steps(n):
    yield from range(n)
    return "done"


def test_run_steps_reports_and_returns():
    seen = []
    assert run_steps(steps(3), seen.append, None, RuntimeError) == "done"
    assert seen == [0, 1, 2]


def test_run_steps_cancels_with_the_given_error():
    seen = []
    with pytest.raises(KeyError):
        run_steps(steps(5), seen.append, lambda: len(seen) == 2, lambda item: KeyError(item))
    assert seen == [0, 1]
