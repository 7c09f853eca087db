import threading

import numpy as np
import pytest

from napari_nssr.core.parallel import cpu_workers, map_in_threads


def test_results_keep_the_order_of_their_items_whatever_the_threads():
    assert map_in_threads(lambda x: 2 * x, range(20), workers=3) == [2 * x for x in range(20)]
    assert map_in_threads(lambda x: x, [], workers=4) == []


def test_one_worker_runs_in_the_calling_thread():
    seen = map_in_threads(lambda _: threading.current_thread(), range(3), workers=1)
    assert all(t is threading.current_thread() for t in seen)


def test_pieces_write_disjoint_rows_of_one_plane():
    plane = np.zeros((64, 8))

    def fill(row: int) -> None:
        plane[row] = row

    map_in_threads(fill, range(64), workers=cpu_workers() + 1)
    np.testing.assert_array_equal(plane[:, 0], np.arange(64))


def test_an_exception_in_a_piece_is_raised_to_the_caller():
    def fail(x: int) -> int:
        if x == 3:
            raise ValueError("piece 3")
        return x

    with pytest.raises(ValueError, match="piece 3"):
        map_in_threads(fail, range(6), workers=2)


def test_opencv_runs_one_thread_per_piece_and_gets_its_pool_back():
    import cv2

    before = cv2.getNumThreads()
    seen = map_in_threads(lambda _: cv2.getNumThreads(), range(4), workers=2)
    assert seen == [1, 1, 1, 1]
    assert cv2.getNumThreads() == before
    with pytest.raises(ValueError):
        map_in_threads(lambda _: (_ for _ in ()).throw(ValueError("x")), range(2), workers=2)
    assert cv2.getNumThreads() == before  # restored after a failing piece too
