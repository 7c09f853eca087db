import pytest

from napari_nssr._widgets._task import TaskControls, TaskFailed, reraise_plainly


def test_errors_inside_workers_are_re_raised_plainly():
    def steps():
        yield 1
        raise RuntimeError("diverged")

    wrapped = reraise_plainly(steps)()
    assert next(wrapped) == 1
    with pytest.raises(TaskFailed, match="diverged"):
        next(wrapped)


def test_controls_report_and_fail(qtbot):
    task = TaskControls("Go")
    task.report(0.5, "half way")
    assert task.progress.value == 500 and task.status.value == "half way" and not task.running
    task.fail("nope")
    assert task.status.value == "Error: nope"
