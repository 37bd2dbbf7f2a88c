"""The caches of the embedded backend: bounded by bytes, emptied whenever the index changes.

As-you-type search repeats a lot, so caching pays; but a cache bounded by entry count is not bounded by
memory (4,096 results of 100 hits each took a worker from 102 MiB to 1.5 GiB). Results are kept as their
compact JSON (a tenth of the size of the objects) and counted in bytes, and every entry of an older index
generation is dropped at once instead of waiting to be evicted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

__all__ = ["LoadingCache", "ResultCache"]

T = TypeVar("T")


_TOOK = b',"took_ms":'  # the last field of a result's JSON, rewritten for each answer from the cache


class ResultCache:
    """A least-recently-used map from a query's key to its result as JSON, holding at most `max_bytes` of them.

    An answer from the cache is the JSON it was stored as with this search's `took_ms`: decoding a result and
    encoding it again for the response took two thirds of a repeated search's time in the worker."""

    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes if max_entry_bytes is not None else max_bytes // 16
        self.size = 0
        self._generation = -1
        self._entries: OrderedDict[str, tuple[bytes, int]] = OrderedDict()  # JSON, total
        self._lock = threading.Lock()

    def _follow(self, generation: int) -> None:
        if generation != self._generation:
            self._entries.clear()
            self.size = 0
            self._generation = generation

    def get_json(self, key: str, generation: int, took_ms: float) -> tuple[bytes, int] | None:
        """The result's JSON, saying it took `took_ms`, and its total; None when not kept."""
        with self._lock:
            self._follow(generation)
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
        raw, total = found
        return raw[: raw.rindex(_TOOK)] + _TOOK + repr(took_ms).encode() + b"}", total

    def put(self, key: str, generation: int, raw: bytes, total: int) -> None:
        """Keep a result's JSON and total (unless it is too large to be worth it)."""
        cost = len(raw) + len(key)
        if cost > self.max_entry_bytes:
            return  # one huge result would evict many small ones that are asked for more often
        with self._lock:
            self._follow(generation)
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.size -= len(previous[0]) + len(key)
            self._entries[key] = (raw, total)
            self.size += cost
            while self.size > self.max_bytes and self._entries:
                old_key, (old, _) = self._entries.popitem(last=False)
                self.size -= len(old) + len(old_key)

    def __len__(self) -> int:
        return len(self._entries)


class LoadingCache:
    """What was loaded for a key in one index generation, least recently used dropped past `max_bytes` (each
    entry counted by `cost`); a new generation empties it.

    Two things a search reads again and again are kept this way: the stored fields of the assets result pages
    show (of the stored documents 4,000 distinct searches read, 97% had been read before; one read from
    tantivy's document store cost 7-15 µs, a tenth of a search), and the lookups behind a typed word: the index
    terms it reaches by typo or as a prefix, the words sharing its first letter, its query (search/embedded_view.py).
    """

    def __init__(self, max_bytes: int, cost: Callable[[Any], int]) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._cost = cost
        self._generation = -1
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: int, load: Callable[[], T]) -> T:
        """The value under `key` in this index generation, loaded (and kept, if it fits) when missing."""
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self.size, self._generation = 0, generation
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return cast(T, found[0])
        value = load()
        cost = self._cost(value) + 100  # the entry, its key and the map's slot
        if cost > self.max_bytes // 16:
            return value
        with self._lock:
            if generation == self._generation and key not in self._entries:
                self._entries[key] = (value, cost)
                self.size += cost
                while self.size > self.max_bytes and self._entries:
                    self.size -= self._entries.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._entries)
