"""The sandbox's sense of time: real wall-clock timestamps, durations shortened by `--speed`.

Everything the sandbox reports carries real UTC times, so any client can compare them with its own clock.
What `--speed` changes is how long things take: an action defined to take 20 s takes 2 s at speed 10.
During warm-up the clock is moved by hand from a point in the past up to now, so that the history the
sandbox opens with carries consistent, backdated timestamps.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Real time, or a manually advanced time while warming up; `scale()` turns definition seconds into real ones."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._manual: datetime | None = None
        self._lock = threading.Lock()
        self._anchor = datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._manual if self._manual is not None else datetime.now(UTC)

    def scale(self, seconds: float) -> timedelta:
        """How long `seconds` of definition time lasts at this speed."""
        return timedelta(seconds=seconds / self.speed)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.speed

    def definition_time(self, when: datetime) -> datetime:
        """`when` on the clock that definitions speak of: time runs `speed` times faster from the sandbox's start.

        Deployment windows are evaluated on it, so that at speed 60 a one-hour window passes in a minute,
        as every duration of the definitions does. At speed 1 it is the real time.
        """
        return self._anchor + (when - self._anchor) * self.speed

    def real_time(self, definition: datetime) -> datetime:
        """The real moment at which the definition clock shows `definition` (the inverse of definition_time)."""
        return self._anchor + (definition - self._anchor) / self.speed

    @property
    def warming_up(self) -> bool:
        with self._lock:
            return self._manual is not None

    def set_manual(self, when: datetime | None) -> None:
        """Freeze the clock at `when` (warm-up); None returns to real time."""
        with self._lock:
            self._manual = when
