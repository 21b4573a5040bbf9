"""A thread-safe least-recently-used cache, bounded by a total weight.

The node keeps three: parsed container graphs and rendered container pages (weight 1
each, bounded by count) and rendered representations of resources (weighed in bytes).
Keys must hold everything the value depends on, so an entry is never stale: it is
either hit by an identical request or ages out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """At most ``capacity`` of total weight; the least recently used entries go first."""

    def __init__(self, capacity: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self.capacity = capacity
        self.weigh = weigh
        self.weight = 0
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: Hashable) -> V | None:
        """The cached value for ``key`` (marked recently used), or None; never makes one."""
        found = self._entries.get(key)
        if found is None:
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:
            pass  # evicted meanwhile by another thread: still a valid value
        return found[0]

    def put(self, key: Hashable, value: V, extra: int = 0) -> V:
        """Keep ``value`` under ``key`` (unless it outweighs the whole cache); returns it."""
        weight = self.weigh(value) + extra
        if weight > self.capacity:
            return value  # larger than the whole cache: serve it, keep nothing
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.weight -= old[1]
            self._entries[key] = (value, weight)
            self.weight += weight
            while self.weight > self.capacity:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.weight -= dropped
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V], extra: int = 0) -> V:
        """The cached value for ``key``, or ``make()`` stored under it, weighing
        ``weigh(value) + extra`` (``extra``: what the key itself holds)."""
        # A hit takes no lock: dict.get and move_to_end are each atomic under the GIL
        # (not on a free-threaded build: there, take the lock here too).
        found = self.peek(key)
        if found is not None:
            return found
        # Made outside the lock: two misses may both make it, harmlessly.
        return self.put(key, make(), extra)
