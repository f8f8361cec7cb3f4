"""The history follower: Step Functions execution histories read incrementally, and the execution in detail.

GetExecutionHistory is read only for executions someone needs: running executions of state machines with
`.waitForTaskToken` states (so the approvals inbox knows what waits, asked by the state machine poller),
and the one execution shown in detail (`watch`), every focused interval until it ends. Each read asks only
for the events after the last one held (`HistoryCursor`), one reader of an execution's history at a time;
an execution that has ended is never read again, and its history is forgotten once nobody needs it.

On a team's topic, what a read adds is offered to the team redacted as it is kept (`console/shared_reads.py`), and
what another console read is applied when it follows on from what is held (`apply_shared`); a history holding
shared events is read whole again by the next read of this console's own, whose tokens it then knows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from console import cache_codec
from console.diff import HistoryCursor
from console.errors import AccessDenied, AwsError, ExpiredCredentials, InvalidInput, NotFound, Unavailable
from console.polling.context import WatchContext
from console.polling.gate import Priority
from console.polling.slots import TargetRun
from console.push import state_machine_of
from console.scheduler import PUSH, REFRESH, URGENT, Wake, backoff
from console.shared_reads import TEAM
from console.stepfunctions import slots
from console.stepfunctions.model import SERVICE, Execution, HistoryEvent, StateMachine

LOG = logging.getLogger(__name__)

HISTORY_FIRST_PAGE = 1000  # GetExecutionHistory's largest page
HISTORY_PAGE = 25  # events per request when reading only what is new


@dataclass(eq=False)
class Watched:
    """The one execution shown in detail, and its loop."""

    target: str
    arn: str
    wake: Wake = field(default_factory=Wake)
    task: asyncio.Task[None] | None = None


class HistoryFollower:
    """Holds what has been read of each execution's history and reads what is new."""

    def __init__(self, context: WatchContext) -> None:
        self._ctx = context
        self._cursors: dict[str, HistoryCursor] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._born: set[str] = set()  # executions seen starting while watching: their whole history is news
        self.watched: Watched | None = None

    def history(self, execution_arn: str) -> tuple[HistoryEvent, ...]:
        cursor = self._cursors.get(execution_arn)
        return tuple(cursor.events) if cursor else ()

    def cursor(self, execution_arn: str) -> HistoryCursor | None:
        return self._cursors.get(execution_arn)

    def born(self, execution_arns: set[str]) -> None:
        """Executions seen starting: the first read of their history tells every event."""
        self._born.update(execution_arns)

    async def read(
        self, run: TargetRun, machine: StateMachine, execution: Execution, source: str, priority: Priority
    ) -> HistoryCursor:
        """Append the events after the last one read; one reader of an execution's history at a time."""
        ctx = self._ctx
        lock = self._locks.get(execution.arn)
        if lock is None:
            lock = self._locks[execution.arn] = asyncio.Lock()
        async with lock:
            cursor = self._cursors.setdefault(execution.arn, HistoryCursor())
            if cursor.ended:
                return cursor
            # A first read takes the whole history in big pages; later reads expect a few new events. A
            # cursor holding what the team shared is read whole again (one request up to 1,000 events).
            after = 0 if cursor.shared else cursor.last_id
            page = HISTORY_FIRST_PAGE if after == 0 else HISTORY_PAGE
            async with run.gate.turn("GetExecutionHistory", priority):
                events = await slots.reader(run).get_execution_history(execution.arn, after_id=after, page_size=page)
            # The first read of an execution that was already running is not news; a later read, or one
            # of an execution seen starting (listed as new, or started after the watcher did, whichever
            # read comes first on a busy machine), is.
            emit = bool(cursor.events) or execution.arn in self._born or self._started_since(execution)
            known, index = cursor.last_id, len(cursor.events)
            if cursor.shared:
                # Its own cursor again, from AWS's answer: what it held is no news, what is newer is.
                cursor = self._cursors[execution.arn] = HistoryCursor()
                old = [e for e in events if e.id <= known]
                cursor.add(old, machine, execution, ctx.now(), source, emit=False, tokens_of=self._tokens_of)
                events, index = [e for e in events if e.id > known], len(cursor.events)
            transitions = cursor.add(
                events, machine, execution, ctx.now(), source, emit=emit, tokens_of=self._tokens_of
            )
            ctx.publisher.emit(transitions)
            if len(cursor.events) > index:
                after = cursor.events[index - 1].id if index else 0
                self._share(run, execution.arn, after, tuple(cursor.events[index:]))
            return cursor

    def _share(self, run: TargetRun, execution_arn: str, after: int, events: Sequence[HistoryEvent]) -> None:
        """Offer the team what this read added, redacted as it is kept (each batch goes: they follow on)."""

        def encode() -> dict[str, Any]:
            return {"after": after, "events": [cache_codec.encode(event) for event in events]}

        ctx = self._ctx
        ctx.share_read(run, SERVICE, "GetExecutionHistory", execution_arn, ctx.now(), encode, each=True)

    def apply_shared(self, run: TargetRun, execution_arn: str, after: int, events: Sequence[HistoryEvent]) -> bool:
        """Events another console read of an execution this console follows, told as `team`. Only contiguous
        with what it holds (a gap: its own next read fills it), never while its own read is on the wire, and only
        for an execution it needs (it may wait for a person, or is shown in detail). Its next read of its own then
        takes the whole history again (`HistoryCursor.shared`)."""
        ctx = self._ctx
        lock = self._locks.get(execution_arn)
        if lock is not None and lock.locked():
            return False
        machine = self._machine_by_arn(run, state_machine_of(execution_arn) or "")
        execution = next((e for e in machine.executions if e.arn == execution_arn), None) if machine else None
        if machine is None or execution is None:
            return False
        cursor = self._cursors.get(execution_arn)
        if cursor is None:
            watched = self.watched is not None and self.watched.arn == execution_arn
            if after != 0 or not (watched or self.needed(execution_arn)):
                return False
            cursor = self._cursors[execution_arn] = HistoryCursor()
        if cursor.ended or cursor.last_id < after or not events or events[-1].id <= cursor.last_id:
            return False
        emit = bool(cursor.events) or execution_arn in self._born or self._started_since(execution)
        cursor.shared = True
        ctx.publisher.emit(
            cursor.add(events, machine, execution, ctx.now(), TEAM, emit=emit, tokens_of=self._tokens_of)
        )
        return True

    def _tokens_of(self, execution_arn: str) -> frozenset[str]:
        """The tokens known of another execution (a parent whose token a child's input carries)."""
        cursor = self._cursors.get(execution_arn)
        return frozenset(cursor.tokens) if cursor is not None else frozenset()

    def _started_since(self, execution: Execution) -> bool:
        started_at = self._ctx.started_at
        return execution.started is not None and started_at is not None and execution.started >= started_at

    def settle(self, machine: StateMachine) -> None:
        """After a listing of `machine`: forget the histories of its executions that ended (unless shown in
        detail) and of those no longer listed."""
        running = {e.arn for e in machine.executions if e.is_running}
        for arn in [a for a in self._cursors if state_machine_of(a) == machine.arn and a not in running]:
            if self.watched is None or self.watched.arn != arn:
                self.forget(arn)
        listed = {e.arn for e in machine.executions}
        self._born -= {a for a in self._born if state_machine_of(a) == machine.arn and a not in listed}

    def needed(self, arn: str) -> bool:
        """Whether the approvals inbox still needs this execution's history (it may wait for a person)."""
        for machine in slots.shown(self._ctx.publisher).values():
            if machine.approval_states and any(e.arn == arn and e.is_running for e in machine.executions):
                return True
        return False

    def forget(self, arn: str) -> None:
        self._cursors.pop(arn, None)
        self._locks.pop(arn, None)
        self._born.discard(arn)

    # --- The execution shown in detail ----------------------------------------------------------------

    def watch(self, target: str, execution_arn: str | None) -> None:
        """Show `execution_arn` in detail (None: nothing); read at once when it is already the one shown."""
        ctx = self._ctx
        current = self.watched
        if current is not None and (current.target, current.arn) == (target, execution_arn):
            current.wake.wake(REFRESH)
            return
        if current is not None and current.task is not None:
            current.task.cancel()
            if not self.needed(current.arn):
                self.forget(current.arn)
        self.watched = None
        if execution_arn is None or target not in ctx.runs:
            return
        watched = Watched(target, execution_arn)
        self.watched = watched
        if ctx.started and not ctx.stopping:
            self.start()

    def start(self) -> None:
        """Start the loop of the execution asked for (also when it was asked for before the watcher started)."""
        watched = self.watched
        if watched is not None and watched.task is None:
            watched.task = asyncio.get_running_loop().create_task(
                self._loop(self._ctx.runs[watched.target], watched), name=f"watch {watched.arn}"
            )

    def wake(self, reason: str, execution_arn: str | None = None) -> None:
        """Wake the loop of the execution shown (only if it is `execution_arn`, when given)."""
        watched = self.watched
        if watched is not None and (execution_arn is None or watched.arn == execution_arn):
            watched.wake.wake(reason)

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        watched = self.watched
        return (watched.task,) if watched is not None and watched.task is not None else ()

    async def _loop(self, run: TargetRun, watched: Watched) -> None:
        """The execution shown in detail: describe it, then read its history until it has ended."""
        ctx = self._ctx
        failures = 0
        described: Execution | None = None
        source = "poll"
        while True:
            try:
                if described is None:
                    async with run.gate.turn("DescribeExecution", URGENT):
                        described = await slots.reader(run).describe_execution(watched.arn)
                    self._merge_described(run, described)
                machine = self._machine_by_arn(run, described.state_machine_arn) or StateMachine(
                    target=run.target.name,
                    arn=described.state_machine_arn,
                    name=described.state_machine_arn.rsplit(":", 1)[-1],
                )
                cursor = await self.read(run, machine, described, source, URGENT)
                failures = 0
                ctx.publisher.target_succeeded(run, "DescribeExecution", "GetExecutionHistory")
                if cursor.ended:
                    # One last description for the output, error and cause of how it ended.
                    if described.is_running:
                        async with run.gate.turn("DescribeExecution", URGENT):
                            ended = await slots.reader(run).describe_execution(watched.arn)
                        self._merge_described(run, ended)
                    ctx.publisher.publish_soon()
                    return
                ctx.publisher.publish_soon()
            except asyncio.CancelledError:
                raise
            except AwsError as exc:
                failures += 1
                if isinstance(exc, Unavailable | ExpiredCredentials):
                    ctx.publisher.target_failed(run, exc)
                if isinstance(exc, NotFound | InvalidInput | AccessDenied):
                    return  # gone, or never readable (an Express execution): nothing to wait for
            except Exception:  # noqa: BLE001 - the detail view must not end the watcher
                LOG.exception("watching %s", watched.arn)
                failures += 1
            cap = max(2 * ctx.intervals.background, ctx.intervals.focused)
            reasons = await watched.wake.sleep(backoff(ctx.intervals.focused, failures, cap))
            source = "push" if PUSH in reasons else "poll"
            if REFRESH in reasons or PUSH in reasons:
                described = None  # its status changed, or someone asked: read the description again too

    def _machine_by_arn(self, run: TargetRun, arn: str) -> StateMachine | None:
        slot = slots.slots(run).get(arn)
        return slots.shown(self._ctx.publisher).get(slot.key) if slot is not None else None

    def _merge_described(self, run: TargetRun, described: Execution) -> None:
        publisher = self._ctx.publisher
        slot = slots.slots(run).get(described.state_machine_arn)
        machine = slots.shown(self._ctx.publisher).get(slot.key) if slot is not None else None
        if slot is None or machine is None:
            return
        executions = tuple(described if e.arn == described.arn else e for e in machine.executions)
        if all(e.arn != described.arn for e in machine.executions):
            return  # an older execution than the listed ones: history() still has it
        slots.shown(publisher)[slot.key] = replace(machine, executions=executions)
        publisher.publish_soon()
