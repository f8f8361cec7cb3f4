"""When Python's garbage collector may pause the console: not in the middle of a key press.

The console holds a large heap (botocore's service models, Textual, hundreds of pipelines' pictures, cached
lines), and the watcher replaces part of the picture several times a second, so objects keep surviving into
the oldest generation. CPython then runs a full collection every few seconds, and with 500 pipelines one walks
a quarter of a million objects: a pause of 100-250 ms in whatever key press it lands on.

`GcSchedule` moves what has lived a while out of the collector's way (`gc.freeze()`: frozen objects are still
freed by reference counting, they are only not walked again), so the collections that do run walk only what is
recent and take a few milliseconds. Cycles that became garbage after being frozen are found by a full
collection over everything, run only when the operator has not pressed a key for a moment.

Nor does any collection run while a key is handled and drawn: `key_pressed` turns the collector off until
`key_drawn` (the key's frame is out, console/app.py) or, for a key that drew nothing, the next `tick` once
KEY_HOLD passed. The young generations' collections took 1 to 9 ms each, several in a section switch, on
whichever thread allocated; what the key allocated is collected right after its frame, between keys.

CPython's own full collections are turned off while the schedule runs (the oldest generation's threshold): between
two freezes what survived piles up in the oldest generation, and CPython collected it on its own, whichever thread
allocated, in the middle of a key (35 to 113 ms each, six in two minutes of keys at 2,000 pipelines).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

# Seconds between freezes of what survived a collection of the young generations, each at least this long
# after a key.
REFREEZE_EVERY = 10.0
REFREEZE_AFTER_KEY = 0.5
# A full collection (everything, frozen or not) at most this often, and only after this long without a key.
FULL_EVERY = 300.0
IDLE_FOR = 2.0
# The oldest generation's threshold while the schedule runs: CPython never starts a full collection of its own.
NEVER = 1 << 30
# ... unless the operator never pauses: then anyway after this long, so frozen garbage stays bounded.
FULL_AT_THE_LATEST = 1800.0
# A key that drew no frame gives the collector back at the first tick this long after it.
KEY_HOLD = 0.25


class GcSchedule:
    """Keeps full garbage collections away from key presses (see the module docstring).

    `start()` once the app runs, `key_pressed()` on every key and `key_drawn()` once its frame is out, `tick()`
    about once a second, `stop()` at the end."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        now = clock()
        self._last_key = now
        self._last_freeze = now
        self._last_full = now
        self.full_collections = 0
        self._thresholds: tuple[int, int, int] | None = None
        self._holding = False  # the collector is off for a key (`key_pressed`)

    def start(self) -> None:
        # Everything loaded to start (modules, service models, the app's widgets) lives as long as the app.
        gc.freeze()
        self._last_freeze = self._clock()
        young, middle, oldest = self._thresholds = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)

    def stop(self) -> None:
        """The app ends: what it froze may be collected again, and CPython collects as it did (tests run many apps
        in one process)."""
        self.key_drawn()
        gc.unfreeze()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def key_pressed(self) -> None:
        self._last_key = self._clock()
        # Only while the schedule runs, and never over a collector someone else turned off.
        if self._thresholds is not None and not self._holding and gc.isenabled():
            gc.disable()
            self._holding = True

    def key_drawn(self) -> None:
        """The key's frame is out: the collector runs again."""
        if self._holding:
            self._holding = False
            gc.enable()

    def tick(self) -> None:
        now = self._clock()
        if self._holding and now - self._last_key >= KEY_HOLD:
            self.key_drawn()  # a key that drew nothing
        since_full = now - self._last_full
        idle = now - self._last_key >= IDLE_FOR
        if (idle and since_full >= FULL_EVERY) or since_full >= FULL_AT_THE_LATEST:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._last_full = self._last_freeze = now
            self.full_collections += 1
        elif now - self._last_freeze >= REFREEZE_EVERY and (
            now - self._last_key >= REFREEZE_AFTER_KEY or now - self._last_freeze >= 3 * REFREEZE_EVERY
        ):
            # The young generations' garbage first (5 to 25 ms at 2,000 pipelines), so little garbage is frozen:
            # not right after a key (its frame may still be on its way), unless keys never leave the time.
            gc.collect(1)
            gc.freeze()
            self._last_freeze = now
