"""One memoisation style for derived data: :class:`Memo`.

Tables derived from an instance's topology (origin trees, segment tables,
lower bounds, cumulative latencies) are built once and kept on the object
they derive from, in a ``Memo``: ``memo.get(key, build)`` returns the kept
value or builds, keeps and returns it. A memo with ``max_bytes`` keeps at most
that many bytes (numpy arrays and objects reporting ``nbytes``), dropping the
least recently used entries first, so memory grows with what a solve touches
at a time, not with origins x nodes x models.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


def nbytes_of(value: Any, _depth: int = 0) -> int:
    """Approximate bytes held by ``value``: numpy arrays, objects with an ``nbytes``
    attribute, and (one level deep) tuples, lists and dicts of those; 64 for anything else."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    own = getattr(value, "nbytes", None)
    if isinstance(own, (int, np.integer)) and not isinstance(value, np.generic):
        return int(own)
    if _depth == 0 and isinstance(value, dict):
        return 64 + 100 * len(value) + sum(nbytes_of(v, 1) for v in value.values())
    if _depth == 0 and isinstance(value, (list, tuple)):
        return 56 + 8 * len(value) + sum(nbytes_of(v, 1) for v in value)
    return 64


class Memo:
    """Derived values by key, built once (see the module docstring)."""

    def __init__(self, max_bytes: int | None = None):
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._total = 0

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value kept under ``key``, built by ``build()`` the first time."""
        if key in self._items:
            if self.max_bytes is not None:
                self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        if self.max_bytes is not None:
            self._sizes[key] = nbytes_of(value)
            self._total += self._sizes[key]
            self._evict()
        return value

    def resize(self, key: Hashable) -> None:
        """Recount the bytes of ``key``'s value (after it filled memos of its own)."""
        if self.max_bytes is None or key not in self._items:
            return
        size = nbytes_of(self._items[key])
        self._total += size - self._sizes.get(key, 0)
        self._sizes[key] = size
        self._evict()

    def _evict(self) -> None:
        while self._total > self.max_bytes and len(self._items) > 1:
            old, _ = self._items.popitem(last=False)
            self._total -= self._sizes.pop(old, 0)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._sizes.clear()
        self._total = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the values kept (counted as they are kept with ``max_bytes``, else estimated now)."""
        if self.max_bytes is not None:
            return self._total
        return sum(nbytes_of(v) for v in self._items.values())
