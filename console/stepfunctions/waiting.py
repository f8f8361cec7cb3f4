"""Which `.waitForTaskToken` tasks of an execution are still open, and where each one waits.

Inside a Parallel state every branch runs at once, and inside a Map the same states run once per item, so
one execution can wait for several tokens, some of them in states of the same name. Each is its own
approval: this module tells them apart from the history alone.

AWS's history is a tree drawn as a list: every event names the one before it (`previousEventId`). A
`MapIterationStarted` opens an iteration (its `index` is the item's), and an event whose previous event is
a `ParallelStateStarted` opens a branch (the state it enters is the branch's first). Everything that follows
an event by that chain is inside the same branches and iterations: its scope. A task is open from its
TaskScheduled until an event of the same state and scope closes it, its Parallel or Map ends, or the
execution ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from console.diff import is_wait_for_token
from console.stepfunctions.model import HistoryEvent

_TASK_CLOSED = frozenset(
    {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "TaskAborted"}
)
_EXECUTION_ENDED = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})
# The end of a whole Parallel or Map (its name is found through the chain when the event does not carry it).
_CONTAINER_ENDED = frozenset(
    {
        "ParallelStateSucceeded",
        "ParallelStateFailed",
        "ParallelStateAborted",
        "MapStateSucceeded",
        "MapStateFailed",
        "MapStateAborted",
        "ParallelStateExited",
        "MapStateExited",
    }
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One Parallel branch or Map iteration around a state.

    `state` is the Parallel or Map state; `index` is the Map item's index (0-based, as `$$.Map.Item.Index`)
    or the branch's number (1-based, in the order of `Branches`) when the definition is known; `first` is
    the first state of a branch; `started` is the id of the event that opened it.
    """

    kind: str  # "branch" | "iteration"
    state: str
    index: int | None
    first: str | None
    started: int

    @property
    def text(self) -> str:
        if self.kind == "iteration":
            return f"iteration {self.index if self.index is not None else '?'} of {self.state}"
        if self.index is not None:
            return f"branch {self.index} of {self.state}"
        return f"branch {self.first or '?'} of {self.state}"


@dataclass(frozen=True, slots=True)
class OpenTask:
    """A `.waitForTaskToken` task still waiting: its state, its TaskScheduled event, and where it runs."""

    state: str | None
    scheduled: HistoryEvent
    frames: tuple[Frame, ...] = ()

    @property
    def where(self) -> str:
        """`iteration 2 of ReviewEach` — innermost first; empty at the top level."""
        return ", ".join(frame.text for frame in reversed(self.frames))

    @property
    def map_index(self) -> int | None:
        """The index of the innermost Map iteration, the one `--index` names."""
        return next((f.index for f in reversed(self.frames) if f.kind == "iteration"), None)

    @property
    def event_id(self) -> int:
        return self.scheduled.id


def branch_numbers(definition: Mapping[str, object]) -> dict[tuple[str, str], int]:
    """(Parallel state, first state of a branch) → the branch's number (1-based), nested states included."""
    found: dict[tuple[str, str], int] = {}
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return found
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        branches = state.get("Branches")
        for number, branch in enumerate(branches if isinstance(branches, list) else (), start=1):
            if isinstance(branch, Mapping):
                start = branch.get("StartAt")
                if isinstance(start, str):
                    found[(str(name), start)] = number
                found.update(branch_numbers(branch))
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, Mapping):
                found.update(branch_numbers(processor))
    return found


def open_tasks(events: Sequence[HistoryEvent], branches: Mapping[tuple[str, str], int] | None = None) -> list[OpenTask]:
    """Every `.waitForTaskToken` task still open in `events`, in the order they were scheduled.

    `branches` numbers Parallel branches (see `branch_numbers`); without it a branch is named by its first
    state. Events that do not name their state (TaskScheduled, TaskSucceeded) are tied to it through the
    chain of previous events, as are their branch and iteration.
    """
    numbers = branches or {}
    state_of: dict[int, str] = {}
    frames_of: dict[int, tuple[Frame, ...]] = {}
    kind_of: dict[int, str] = {}
    open_by_key: dict[tuple[str | None, tuple[Frame, ...]], OpenTask] = {}
    for event in sorted(events, key=lambda e: e.id):
        kind_of[event.id] = event.type
        before = frames_of.get(event.previous_id, ())
        if kind_of.get(event.previous_id) == "ParallelStateStarted" and event.type.endswith("StateEntered"):
            parallel = state_of.get(event.previous_id, "?")
            first = event.state_name
            index = numbers.get((parallel, first or ""))
            before = (*before, Frame("branch", parallel, index, first, event.id))
        elif event.type == "MapIterationStarted":
            owner = event.state_name or state_of.get(event.previous_id, "?")
            before = (*before, Frame("iteration", owner, event.index, None, event.id))
        if event.type.endswith("StateEntered") and event.state_name:
            state: str | None = event.state_name
        else:
            state = event.state_name or state_of.get(event.previous_id)
        if event.type in _CONTAINER_ENDED:
            # The container's own events live outside its branches: drop the frames it opened, and the
            # tasks still open in them (a failed branch aborts the others; a Catch moves on).
            container = state
            cut = next((i for i, f in enumerate(before) if f.state == container), None)
            if cut is not None:
                closing = before[cut]
                before = before[:cut]
                for key in [k for k in open_by_key if closing in k[1] or any(f.state == container for f in k[1])]:
                    open_by_key.pop(key, None)
            elif container is not None:
                for key in [k for k in open_by_key if any(f.state == container for f in k[1])]:
                    open_by_key.pop(key, None)
        frames_of[event.id] = before
        if state is not None:
            state_of[event.id] = state
        if event.type in _EXECUTION_ENDED:
            open_by_key.clear()
        elif event.type == "TaskScheduled" and is_wait_for_token(event.resource):
            open_by_key[(state, before)] = OpenTask(state, event, before)
        elif event.type in _TASK_CLOSED or event.type.endswith(("StateExited", "StateAborted")):
            open_by_key.pop((state, before), None)
    return sorted(open_by_key.values(), key=lambda task: task.event_id)


def waiting_chain(
    events: Sequence[HistoryEvent], branches: Mapping[tuple[str, str], int] | None = None
) -> tuple[HistoryEvent, ...]:
    """The events that place each open `.waitForTaskToken` task of `events`: its TaskScheduled and every event
    before it by `previousEventId`, back to the execution's start, in id order; empty when nothing waits.

    `open_tasks` reads an event's branch, iteration and state only through the events before it by that chain,
    so it finds the same tasks, in the same places, in these alone: what the warm-start cache keeps of a history
    (a few events per task, not the thousands of a long Map).
    """
    tasks = open_tasks(events, branches)
    if not tasks:
        return ()
    by_id = {event.id: event for event in events}
    kept: dict[int, HistoryEvent] = {}
    for task in tasks:
        event: HistoryEvent | None = task.scheduled
        while event is not None and event.id not in kept:
            kept[event.id] = event
            event = by_id.get(event.previous_id) if event.previous_id else None
    return tuple(sorted(kept.values(), key=lambda e: e.id))
