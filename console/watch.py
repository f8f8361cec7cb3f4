"""The live model of the fleet: every pipeline and state machine of every target, read on a budget.

`Watcher` runs as asyncio tasks on the caller's loop (no threads):

- per target, a discovery loop lists pipelines and state machines every `intervals.lists`;
- per pipeline, a poll loop reads GetPipelineState every interval (`focused` for what is on screen, else
  `background`, or `push_safety_net` while the target's push queue works), GetPipeline only when the
  pipeline's version changes, ListPipelineExecutions only when the state shows a new or changed execution.
  Those two have small budgets: a background read publishes the fresh state at once and fetches them
  behind it, in line, so a large fleet shows every pipeline's stages within seconds of starting;
- per STANDARD state machine, a poll loop reads ListExecutions every interval, DescribeStateMachine at
  discovery and then every `REDESCRIBE_LISTS` × `intervals.lists`, and GetExecutionHistory (only new events) for running
  executions of machines that have `.waitForTaskToken` states, so the approvals inbox knows what waits;
- EXPRESS state machines are listed and never read further: Step Functions keeps no execution records
  for them (ListExecutions, DescribeExecution and GetExecutionHistory do not apply), so there is nothing
  to poll; `EXPRESS_NOTE` says so to the operator;
- the execution shown in detail (`watch_execution`) has its history read every focused interval until it ends;
- per events queue, a reader long-polls SQS and wakes the loops of the resources its events name.

One loop per resource means reads of one resource never overlap. Every read goes through the target's
`PriorityGate` (urgent and on-screen reads first) and the gateway's own budget. Errors are recorded on the
resource (`Pipeline.error`) and the target (`TargetStatus.error`); the loop backs off and carries on.

Every change is published whole: a new immutable `FleetState` and the `Transition`s that led to it, to
every subscriber, in the order they were seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from types import MappingProxyType
from typing import Any, Protocol

from console.approvals import execution_approvals, pipeline_approvals, sorted_approvals, state_timeouts
from console.config import Intervals
from console.diff import HistoryCursor, pipeline_transitions, state_machine_transitions
from console.errors import AccessDenied, AwsError, ExpiredCredentials, InvalidInput, NotFound, Throttled, Unavailable
from console.model import (
    Approval,
    Execution,
    FleetState,
    FleetUpdate,
    HistoryEvent,
    Identity,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    QueueMessage,
    Stage,
    StateMachine,
    StateMachineDetail,
    StateMachineSummary,
    Target,
    TargetStatus,
    Transition,
)
from console.push import WAIT_SECONDS, PushEvent, QueueReader, SeenIds, state_machine_of
from console.scheduler import (
    BACKGROUND,
    FOCUS,
    PUSH,
    REFRESH,
    RETIME,
    URGENT,
    PollSchedule,
    Priority,
    PriorityGate,
    TokenSource,
    Wake,
    backoff,
)
from console.waves import WaveModel

LOG = logging.getLogger(__name__)

EXPRESS_NOTE = (
    "Express state machine: Step Functions keeps no execution history for it (read its executions in CloudWatch Logs)"
)

PIPELINE_EXECUTIONS_LISTED = 20  # newest pipeline executions kept per pipeline (one ListPipelineExecutions page)
EXECUTIONS_LISTED = 25  # newest Step Functions executions kept per state machine (one ListExecutions page)
ENRICH_ATTEMPTS = 3  # tries of a background GetPipeline / ListPipelineExecutions before it says it failed
REDESCRIBE_LISTS = 5  # DescribeStateMachine again every this many `intervals.lists` (definitions rarely change)
HISTORY_FIRST_PAGE = 1000  # GetExecutionHistory's largest page
HISTORY_PAGE = 25  # events per request when reading only what is new
_RUNNING_PIPELINE = frozenset({"InProgress", "Stopping"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class FleetReader(Protocol):
    """What the watcher reads through: one target's `console.aws.Gateway`, or a test double."""

    @property
    def target(self) -> Target: ...

    async def list_pipelines(self) -> Sequence[PipelineSummary]: ...

    async def get_pipeline(self, name: str, /) -> Pipeline: ...

    async def get_pipeline_state(self, name: str, /) -> PipelineState: ...

    async def list_pipeline_executions(self, name: str, /, max_results: int = ...) -> Sequence[PipelineExecution]: ...

    async def list_state_machines(self) -> Sequence[StateMachineSummary]: ...

    async def describe_state_machine(self, arn: str, /) -> StateMachineDetail: ...

    async def list_executions(
        self, arn: str, /, status: str | None = ..., max_results: int = ...
    ) -> Sequence[Execution]: ...

    async def describe_execution(self, arn: str, /) -> Execution: ...

    async def get_execution_history(
        self, arn: str, /, after_id: int = ..., page_size: int = ...
    ) -> Sequence[HistoryEvent]: ...

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = ..., max_messages: int = ...
    ) -> Sequence[QueueMessage]: ...

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object: ...

    async def caller_identity(self) -> Identity: ...


# --- Per-resource bookkeeping (mutable, private to the watcher) -------------------------------------------


@dataclass(eq=False)
class _Slot:
    """One polled resource: its loop task, its wake-up, its failures and who waits for its next read."""

    key: str
    target: str
    wake: Wake = field(default_factory=Wake)
    task: asyncio.Task[None] | None = None
    failures: int = 0
    attempted: bool = False  # read (or tried) at least once
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    last_start: float | None = None

    def settle_waiters(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


@dataclass(eq=False)
class _PipelineSlot(_Slot):
    summary: PipelineSummary = field(default_factory=lambda: PipelineSummary(""))
    structure: Pipeline | None = None
    executions: tuple[PipelineExecution, ...] | None = None
    signature: tuple[object, ...] | None = None
    listed_at: float = 0.0
    state: PipelineState | None = None  # the last GetPipelineState
    state_source: str = "poll"  # what asked for it: poll | push
    executions_shown: bool = False  # the published Pipeline carries listed executions
    # What the first read showed, when it was published before the executions were listed.
    first_seen_until: datetime | None = None  # AWS's time of the newest change in that state
    first_had_runs: bool = False
    enrichment: asyncio.Task[None] | None = None


@dataclass(eq=False)
class _MachineSlot(_Slot):
    summary: StateMachineSummary = field(default_factory=lambda: StateMachineSummary("", ""))
    detail: StateMachineDetail | None = None
    timeouts: dict[str, int] = field(default_factory=dict)  # state → TimeoutSeconds, for approval expiry
    described_at: float | None = None


@dataclass(eq=False)
class _TargetRun:
    target: Target
    reader: FleetReader
    gate: PriorityGate
    pipelines: dict[str, _PipelineSlot] = field(default_factory=dict)  # by name
    machines: dict[str, _MachineSlot] = field(default_factory=dict)  # by ARN
    listed: bool = False  # listed once, or failed to
    list_failures: int = 0
    list_wake: Wake = field(default_factory=Wake)
    list_waiters: list[asyncio.Future[None]] = field(default_factory=list)
    status: TargetStatus | None = None
    read_error: str | None = None
    push_error: str | None = None


@dataclass(eq=False)
class _Watched:
    target: str
    arn: str
    wake: Wake = field(default_factory=Wake)
    task: asyncio.Task[None] | None = None


class Watcher:
    """Keeps the live model of every pipeline and state machine of every target; emits Transitions.

    `gateways` maps target names to their gateway (the watcher never closes them). The watcher reads each
    gateway's `budget` (or `budgets[name]` when given) to put on-screen reads first and to know how long a
    full round of reads really takes, so that staleness is not declared too early. `push_wait` is the
    SQS long poll (20 s, SQS's longest; tests shorten it so that a deleted queue is noticed quickly).
    """

    def __init__(
        self,
        gateways: Mapping[str, FleetReader],
        waves: WaveModel,
        intervals: Intervals,
        *,
        budgets: Mapping[str, TokenSource] | None = None,
        clock: Callable[[], datetime] = utcnow,
        push_wait: int = WAIT_SECONDS,
    ) -> None:
        self._waves = waves
        self._intervals = intervals
        self._clock = clock
        self._push_wait = push_wait
        self._budgets: dict[str, TokenSource] = dict(budgets or {})
        for name, reader in gateways.items():
            own = getattr(reader, "budget", None)
            if name not in self._budgets and own is not None:
                self._budgets[name] = own
        self._schedule = PollSchedule(intervals)
        self._runs: dict[str, _TargetRun] = {}
        for name, reader in gateways.items():
            budget = self._budgets.get(name)
            self._runs[name] = _TargetRun(target=reader.target, reader=reader, gate=PriorityGate(budget))
        self._pipelines: dict[str, Pipeline] = {}
        self._machines: dict[str, StateMachine] = {}
        self._approvals: dict[str, tuple[Approval, ...]] = {}
        self._cursors: dict[str, HistoryCursor] = {}
        self._history_locks: dict[str, asyncio.Lock] = {}
        self._born: set[str] = set()  # executions seen starting while watching: their whole history is news
        self._watched: _Watched | None = None
        self._subscribers: list[Callable[[FleetUpdate], None]] = []
        self._pending: list[Transition] = []
        self._publish_handle: asyncio.Handle | None = None
        self._state = FleetState(
            targets=tuple(TargetStatus(target=run.target) for run in self._runs.values()),
            default_stale_after=2 * intervals.background,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._readers: list[QueueReader] = []
        self._ready = asyncio.Event()
        self._started = False
        self._stopping = False

    # --- Public API -----------------------------------------------------------------------------------

    @property
    def state(self) -> FleetState:
        """The current picture (immutable; replaced whole on every change)."""
        return self._state

    @property
    def intervals(self) -> Intervals:
        return self._intervals

    async def start(self) -> None:
        """Start discovery, polling and push readers; returns at once (see `wait_ready`)."""
        if self._started:
            return
        self._started = True
        for run in self._runs.values():
            run.status = TargetStatus(target=run.target)
            self._spawn(self._discover(run), f"discover {run.target.name}")
            self._spawn(self._identify(run), f"identity {run.target.name}")
        self._start_push_readers()
        watched = self._watched
        if watched is not None and watched.task is None:  # asked for before start
            watched.task = asyncio.get_running_loop().create_task(
                self._watch_loop(self._runs[watched.target], watched), name=f"watch {watched.arn}"
            )
        self._publish_soon()

    async def stop(self) -> None:
        """Cancel every task and wait for them to end. Closes nothing the watcher does not own."""
        self._stopping = True
        tasks = list(self._tasks)
        for run in self._runs.values():
            tasks.extend(s.task for s in (*run.pipelines.values(), *run.machines.values()) if s.task)
            tasks.extend(s.enrichment for s in run.pipelines.values() if s.enrichment)
            tasks.extend(run.gate.tasks)
            run.gate.close()
        if self._watched is not None and self._watched.task is not None:
            tasks.append(self._watched.task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._publish_handle is not None:
            self._publish_handle.cancel()
            self._publish_handle = None

    async def wait_ready(self, timeout: float) -> FleetState:  # noqa: ASYNC109 - the contract's signature
        """The first full picture: every target listed once and every resource read (or tried) once."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        return self._state

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]:
        """Call `callback` with every FleetUpdate (on the watcher's loop; it must be quick)."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def focus(self, keys: Iterable[str]) -> None:
        """What is on screen now (Pipeline.key / StateMachine.key): read every `intervals.focused`."""
        new = frozenset(keys)
        old = self._schedule.focused
        self._schedule.focused = new
        for slot in self._slots():
            if slot.key in new and slot.key not in old:
                slot.wake.wake(FOCUS)
            elif slot.key in old and slot.key not in new:
                slot.wake.wake(RETIME)
        self._publish_soon()  # staleness thresholds changed

    def watch_execution(self, target: str, execution_arn: str | None) -> None:
        """The one Step Functions execution shown in detail; None stops watching."""
        current = self._watched
        if current is not None and (current.target, current.arn) == (target, execution_arn):
            current.wake.wake(REFRESH)
            return
        if current is not None and current.task is not None:
            current.task.cancel()
            if not self._execution_needs_history(current.arn):
                self._forget_history(current.arn)
        self._watched = None
        if execution_arn is None or target not in self._runs:
            return
        watched = _Watched(target, execution_arn)
        self._watched = watched
        if self._started and not self._stopping:
            watched.task = asyncio.get_running_loop().create_task(
                self._watch_loop(self._runs[target], watched), name=f"watch {execution_arn}"
            )

    def history(self, execution_arn: str) -> tuple[HistoryEvent, ...]:
        """The events of an execution's history read so far, in order."""
        cursor = self._cursors.get(execution_arn)
        return tuple(cursor.events) if cursor else ()

    async def refresh(self, keys: Iterable[str] | None = None) -> None:
        """Read now (the operator's ctrl+r), within the budget; returns when those reads are done.

        With no keys: list every target again and read every resource.
        """
        loop = asyncio.get_running_loop()
        wanted = None if keys is None else set(keys)
        waiters: list[asyncio.Future[None]] = []
        if wanted is None:
            for run in self._runs.values():
                waiter = loop.create_future()
                run.list_waiters.append(waiter)
                waiters.append(waiter)
                run.list_wake.wake(REFRESH)
        for slot in self._slots():
            if slot.task is None or (wanted is not None and slot.key not in wanted):
                continue
            waiter = loop.create_future()
            slot.waiters.append(waiter)
            waiters.append(waiter)
            slot.wake.wake(REFRESH)
        watched = self._watched
        if watched is not None and (wanted is None or watched.arn in wanted):
            watched.wake.wake(REFRESH)
        if waiters:
            await asyncio.gather(*waiters)

    # --- Tasks ----------------------------------------------------------------------------------------

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.append(task)
        return task

    def _slots(self) -> Iterable[_Slot]:
        for run in self._runs.values():
            yield from run.pipelines.values()
            yield from run.machines.values()

    def _now(self) -> datetime:
        return self._clock()

    @staticmethod
    def _mono() -> float:
        return asyncio.get_running_loop().time()

    async def _identify(self, run: _TargetRun) -> None:
        # Who the console reads as, for the status bar; not needed for anything else, so one try is enough.
        try:
            async with run.gate.turn("GetCallerIdentity", URGENT):
                who = await run.reader.caller_identity()
        except AwsError:
            return
        except Exception:  # noqa: BLE001 - never let the status bar's nicety break watching
            LOG.exception("caller identity of %s", run.target.name)
            return
        self._set_status(run, identity=who.arn)

    # --- Discovery ------------------------------------------------------------------------------------

    async def _discover(self, run: _TargetRun) -> None:
        while True:
            try:
                async with run.gate.turn("ListPipelines", URGENT):
                    pipelines = await run.reader.list_pipelines()
                async with run.gate.turn("ListStateMachines", URGENT):
                    machines = await run.reader.list_state_machines()
            except AwsError as exc:
                run.list_failures += 1
                self._target_failed(run, exc)
                if not run.listed:
                    run.listed = True  # it tried: a target that is down must not hold up the others
                    self._check_ready()
            except Exception as exc:  # noqa: BLE001 - discovery must go on
                LOG.exception("listing %s", run.target.name)
                run.list_failures += 1
                self._target_failed(run, exc)
            else:
                run.list_failures = 0
                self._target_succeeded(run)
                self._sync_pipelines(run, pipelines)
                self._sync_machines(run, machines)
                run.listed = True
                self._check_ready()
                self._publish_soon()
            for waiter in run.list_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            run.list_waiters.clear()
            delay = self._intervals.lists
            if run.list_failures:
                delay = backoff(self._intervals.focused, run.list_failures, self._intervals.lists)
            await run.list_wake.sleep(delay)

    def _sync_pipelines(self, run: _TargetRun, summaries: Sequence[PipelineSummary]) -> None:
        seen = set()
        for summary in summaries:
            seen.add(summary.name)
            slot = run.pipelines.get(summary.name)
            if slot is None:
                key = f"{run.target.name}:{summary.name}"
                slot = _PipelineSlot(key=key, target=run.target.name, summary=summary)
                run.pipelines[summary.name] = slot
                slot.task = asyncio.get_running_loop().create_task(
                    self._pipeline_loop(run, slot), name=f"pipeline {key}"
                )
            else:
                slot.summary = summary
        for name in [n for n in run.pipelines if n not in seen]:
            slot = run.pipelines.pop(name)
            self._drop(slot)
            self._pipelines.pop(slot.key, None)
            self._approvals.pop(slot.key, None)

    def _sync_machines(self, run: _TargetRun, summaries: Sequence[StateMachineSummary]) -> None:
        seen = set()
        now = self._now()
        for summary in summaries:
            seen.add(summary.arn)
            slot = run.machines.get(summary.arn)
            if slot is not None and slot.summary.created != summary.created:
                # Deleted and created again under the same name: start afresh.
                self._drop(run.machines.pop(summary.arn))
                slot = None
            key = f"{run.target.name}:{summary.name}"
            if slot is None:
                slot = _MachineSlot(key=key, target=run.target.name, summary=summary)
                run.machines[summary.arn] = slot
                if summary.type == "EXPRESS":
                    slot.attempted = True
                else:
                    slot.task = asyncio.get_running_loop().create_task(
                        self._machine_loop(run, slot), name=f"state machine {key}"
                    )
            if summary.type == "EXPRESS":
                # Nothing to read beyond the listing, which is itself the read.
                self._machines[key] = StateMachine(
                    target=run.target.name,
                    arn=summary.arn,
                    name=summary.name,
                    type=summary.type,
                    wave=self._waves.for_state_machine(summary.name),
                    read_at=now,
                )
        for arn in [a for a in run.machines if a not in seen]:
            slot = run.machines.pop(arn)
            self._drop(slot)
            self._machines.pop(slot.key, None)
            self._approvals.pop(slot.key, None)

    def _drop(self, slot: _Slot) -> None:
        if slot.task is not None:
            slot.task.cancel()
        if isinstance(slot, _PipelineSlot) and slot.enrichment is not None:
            slot.enrichment.cancel()
        slot.settle_waiters()

    # --- Poll loops -----------------------------------------------------------------------------------

    async def _poll_loop(self, run: _TargetRun, slot: _Slot, read: Callable[[str, Priority], Awaitable[None]]) -> None:
        """Read, then wait for the next read to be due (or to be woken), forever. Never two reads at once."""
        source, urgency = "poll", self._schedule.priority(slot.key)
        while True:
            slot.last_start = self._mono()
            ok = False
            try:
                # Asked again while the read waits in line: it moves up if its resource comes on screen.
                await read(source, partial(self._rank, slot.key, urgency))
                ok = True
            except AwsError as exc:
                self._resource_failed(run, slot, exc)
            except Exception as exc:  # noqa: BLE001 - a surprise in one resource must not end its loop
                LOG.exception("reading %s", slot.key)
                self._resource_failed(run, slot, exc)
            slot.failures = 0 if ok else slot.failures + 1
            if not slot.attempted:
                slot.attempted = True
                self._check_ready()
            slot.settle_waiters()
            source, urgency = await self._wait_due(slot)

    def _rank(self, key: str, urgency: int) -> int:
        return min(urgency, self._schedule.priority(key))

    async def _wait_due(self, slot: _Slot) -> tuple[str, int]:
        while True:
            interval = self._schedule.interval(slot.key, slot.target)
            cap = max(2 * self._intervals.background, interval)
            due = backoff(interval, slot.failures, cap)
            elapsed = self._mono() - (slot.last_start or 0.0)
            reasons = await slot.wake.sleep(max(0.0, due - elapsed))
            if not reasons:
                return "poll", self._schedule.priority(slot.key)
            if PUSH in reasons:
                return "push", URGENT
            if REFRESH in reasons:
                return "poll", URGENT
            if FOCUS in reasons and self._schedule.is_focused(slot.key):
                if self._mono() - (slot.last_start or 0.0) >= self._intervals.focused:
                    return "poll", URGENT
            # RETIME, or focus on something read a moment ago: recompute when the next read is due.

    async def _pipeline_loop(self, run: _TargetRun, slot: _PipelineSlot) -> None:
        async def read(source: str, priority: Priority) -> None:
            await self._read_pipeline(run, slot, source, priority)

        await self._poll_loop(run, slot, read)

    async def _machine_loop(self, run: _TargetRun, slot: _MachineSlot) -> None:
        async def read(source: str, priority: Priority) -> None:
            await self._read_machine(run, slot, source, priority)

        await self._poll_loop(run, slot, read)

    # --- CodePipeline ---------------------------------------------------------------------------------

    async def _read_pipeline(self, run: _TargetRun, slot: _PipelineSlot, source: str, priority: Priority) -> None:
        name = slot.summary.name
        async with run.gate.turn("GetPipelineState", priority):
            state = await run.reader.get_pipeline_state(name)
        self._target_succeeded(run)
        slot.state, slot.state_source = state, source
        needs_structure, needs_executions = self._pipeline_needs(slot, state)
        if (needs_structure or needs_executions) and _level(priority) == BACKGROUND:
            # Structure and executions have small budgets (a first read of a big fleet waits for them):
            # show the fresh state now, and fetch the rest in line, without holding up this loop.
            self._publish_pipeline(run, slot, source)
            if slot.enrichment is None or slot.enrichment.done():
                slot.enrichment = asyncio.get_running_loop().create_task(
                    self._enrich_pipeline(run, slot), name=f"enrich {slot.key}"
                )
            return
        enrichment = slot.enrichment
        if enrichment is not None and not enrichment.done():
            # Never two reads of the same thing at once: this read does now what the background one waits for.
            enrichment.cancel()
            await asyncio.gather(enrichment, return_exceptions=True)
        await self._fetch_pipeline_details(run, slot, state, priority, needs_structure, needs_executions)
        self._publish_pipeline(run, slot, source)

    def _pipeline_needs(self, slot: _PipelineSlot, state: PipelineState) -> tuple[bool, bool]:
        version = state.version if state.version is not None else slot.summary.version
        needs_structure = slot.structure is None or slot.structure.version != version
        needs_executions = (
            slot.executions is None
            or _execution_signature(state) != slot.signature
            or self._executions_lag(slot, state)
        )
        return needs_structure, needs_executions

    async def _fetch_pipeline_details(
        self,
        run: _TargetRun,
        slot: _PipelineSlot,
        state: PipelineState,
        priority: Priority,
        needs_structure: bool,
        needs_executions: bool,
    ) -> None:
        name = slot.summary.name
        if needs_structure:
            async with run.gate.turn("GetPipeline", priority):
                slot.structure = self._with_waves(await run.reader.get_pipeline(name))
        if needs_executions:
            signature = _execution_signature(state)
            async with run.gate.turn("ListPipelineExecutions", priority):
                executions = await run.reader.list_pipeline_executions(name, max_results=PIPELINE_EXECUTIONS_LISTED)
            slot.executions = tuple(executions)
            slot.signature = signature
            slot.listed_at = self._mono()

    async def _enrich_pipeline(self, run: _TargetRun, slot: _PipelineSlot) -> None:
        """Background: GetPipeline / ListPipelineExecutions for the state read last, then publish again.

        It tries a few times on its own (the poll loop may not come back for a whole safety-net interval),
        and records a failure on the pipeline only when no newer read has been published since it began.
        """
        for attempt in range(1, ENRICH_ATTEMPTS + 1):
            state = slot.state
            if state is None:
                return
            try:
                needs_structure, needs_executions = self._pipeline_needs(slot, state)
                priority = partial(self._schedule.priority, slot.key)  # up the line if it comes on screen
                await self._fetch_pipeline_details(run, slot, state, priority, needs_structure, needs_executions)
            except Exception as exc:  # noqa: BLE001 - recorded on the pipeline below; its poll loop goes on
                if not isinstance(exc, AwsError):
                    LOG.exception("reading %s", slot.key)
                if attempt == ENRICH_ATTEMPTS or isinstance(exc, NotFound | AccessDenied | InvalidInput):
                    if slot.state is state:
                        self._resource_failed(run, slot, exc)
                    return
                await asyncio.sleep(backoff(self._intervals.focused, attempt, self._intervals.background))
                continue
            if slot.key in self._pipelines:
                # What changed came with the last state read, so it carries that read's source.
                self._publish_pipeline(run, slot, slot.state_source)
            return

    def _publish_pipeline(self, run: _TargetRun, slot: _PipelineSlot, source: str) -> None:
        """Merge structure, last state and executions into a Pipeline; publish it with its transitions."""
        state = slot.state
        assert state is not None
        name = slot.summary.name
        now = self._now()
        structure = slot.structure or Pipeline(target=run.target.name, name=name, version=state.version)
        merged = state.apply_to(structure, read_at=now)
        merged = replace(
            merged,
            target=run.target.name,
            name=name,
            pipeline_type=slot.summary.pipeline_type or merged.pipeline_type,
            execution_mode=slot.summary.execution_mode or merged.execution_mode,
            stages=tuple(self._stage_wave(name, s) for s in merged.stages),
            executions=self._consistent_executions(slot, state),
            error=None,
        )
        old = self._pipelines.get(slot.key)
        if old is not None and not slot.executions_shown and slot.executions is not None:
            # The executions were not known when `old` was shown: those that had started by then are not
            # news; one that started later (AWS's clock after the newest change the first read showed) is.
            seen_until = slot.first_seen_until
            if seen_until is None:
                known = merged.executions if slot.first_had_runs else ()
            else:
                known = tuple(e for e in merged.executions if e.started is None or e.started <= seen_until)
            old = replace(old, executions=known)
        if slot.executions is None and not slot.executions_shown and old is None:
            slot.first_seen_until = _latest_change(state)
            slot.first_had_runs = any(s.execution_id for s in state.stages)
        slot.executions_shown = slot.executions is not None
        transitions = pipeline_transitions(old, merged, now, source)
        self._pipelines[slot.key] = merged
        self._approvals[slot.key] = tuple(pipeline_approvals(merged))
        self._emit(transitions)

    def _consistent_executions(self, slot: _PipelineSlot, state: PipelineState) -> tuple[PipelineExecution, ...]:
        """The listed executions, except that none may end before the state shows it ended.

        ListPipelineExecutions is read after GetPipelineState, so it can be a moment ahead: an execution
        already Succeeded while the state still shows its last stage running. Telling that end now would put
        it before the stage's own; until the next read catches up, the execution keeps its previous status.
        """
        executions = slot.executions or ()
        running = {s.execution_id for s in state.stages if s.status in _RUNNING_PIPELINE}
        ahead = {e.id for e in executions if e.id in running and e.status not in _RUNNING_PIPELINE}
        if not ahead:
            return executions
        slot.signature = None  # list again with the next state read
        shown = self._pipelines.get(slot.key)
        before = {e.id: e for e in shown.executions} if shown is not None else {}
        return tuple(before.get(e.id, replace(e, status="InProgress")) if e.id in ahead else e for e in executions)

    def _executions_lag(self, slot: _PipelineSlot, state: PipelineState) -> bool:
        """The list says an execution runs that no stage shows any more: it ended; list again (rarely)."""
        shown = {s.execution_id for s in state.stages if s.status in _RUNNING_PIPELINE}
        shown |= {i.id for s in state.stages for i in s.inbound_executions}
        lagging = any(e.status in _RUNNING_PIPELINE and e.id not in shown for e in slot.executions or ())
        if not lagging:
            return False
        # An execution that is running but shows in no stage (a queued one) would ask forever: at most once
        # per focused interval while it lasts.
        return self._mono() - slot.listed_at >= self._intervals.focused

    def _with_waves(self, structure: Pipeline) -> Pipeline:
        return replace(structure, stages=tuple(self._stage_wave(structure.name, s) for s in structure.stages))

    def _stage_wave(self, pipeline: str, stage: Stage) -> Stage:
        wave = self._waves.for_stage(pipeline, stage.name)
        return stage if stage.wave == wave else replace(stage, wave=wave)

    # --- Step Functions -------------------------------------------------------------------------------

    async def _read_machine(self, run: _TargetRun, slot: _MachineSlot, source: str, priority: Priority) -> None:
        summary = slot.summary
        if slot.described_at is None or self._mono() - slot.described_at >= REDESCRIBE_LISTS * self._intervals.lists:
            async with run.gate.turn("DescribeStateMachine", priority):
                slot.detail = await run.reader.describe_state_machine(summary.arn)
            slot.timeouts = state_timeouts(slot.detail.definition)
            slot.described_at = self._mono()
        async with run.gate.turn("ListExecutions", priority):
            listed = await run.reader.list_executions(summary.arn, max_results=EXECUTIONS_LISTED)
        self._target_succeeded(run)
        now = self._now()
        old = self._machines.get(slot.key)
        executions = tuple(self._keep_described(old, e) for e in listed)
        detail = slot.detail
        machine = StateMachine(
            target=run.target.name,
            arn=summary.arn,
            name=summary.name,
            type=summary.type,
            wave=self._waves.for_state_machine(summary.name),
            approval_states=tuple(s.name for s in detail.task_token_states) if detail else (),
            executions=executions,
            read_at=now,
        )
        transitions = state_machine_transitions(old, machine, now, source)
        self._born.update(t.execution for t in transitions if t.from_status is None and t.execution)
        self._machines[slot.key] = machine
        self._emit(transitions)
        await self._read_waiting(run, slot, machine, source, priority)

    def _keep_described(self, old: StateMachine | None, listed: Execution) -> Execution:
        """ListExecutions has no input/output/error: keep what DescribeExecution said while nothing changed."""
        if old is None:
            return listed
        before = next((e for e in old.executions if e.arn == listed.arn), None)
        if before is None or before.status != listed.status:
            return listed
        if before.input is None and before.output is None and before.error is None and before.cause is None:
            return listed
        return before

    async def _read_waiting(
        self, run: _TargetRun, slot: _MachineSlot, machine: StateMachine, source: str, priority: Priority
    ) -> None:
        """Read new history events of running executions that may wait for a person's token."""
        approvals: list[Approval] = []
        running = {e.arn for e in machine.executions if e.is_running}
        if machine.approval_states:
            for execution in machine.executions:
                if not execution.is_running:
                    continue
                cursor: HistoryCursor | None
                try:
                    cursor = await self._read_history(run, machine, execution, source, priority)
                except AwsError as exc:
                    self._resource_failed(run, slot, exc)
                    cursor = self._cursors.get(execution.arn)
                if cursor is not None:
                    approvals.extend(execution_approvals(machine, execution, cursor.events, slot.timeouts))
        # Executions that ended: nothing more to read for them (unless someone watches one in detail).
        for arn in [a for a in self._cursors if state_machine_of(a) == machine.arn and a not in running]:
            if self._watched is None or self._watched.arn != arn:
                self._forget_history(arn)
        listed = {e.arn for e in machine.executions}
        self._born -= {a for a in self._born if state_machine_of(a) == machine.arn and a not in listed}
        self._approvals[slot.key] = tuple(approvals)
        self._publish_soon()

    async def _read_history(
        self, run: _TargetRun, machine: StateMachine, execution: Execution, source: str, priority: Priority
    ) -> HistoryCursor:
        """Append the events after the last one read; one reader of an execution's history at a time."""
        lock = self._history_locks.setdefault(execution.arn, asyncio.Lock())
        async with lock:
            cursor = self._cursors.setdefault(execution.arn, HistoryCursor())
            if cursor.ended:
                return cursor
            # A first read takes the whole history in big pages; later reads expect a few new events.
            page = HISTORY_FIRST_PAGE if cursor.last_id == 0 else HISTORY_PAGE
            async with run.gate.turn("GetExecutionHistory", priority):
                events = await run.reader.get_execution_history(execution.arn, after_id=cursor.last_id, page_size=page)
            # The first read of an execution that was already running is not news; a later read, or one
            # of an execution seen starting, is.
            emit = bool(cursor.events) or execution.arn in self._born
            transitions = cursor.add(events, machine, execution, self._now(), source, emit=emit)
            self._emit(transitions)
            return cursor

    def _execution_needs_history(self, arn: str) -> bool:
        for machine in self._machines.values():
            if machine.approval_states and any(e.arn == arn and e.is_running for e in machine.executions):
                return True
        return False

    def _forget_history(self, arn: str) -> None:
        self._cursors.pop(arn, None)
        self._history_locks.pop(arn, None)
        self._born.discard(arn)

    async def _watch_loop(self, run: _TargetRun, watched: _Watched) -> None:
        """The execution shown in detail: describe it, then read its history until it has ended."""
        failures = 0
        described: Execution | None = None
        source = "poll"
        while True:
            try:
                if described is None:
                    async with run.gate.turn("DescribeExecution", URGENT):
                        described = await run.reader.describe_execution(watched.arn)
                    self._merge_described(run, described)
                machine = self._machine_by_arn(run, described.state_machine_arn) or StateMachine(
                    target=run.target.name,
                    arn=described.state_machine_arn,
                    name=described.state_machine_arn.rsplit(":", 1)[-1],
                )
                cursor = await self._read_history(run, machine, described, source, URGENT)
                failures = 0
                if cursor.ended:
                    # One last description for the output, error and cause of how it ended.
                    if described.is_running:
                        async with run.gate.turn("DescribeExecution", URGENT):
                            ended = await run.reader.describe_execution(watched.arn)
                        self._merge_described(run, ended)
                    self._publish_soon()
                    return
                self._publish_soon()
            except asyncio.CancelledError:
                raise
            except AwsError as exc:
                failures += 1
                if isinstance(exc, Unavailable | ExpiredCredentials):
                    self._target_failed(run, exc)
                if isinstance(exc, NotFound | InvalidInput | AccessDenied):
                    return  # gone, or never readable (an Express execution): nothing to wait for
            except Exception:  # noqa: BLE001 - the detail view must not end the watcher
                LOG.exception("watching %s", watched.arn)
                failures += 1
            cap = max(2 * self._intervals.background, self._intervals.focused)
            reasons = await watched.wake.sleep(backoff(self._intervals.focused, failures, cap))
            source = "push" if PUSH in reasons else "poll"
            if REFRESH in reasons or PUSH in reasons:
                described = None  # its status changed, or someone asked: read the description again too

    def _machine_by_arn(self, run: _TargetRun, arn: str) -> StateMachine | None:
        slot = run.machines.get(arn)
        return self._machines.get(slot.key) if slot is not None else None

    def _merge_described(self, run: _TargetRun, described: Execution) -> None:
        slot = run.machines.get(described.state_machine_arn)
        machine = self._machines.get(slot.key) if slot is not None else None
        if slot is None or machine is None:
            return
        executions = tuple(described if e.arn == described.arn else e for e in machine.executions)
        if all(e.arn != described.arn for e in machine.executions):
            return  # an older execution than the listed ones: history() still has it
        self._machines[slot.key] = replace(machine, executions=executions)
        self._publish_soon()

    # --- Push -----------------------------------------------------------------------------------------

    def _start_push_readers(self) -> None:
        # Targets sharing one queue share one reader: two readers of a queue would steal each other's
        # messages. An AWS queue URL names its region (sqs.REGION.amazonaws.com); a custom endpoint's does
        # not, and there the same URL in two regions is two queues (the sandbox has one per region).
        by_queue: dict[tuple[str, str | None], list[_TargetRun]] = {}
        for run in self._runs.values():
            queue = run.target.events_queue
            if queue:
                region = queue_region(queue)
                by_queue.setdefault((queue, region or run.target.region), []).append(run)
        for (queue, region), runs in by_queue.items():
            reader_run = next((r for r in runs if r.target.region == region), runs[0])
            # A rule sends a queue the events of its own region: only targets there can rely on it.
            pushed = [r for r in runs if r.target.region == region]
            retry = max(self._intervals.focused, min(self._intervals.lists, self._intervals.push_safety_net))

            async def on_events(events: list[PushEvent], runs: list[_TargetRun] = runs) -> None:
                self._on_push(runs, events)

            def on_health(ok: bool, error: str | None, runs: list[_TargetRun] = pushed) -> None:
                self._on_push_health(runs, ok, error)

            reader = QueueReader(
                _GatedQueue(reader_run),
                queue,
                on_events=on_events,
                on_health=on_health,
                retry_after=retry,
                wait_seconds=self._push_wait,
                seen=SeenIds(),
            )
            self._readers.append(reader)
            self._spawn(reader.run(), f"push {queue} {region}")

    def _on_push(self, runs: list[_TargetRun], events: list[PushEvent]) -> None:
        for event in events:
            for run in runs:
                if event.region and len(runs) > 1 and event.region != run.target.region:
                    continue
                self._route(run, event)

    def _route(self, run: _TargetRun, event: PushEvent) -> None:
        if event.source == "aws.codepipeline" and event.pipeline:
            slot: _Slot | None = run.pipelines.get(event.pipeline)
        elif event.source == "aws.states" and event.state_machine_arn:
            slot = run.machines.get(event.state_machine_arn)
            watched = self._watched
            if watched is not None and event.execution_arn == watched.arn:
                watched.wake.wake(PUSH)
        else:
            return
        if slot is None:
            run.list_wake.wake(PUSH)  # a resource not listed yet: list again now
        elif slot.task is not None:
            slot.wake.wake(PUSH)

    def _on_push_health(self, runs: list[_TargetRun], ok: bool, error: str | None) -> None:
        for run in runs:
            name = run.target.name
            was_pushing = name in self._schedule.pushing
            if ok:
                self._schedule.pushing.add(name)
                run.push_error = None
                self._set_status(run, push="on")
            else:
                self._schedule.pushing.discard(name)
                run.push_error = error
                self._set_status(run, push="failed")
            if was_pushing != ok:
                for slot in (*run.pipelines.values(), *run.machines.values()):
                    slot.wake.wake(RETIME)
            if not ok and was_pushing:
                # Events may have been lost while the queue was failing: read everything now.
                for slot in (*run.pipelines.values(), *run.machines.values()):
                    slot.wake.wake(REFRESH)

    # --- Errors and target status ---------------------------------------------------------------------

    def _resource_failed(self, run: _TargetRun, slot: _Slot, exc: Exception) -> None:
        """Record the error on the resource (its data stays, its `read_at` ages) and, when it is about the
        whole target (unreachable, credentials, access), on the target."""
        message = str(exc) if isinstance(exc, AwsError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, Throttled):
            self._set_status(run, throttled=True)
        if isinstance(exc, Unavailable | ExpiredCredentials | AccessDenied):
            self._target_failed(run, exc)
        if slot.key in self._pipelines:
            self._pipelines[slot.key] = replace(self._pipelines[slot.key], error=message)
        elif slot.key in self._machines:
            self._machines[slot.key] = replace(self._machines[slot.key], error=message)
        elif isinstance(slot, _PipelineSlot):
            self._pipelines[slot.key] = Pipeline(target=run.target.name, name=slot.summary.name, error=message)
        elif isinstance(slot, _MachineSlot):
            self._machines[slot.key] = StateMachine(
                target=run.target.name,
                arn=slot.summary.arn,
                name=slot.summary.name,
                type=slot.summary.type,
                wave=self._waves.for_state_machine(slot.summary.name),
                error=message,
            )
        self._publish_soon()

    def _target_failed(self, run: _TargetRun, exc: BaseException) -> None:
        run.read_error = str(exc) if isinstance(exc, AwsError) else f"{type(exc).__name__}: {exc}"
        self._set_status(run, throttled=isinstance(exc, Throttled) or None)

    def _target_succeeded(self, run: _TargetRun) -> None:
        status = run.status
        if run.read_error is None and status is not None and not status.throttled and status.read_at is not None:
            # The common case: only the time moves. Keep it cheap; it is published with the next update.
            run.status = replace(status, read_at=self._now())
            return
        run.read_error = None
        self._set_status(run, throttled=False, read_at=self._now())

    def _set_status(
        self,
        run: _TargetRun,
        *,
        identity: str | None = None,
        push: str | None = None,
        throttled: bool | None = None,
        read_at: datetime | None = None,
    ) -> None:
        status = run.status or TargetStatus(target=run.target)
        error = run.read_error
        if error is None and run.push_error is not None:
            error = f"events queue: {run.push_error}"
        run.status = replace(
            status,
            identity=identity if identity is not None else status.identity,
            push=push if push is not None else status.push,
            throttled=throttled if throttled is not None else status.throttled,
            read_at=read_at if read_at is not None else status.read_at,
            error=error,
        )
        self._publish_soon()

    # --- Publishing -----------------------------------------------------------------------------------

    def _emit(self, transitions: Sequence[Transition]) -> None:
        self._pending.extend(transitions)
        self._publish_soon()

    def _publish_soon(self) -> None:
        # Everything that changes within one turn of the loop goes out as one update.
        if self._publish_handle is None and not self._stopping:
            self._publish_handle = asyncio.get_running_loop().call_soon(self._publish)

    def _publish(self) -> None:
        self._publish_handle = None
        approvals = sorted_approvals(a for group in self._approvals.values() for a in group)
        self._state = FleetState(
            pipelines=MappingProxyType(dict(self._pipelines)),
            state_machines=MappingProxyType(dict(self._machines)),
            approvals=approvals,
            targets=tuple(self._target_status(run) for run in self._runs.values()),
            stale_after=MappingProxyType(self._stale_after()),
            default_stale_after=2 * self._intervals.background,
        )
        transitions, self._pending = tuple(self._pending), []
        update = FleetUpdate(self._state, transitions)
        for callback in list(self._subscribers):
            try:
                callback(update)
            except Exception:  # noqa: BLE001 - one broken subscriber must not starve the others
                LOG.exception("watcher subscriber %r", callback)

    def _target_status(self, run: _TargetRun) -> TargetStatus:
        status = run.status or TargetStatus(target=run.target)
        # Throttled while AWS's last "slow down" still holds an API below its normal rate.
        slowed = getattr(self._budgets.get(run.target.name), "slowed", ())
        if slowed and not status.throttled:
            return replace(status, throttled=True)
        return status

    def _stale_after(self) -> dict[str, float]:
        """Twice the time between two reads of each resource: its interval, or longer when the budget
        cannot read all of a target's background resources that often."""
        out: dict[str, float] = {}
        for name, run in self._runs.items():
            budget = self._budgets.get(name)
            rounds: dict[str, float] = {}
            for api, count in (
                ("GetPipelineState", len(run.pipelines)),
                ("ListExecutions", sum(1 for s in run.machines.values() if s.task is not None)),
            ):
                rate = _rate(budget, api)
                rounds[api] = count / rate if rate else 0.0
            for slot in run.pipelines.values():
                interval = self._schedule.interval(slot.key, name)
                out[slot.key] = 2 * max(interval, self._round(slot, rounds, "GetPipelineState"))
            for machine in run.machines.values():
                if machine.task is None:
                    out[machine.key] = 2 * self._intervals.lists
                else:
                    interval = self._schedule.interval(machine.key, name)
                    out[machine.key] = 2 * max(interval, self._round(machine, rounds, "ListExecutions"))
        return out

    def _round(self, slot: _Slot, rounds: Mapping[str, float], api: str) -> float:
        # Focused reads go first, so only background reads wait for a whole round of the budget.
        return 0.0 if self._schedule.is_focused(slot.key) else rounds.get(api, 0.0)

    def _check_ready(self) -> None:
        if self._ready.is_set():
            return
        for run in self._runs.values():
            if not run.listed:
                return
            slots = (*run.pipelines.values(), *run.machines.values())
            if run.list_failures == 0 and not all(s.attempted for s in slots):
                return
        self._ready.set()
        self._publish_soon()


def _latest_change(state: PipelineState) -> datetime | None:
    """The newest AWS timestamp in a pipeline's state (an action's status change, a transition toggled)."""
    moments = [a.last_status_change for s in state.stages for a in s.actions if a.last_status_change]
    moments += [s.inbound.last_changed_at for s in state.stages if s.inbound.last_changed_at]
    return max(moments, default=None)


def queue_region(queue_url: str) -> str | None:
    """The region an AWS SQS queue URL names (https://sqs.us-east-1.amazonaws.com/...), or None."""
    host = queue_url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 3 and parts[0] == "sqs":
        return parts[1]
    if len(parts) >= 4 and parts[1] == "queue":  # the legacy REGION.queue.amazonaws.com form
        return parts[0]
    return None


def _level(priority: Priority) -> int:
    return priority() if callable(priority) else priority


def _execution_signature(state: PipelineState) -> tuple[object, ...]:
    """What in a pipeline's state says an execution started, moved on or ended."""
    return tuple((s.name, s.execution_id, s.status, tuple(i.id for i in s.inbound_executions)) for s in state.stages)


def _rate(budget: TokenSource | None, api: str) -> float | None:
    rate = getattr(budget, "rate", None)
    if rate is None:
        return None
    value = rate(api)
    return float(value) if isinstance(value, int | float) and value > 0 else None


class _GatedQueue:
    """The gateway's SQS calls for a QueueReader, through the target's gate like every other read."""

    def __init__(self, run: _TargetRun) -> None:
        self._run = run

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = 20, max_messages: int = 10
    ) -> Sequence[QueueMessage]:
        async with self._run.gate.turn("ReceiveMessage", URGENT):
            return await self._run.reader.receive_messages(
                queue_url, wait_seconds=wait_seconds, max_messages=max_messages
            )

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object:
        async with self._run.gate.turn("DeleteMessageBatch", URGENT):
            return await self._run.reader.delete_messages(queue_url, receipts)
