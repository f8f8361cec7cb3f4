"""Every transition the watcher reported, in order, in a bounded window.

Redraw messages are coalesced, transitions must not be: the app appends each update's transitions here as
soon as the watcher reports them, and the activity screen reads what is new with `since(seq)`. The window
keeps memory flat over a long busy session; a reader that fell further behind than the window is told how
many it missed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from console.model import Transition

DEFAULT_WINDOW = 5000


@dataclass(frozen=True, slots=True)
class TransitionsSince:
    """What is new after a sequence number: the transitions, how many fell out of the window, the new total."""

    transitions: tuple[Transition, ...]
    missed: int
    total: int


class TransitionLog:
    """A bounded, append-only sequence of transitions numbered from 1."""

    def __init__(self, window: int = DEFAULT_WINDOW) -> None:
        self._items: deque[Transition] = deque(maxlen=window)
        self._total = 0

    @property
    def total(self) -> int:
        """How many transitions were ever appended (the sequence number of the newest)."""
        return self._total

    @property
    def window(self) -> int:
        return self._items.maxlen or 0

    def append(self, transitions: Iterable[Transition]) -> None:
        for transition in transitions:
            self._items.append(transition)
            self._total += 1

    def since(self, seq: int) -> TransitionsSince:
        """Transitions numbered after `seq` that are still in the window (0: everything kept)."""
        new = self._total - max(seq, 0)
        if new <= 0:
            return TransitionsSince((), 0, self._total)
        kept = min(new, len(self._items))
        items = tuple(self._items)[len(self._items) - kept :] if kept else ()
        return TransitionsSince(items, new - kept, self._total)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Transition]:
        return iter(tuple(self._items))
