"""The live model of the fleet: every pipeline and state machine of every target, read on a budget.

`Watcher` is the one object the CLI and the screens use. It runs as asyncio tasks on the caller's loop (no
threads) and composes the parts in `console/polling/` with one `Source` per service of the registry
(`console/services.py`), and names no service itself:

- `Discovery` lists each target's resources every `intervals.lists`, source after source, and each source
  keeps one poll loop per resource (`PipelineSource` with its `PipelinePoller`: GetPipelineState every
  interval, `focused` for what is on screen, else `background`, or `push_safety_net` while the target's push
  queue works; `StateMachineSource` with its `StateMachinePoller` and `HistoryFollower`);
- a source that follows one execution in detail (`FollowsExecutions`: Step Functions' history follower)
  takes `watch_execution` and `history`;
- `PushRouter` long-polls each events queue and hands each event to the source of its service, which lays
  the event's state over the model and reads only what events do not carry, once per resource however many
  events ask;
- `FleetPublisher` holds the model and publishes it whole, with the transitions that led to it;
- `WarmStart` (given a `WarmCache`) shows what the last run knew at once, marked stale until read, and
  writes it back for the next start.

Every read goes through its budget's `PriorityGate` (what is on screen and the rest share the budget
fairly, the resource read longest ago first) and the gateway's own token bucket. Errors are recorded on
the resource (`Pipeline.error`) and the target (`TargetStatus.error`); the loop backs off and carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from console.config import Intervals
from console.loop_thread import LoopThread
from console.model import FleetState, FleetUpdate, TargetStatus
from console.polling.context import WatchContext
from console.polling.discovery import Discovery
from console.polling.gate import PriorityGate, TokenSource
from console.polling.publisher import FleetPublisher
from console.polling.push_routing import PushRouter, queue_region
from console.polling.reader import FleetReader
from console.polling.slots import TargetRun
from console.polling.source import FollowsExecutions
from console.polling.warm import WarmStart
from console.push import WAIT_SECONDS
from console.scheduler import FOCUS, REFRESH, RETIME, PollSchedule
from console.services import SERVICES
from console.warm_cache import WarmCache
from console.waves import WaveModel

__all__ = ["FleetReader", "ThreadedWatcher", "Watcher", "queue_region", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Watcher:
    """Keeps the live model of every pipeline and state machine of every target; emits Transitions.

    `gateways` maps target names to their gateway (the watcher never closes them). The watcher reads each
    gateway's `budget` (or `budgets[name]` when given) to hand it out fairly between what is on screen and
    the rest, and to know how long a full round of reads really takes, so that staleness is not declared
    too early. `push_wait` is the SQS long poll (20 s, SQS's longest; tests shorten it so that a deleted
    queue is noticed quickly). `cache`: the warm-start cache (`console/warm_cache.py`); None starts cold and
    writes nothing.
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
        cache: WarmCache | None = None,
    ) -> None:
        own: dict[str, TokenSource] = dict(budgets or {})
        for name, reader in gateways.items():
            budget = getattr(reader, "budget", None)
            if name not in own and budget is not None:
                own[name] = budget
        # Targets that share a budget (one account and region) share its gate, so they take turns in it.
        gates: dict[int, PriorityGate] = {}
        runs: dict[str, TargetRun] = {}
        for name, reader in gateways.items():
            budget = own.get(name)
            gate = PriorityGate(None) if budget is None else gates.setdefault(id(budget), PriorityGate(budget))
            runs[name] = TargetRun(target=reader.target, reader=reader, gate=gate, budget=budget)
        schedule = PollSchedule(intervals)
        publisher = FleetPublisher(runs, waves, intervals, schedule, clock)
        self._ctx = WatchContext(intervals, waves, schedule, publisher, runs)
        # One source per registered service (console/services.py), in its order.
        sources = [parts.source(self._ctx) for parts in SERVICES.values()]
        self._sources = tuple(sources)
        # What follows one execution in detail, as a screen asks (Step Functions' histories).
        self._followers = tuple(source for source in sources if isinstance(source, FollowsExecutions))
        self._discovery = Discovery(self._ctx, sources)
        # Push hands each event to the source of the service it is about (none: it is not routed).
        self._push = PushRouter(self._ctx, sources, wait_seconds=push_wait)
        self._warm = None
        if cache is not None:
            self._warm = WarmStart(self._ctx, cache, self._discovery)

    # --- Public API -----------------------------------------------------------------------------------

    @property
    def state(self) -> FleetState:
        """The current picture (immutable; replaced whole on every change)."""
        return self._ctx.publisher.state

    @property
    def intervals(self) -> Intervals:
        return self._ctx.intervals

    async def start(self) -> None:
        """Start discovery, polling and push readers; returns at once (see `wait_ready`)."""
        ctx = self._ctx
        if ctx.started:
            return
        ctx.started = True
        ctx.started_at = datetime.now(UTC)
        for run in ctx.runs.values():
            run.status = TargetStatus(target=run.target)
            ctx.spawn(self._discover(run), f"discover {run.target.name}")
            ctx.spawn(self._discovery.identify(run), f"identity {run.target.name}")
        self._push.start()
        for source in self._sources:
            source.start()
        if self._warm is not None:
            ctx.spawn(self._warm.keep(), "warm-start cache")
        ctx.publisher.publish_soon()

    async def _discover(self, run: TargetRun) -> None:
        if self._warm is not None:
            await self._warm.seed(run)  # shown at once; listed right after
        await self._discovery.loop(run)

    async def stop(self) -> None:
        """Cancel every task and wait for them to end. Closes nothing the watcher does not own."""
        ctx = self._ctx
        ctx.stopping = True
        ctx.publisher.stop()
        tasks = list(ctx.tasks)
        gates = {id(run.gate): run.gate for run in ctx.runs.values()}
        for run in ctx.runs.values():
            for slot in run.slots():
                tasks.extend((slot.task,) if slot.task else ())
                tasks.extend(slot.background())
        for gate in gates.values():
            tasks.extend(gate.tasks)
            gate.close()
        for source in self._sources:
            tasks.extend(source.tasks())
        tasks.extend(self._push.stop())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ctx.tasks.clear()
        if self._warm is not None and ctx.started:
            await self._warm.save()  # what this run knew, for the next start

    @property
    def ready(self) -> bool:
        """Whether the first full picture of this run is there (see `wait_ready`)."""
        return self._ctx.publisher.ready.is_set()

    async def wait_ready(self, timeout: float) -> FleetState:  # noqa: ASYNC109 - the contract's signature
        """The first full picture: every target listed once and every resource read (or tried) once."""
        async with asyncio.timeout(timeout):
            await self._ctx.publisher.ready.wait()
        return self.state

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]:
        """Call `callback` with every FleetUpdate (on the watcher's loop; it must be quick)."""
        return self._ctx.publisher.subscribe(callback)

    def focus(self, keys: Iterable[str], detail: str | None = None) -> None:
        """What is on screen now (Pipeline.key / StateMachine.key): read every `intervals.focused`, or as
        often as the budget allows when what is on screen asks for more than its share. `detail` is the one
        shown in detail, whose whole recent history is kept (a pipeline's listed executions)."""
        ctx = self._ctx
        new = frozenset(keys)
        old = ctx.schedule.focused
        old_detail, ctx.schedule.detail = ctx.schedule.detail, detail
        ctx.schedule.focused = new
        for slot in ctx.slots():
            if (slot.key in new and slot.key not in old) or (slot.key == detail != old_detail):
                slot.wake.wake(FOCUS)
            elif slot.key in old and slot.key not in new:
                slot.wake.wake(RETIME)
        ctx.publisher.publish_soon()  # staleness thresholds changed

    def watch_execution(self, target: str, execution_arn: str | None) -> None:
        """The one Step Functions execution shown in detail; None stops watching."""
        for follower in self._followers:
            follower.watch(target, execution_arn)

    def history(self, execution_arn: str) -> tuple[Any, ...]:
        """The events of an execution's history read so far, in order (its service's `HistoryEvent`s)."""
        for follower in self._followers:
            events = follower.history(execution_arn)
            if events:
                return events
        return ()

    async def refresh(self, keys: Iterable[str] | None = None) -> None:
        """Read now (the operator's ctrl+r), within the budget; returns when those reads are done.

        With no keys: list every target again and read every resource.
        """
        ctx = self._ctx
        loop = asyncio.get_running_loop()
        wanted = None if keys is None else set(keys)
        waiters: list[asyncio.Future[None]] = []
        if wanted is None:
            for run in ctx.runs.values():
                waiter = loop.create_future()
                run.list_waiters.append(waiter)
                waiters.append(waiter)
                run.list_wake.wake(REFRESH)
        for slot in ctx.slots():
            if slot.task is None or (wanted is not None and slot.key not in wanted):
                continue
            waiter = loop.create_future()
            slot.waiters.append(waiter)
            waiters.append(waiter)
            slot.wake.wake(REFRESH)
        for source in self._sources:
            source.refresh(wanted)
        if waiters:
            await asyncio.gather(*waiters)


class ThreadedWatcher:
    """A `Watcher` run on a `LoopThread` (the one its gateways send from), so its reading, converting and diffing
    never take the UI's loop; the UI uses it exactly as it uses a `Watcher`.

    `state` is the newest immutable picture (read from any thread); `subscribe`'s callback is called on the
    watcher's thread, and the receiver hands it to its own loop (console/app.py takes them in batches); `focus`
    and `watch_execution` are handed to the watcher's loop; `start`, `stop`, `refresh` and `wait_ready` run
    there and are awaited from the caller's.
    """

    def __init__(self, watcher: Watcher, io: LoopThread) -> None:
        self.watcher = watcher
        self.io = io

    @property
    def state(self) -> FleetState:
        return self.watcher.state

    @property
    def intervals(self) -> Intervals:
        return self.watcher.intervals

    @property
    def ready(self) -> bool:
        return self.watcher.ready

    async def start(self) -> None:
        await self.io.run(self.watcher.start())

    async def stop(self) -> None:
        await self.io.run(self.watcher.stop())

    async def wait_ready(self, timeout: float) -> FleetState:  # noqa: ASYNC109 - the contract's signature
        return await self.io.run(self.watcher.wait_ready(timeout))

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]:
        return self.watcher.subscribe(callback)

    def focus(self, keys: Iterable[str], detail: str | None = None) -> None:
        self.io.loop.call_soon_threadsafe(self.watcher.focus, tuple(keys), detail)

    def watch_execution(self, target: str, execution_arn: str | None) -> None:
        self.io.loop.call_soon_threadsafe(self.watcher.watch_execution, target, execution_arn)

    def history(self, execution_arn: str) -> tuple[Any, ...]:
        return self.watcher.history(execution_arn)

    async def refresh(self, keys: Iterable[str] | None = None) -> None:
        await self.io.run(self.watcher.refresh(None if keys is None else tuple(keys)))
