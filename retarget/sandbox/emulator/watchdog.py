"""Wall-clock limits for emulator runs without a thread per run.

Unicorn's own ``timeout`` starts and joins a timer thread on every ``emu_start`` (about 0.2 ms,
more than most verification runs take). One daemon thread here serves every engine of the
process: a run registers its deadline, the thread polls a few times per tenth of a second and
stops any engine that has run past its deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

POLL_S = 0.02


class Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[int, tuple[float, Callable[[], None]]] = {}
        self._fired: set[int] = set()
        self._thread: threading.Thread | None = None
        self._next = 0

    def arm(self, limit_s: float, stop: Callable[[], None]) -> int:
        """Register a run; ``stop`` is called from the watchdog thread if it overruns."""
        with self._lock:
            self._next += 1
            token = self._next
            self._deadlines[token] = (time.monotonic() + limit_s, stop)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="retarget-watchdog", daemon=True
                )
                self._thread.start()
        return token

    def disarm(self, token: int) -> bool:
        """End a run; True when the watchdog had stopped it."""
        with self._lock:
            self._deadlines.pop(token, None)
            fired = token in self._fired
            self._fired.discard(token)
        return fired

    def _loop(self) -> None:
        while True:
            time.sleep(POLL_S)
            now = time.monotonic()
            # Stopping under the lock: a run that has disarmed can never be stopped late, so
            # the stop cannot land on the engine's next run.
            with self._lock:
                due = [(t, stop) for t, (d, stop) in self._deadlines.items() if d <= now]
                for token, stop in due:
                    del self._deadlines[token]
                    self._fired.add(token)
                    stop()


WATCHDOG = Watchdog()
