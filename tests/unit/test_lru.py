"""The kit's bounded LRU map (statement-shape caches)."""

from __future__ import annotations

import threading

import pytest

from shared.runtime.lru import LRUCache


def test_the_least_recently_used_key_goes_first() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1  # a is now the most recent
    cache["c"] = 3
    assert "b" not in cache and cache.get("a") == 1 and cache.get("c") == 3 and len(cache) == 2
    cache["a"] = 10  # re-set: most recent, not duplicated
    cache["d"] = 4
    assert "c" not in cache and cache.get("a") == 10 and len(cache) == 2
    assert cache.get("missing") is None


def test_bounded_under_threads() -> None:
    cache: LRUCache[int, int] = LRUCache(64)

    def work(base: int) -> None:
        for i in range(2000):
            cache[base + i] = i
            cache.get(base + i // 2)

    threads = [threading.Thread(target=work, args=(n * 10_000,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 64


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LRUCache(0)
