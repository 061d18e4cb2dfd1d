"""Count requests per client address in a sliding window, against abuse."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Forget addresses quiet for this long, so the table cannot grow without end.
MAX_KEYS = 10_000


class RateLimit:
    """Allow at most `limit` hits per key within `seconds`."""

    def __init__(
        self,
        limit: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allowed(self, key: str) -> bool:
        """Tell whether key is still under its limit, without counting a hit."""
        with self._lock:
            return len(self._recent(key)) < self.limit

    def hit(self, key: str) -> bool:
        """Count one hit for key; tell whether it was within the limit."""
        with self._lock:
            hits = self._recent(key)
            if len(hits) >= self.limit:
                return False
            hits.append(self.clock())
            if len(self._hits) > MAX_KEYS:
                self._forget_quiet()
            return True

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        horizon = self.clock() - self.seconds
        while hits and hits[0] <= horizon:
            hits.popleft()
        return hits

    def _forget_quiet(self) -> None:
        horizon = self.clock() - self.seconds
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= horizon]:
            del self._hits[key]
