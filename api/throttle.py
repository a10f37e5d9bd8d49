"""Counting failed sign-ins: a sliding window per key (a client address, a user name), in
memory, thread-safe and bounded; a restart forgets them.

Each worker process counts its own: with ``jiedui serve --workers N`` a key may fail up to N times
the limit in a window (the requests a proxy spreads over the workers each meet one count). They
are kept per worker on purpose: counting in the store would make every failure a write on the
cluster's leader, so that a flood of bad tokens, which the throttle is there to make cheap,
became a flood of writes. The limits stay meaningful (5 sign-in failures per user and 5 minutes
become 5·N against 80-bit tokens and Argon2id passwords), and a reverse proxy can add one bound
over all workers (``docs/deployment.md``)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from graph_schema.errors import JieduiError


class TooManyAttempts(JieduiError):
    """Too many failed attempts from this address or for this user: wait ``retry_after`` seconds."""

    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"失败次数过多，请 {retry_after} 秒后重试",
                         f"too many failed attempts; retry in {retry_after} seconds", retry_after=retry_after)
        self.retry_after = retry_after


class Throttle:
    """At most ``limit`` failures per key within ``window`` seconds; beyond that the key waits
    until its oldest failure leaves the window. At most ``max_keys`` keys are kept (the least
    recently failed are forgotten first), so a flood of addresses cannot exhaust memory."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def wait(self, key: str) -> int:
        """Seconds this key must still wait (0: it may try)."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if times is None or len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def check(self, *keys: str) -> None:
        """Raise :class:`TooManyAttempts` if any of the keys must wait."""
        waits = [self.wait(k) for k in keys if k]
        if waits and max(waits):
            raise TooManyAttempts(max(waits))

    def fail(self, *keys: str) -> None:
        with self._lock:
            now = self.clock()
            for key in keys:
                if not key:
                    continue
                times = self._recent(key, now)
                if times is None:
                    times = self._failures[key] = deque(maxlen=self.limit)
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def client_address(scope_client: tuple[str, int] | None) -> str:
    """The peer's address (behind a reverse proxy, the proxy's: configure the proxy to limit)."""
    return scope_client[0] if scope_client else "unknown"
