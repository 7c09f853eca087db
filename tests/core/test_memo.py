"""Results kept by the content of the arrays they were measured on."""

import threading

import numpy as np

from napari_nssr.core.memo import ContentCache, content_key


def test_equal_content_gives_one_key_and_any_change_another(rng):
    a = rng.random((5, 7))
    assert content_key([a]) == content_key([a.copy()]) == content_key([np.asfortranarray(a)])
    b = a.copy()
    b[2, 3] = np.nextafter(b[2, 3], 2.0)  # one value, one ulp
    assert content_key([b]) != content_key([a])
    assert content_key([a.astype(np.float32)]) != content_key([a])  # same values, another dtype
    assert content_key([a.reshape(7, 5)]) != content_key([a])  # same bytes, another shape
    assert content_key([a, b]) != content_key([b, a])


def test_the_cache_computes_once_keeps_the_newest_and_is_thread_safe():
    cache, calls = ContentCache(size=2), []

    def make(value):
        def compute():
            calls.append(value)
            return value

        return compute

    assert cache.get("a", make(1)) == 1 and cache.get("a", make(99)) == 1
    cache.get("b", make(2))
    cache.get("a", make(99))  # "a" used last: "b" is the oldest
    cache.get("c", make(3))
    assert cache.get("b", make(20)) == 20 and calls == [1, 2, 3, 20]
    threads = [threading.Thread(target=cache.get, args=(f"k{k % 3}", make(k))) for k in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache._values) <= 2
    cache.clear()
    assert cache.get("a", make(5)) == 5
