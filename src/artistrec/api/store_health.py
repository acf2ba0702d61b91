"""What the profile store's recent writes experienced, for ``GET /ready``.

A readiness probe's own write can pass while real writes fail: on a full disk SQLite still fits
a one-row heartbeat update into pages it already has, while a new profile needs pages it cannot
get. So every ``StoreUnavailableError`` a request meets is remembered for its ``Retry-After``
seconds (or until a later write succeeds), and ``/ready`` reports it: a load balancer then stops
sending this instance writes that would fail, and tries it again after the pause (a circuit
breaker's half-open state).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from artistrec.store.profiles import StoreUnavailableError


@dataclass(frozen=True)
class Failure:
    reason: str
    message: str
    until: float  # time.monotonic() when it stops counting

    @property
    def retry_after(self) -> int:
        return max(1, round(self.until - time.monotonic()))


class StoreHealth:
    """The last store failure that still counts (thread-safe)."""

    def __init__(self) -> None:
        self._failure: Failure | None = None
        self._lock = threading.Lock()

    def failed(self, exc: StoreUnavailableError) -> None:
        with self._lock:
            self._failure = Failure(exc.reason, str(exc), time.monotonic() + exc.retry_after)

    def succeeded(self) -> None:
        if self._failure is not None:
            with self._lock:
                self._failure = None

    def current(self) -> Failure | None:
        """The failure writes met within its Retry-After, if any."""
        failure = self._failure
        if failure is None or time.monotonic() >= failure.until:
            return None
        return failure
