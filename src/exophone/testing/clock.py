"""A clock the test controls: freeze, set, advance, resume.

It is the ``Context.clock`` of a test-mode server, so every date the server
writes (a purchase's ``date_created``, an account's ``created_at``, release
aging) follows it. Until a test touches it, it is the system clock.
"""

from __future__ import annotations

import threading
import time


def _system_us() -> int:
    return time.time_ns() // 1000


class ControlledClock:
    """System time plus an offset, or a frozen instant; safe to use from several threads.

    ``freeze`` stops time at the current (or a given) instant, ``set`` jumps to
    an instant and ``advance`` moves forward (or back), running or frozen;
    ``resume`` lets a frozen clock run on from where it stands, and ``reset``
    goes back to the system clock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset_us = 0
        self._frozen_us: int | None = None

    def now_us(self) -> int:
        """Microseconds since the epoch, UTC."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> int:
        if self._frozen_us is not None:
            return self._frozen_us
        return _system_us() + self._offset_us

    @property
    def frozen(self) -> bool:
        return self._frozen_us is not None

    def freeze(self, at_us: int | None = None) -> None:
        with self._lock:
            self._frozen_us = self._now_locked() if at_us is None else at_us

    def set(self, at_us: int) -> None:
        with self._lock:
            if self._frozen_us is not None:
                self._frozen_us = at_us
            else:
                self._offset_us = at_us - _system_us()

    def advance(self, by_us: int) -> None:
        with self._lock:
            if self._frozen_us is not None:
                self._frozen_us += by_us
            else:
                self._offset_us += by_us

    def resume(self) -> None:
        with self._lock:
            if self._frozen_us is not None:
                self._offset_us = self._frozen_us - _system_us()
                self._frozen_us = None

    def reset(self) -> None:
        with self._lock:
            self._offset_us = 0
            self._frozen_us = None
