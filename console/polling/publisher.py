"""The publisher of FleetState: the model the pollers fill, target health, staleness, and the subscribers.

Pollers put what they read here (each service's pictures, by service: `shown`, `put`; `approvals`), hand over
their transitions with `emit`, and record failures with `resource_failed` / `target_failed`. Everything that
changes within one turn of the event loop goes out as one `FleetUpdate`: a new immutable `FleetState` and the
transitions that led to it, to every subscriber, in the order they were seen.

Staleness is honest about the budget: a resource is stale after twice the interval it is really read at,
which is its own interval, or longer when its API's budget cannot read it that often
(`console.scheduler.expected_intervals`, the arithmetic of the gate that hands the budget out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType

from console.approvals import sorted_approvals
from console.config import Intervals
from console.errors import AccessDenied, AwsError, ExpiredCredentials, NoCredentials, Throttled, Unavailable
from console.loop_thread import checkpoint
from console.model import Approval, FleetState, FleetUpdate, Resource, Service, TargetStatus, Transition
from console.polling.gate import TokenSource
from console.polling.slots import Slot, TargetRun
from console.scheduler import PollSchedule, Rounds, expected_intervals
from console.waves import WaveModel

LOG = logging.getLogger(__name__)


class FleetPublisher:
    """Holds the live model and publishes it whole; knows when the first full picture is there."""

    def __init__(
        self,
        runs: Mapping[str, TargetRun],
        waves: WaveModel,
        intervals: Intervals,
        schedule: PollSchedule,
        clock: Callable[[], datetime],
    ) -> None:
        self._runs = runs
        self._waves = waves
        self._intervals = intervals
        self._schedule = schedule
        self._clock = clock
        # Each service's pictures, by service, then by key (`Resource.key`).
        self.pictures: dict[Service, dict[str, Resource]] = {}
        self.approvals: dict[str, tuple[Approval, ...]] = {}
        # Keys shown from the warm-start cache and not read since (`console/polling/warm.py`).
        self.cached: set[str] = set()
        self._cached_shown: frozenset[str] = frozenset()
        self._subscribers: list[Callable[[FleetUpdate], None]] = []
        self._pending: list[Transition] = []
        self._handle: asyncio.Handle | None = None
        self._stopped = False
        self._generation = 0  # bumped whenever resources are added or removed
        # (what it was computed from, each resource's window, each target's)
        self._stale: tuple[object, Mapping[str, float], Mapping[str, float]] | None = None
        self._apis: tuple[int, tuple[str, ...]] | None = None  # (generation, the APIs pacing the resources)
        self.ready = asyncio.Event()
        self.notices: list[str] = []  # what a person is told once (FleetState.notices)
        self._state = FleetState(
            targets=tuple(TargetStatus(target=run.target) for run in runs.values()),
            default_stale_after=2 * intervals.background,
        )

    @property
    def state(self) -> FleetState:
        return self._state

    def now(self) -> datetime:
        return self._clock()

    # --- Subscribers and publishing -------------------------------------------------------------------

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, transitions: Sequence[Transition]) -> None:
        self._pending.extend(transitions)
        self.publish_soon()

    def publish_soon(self) -> None:
        # Everything that changes within one turn of the loop goes out as one update.
        if self._handle is None and not self._stopped:
            self._handle = asyncio.get_running_loop().call_soon(self._publish)

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _publish(self) -> None:
        self._handle = None
        approvals = sorted_approvals(a for group in self.approvals.values() for a in group)
        self._state = FleetState(
            resources=MappingProxyType(
                {service: MappingProxyType(dict(pictures)) for service, pictures in self.pictures.items()}
            ),
            approvals=approvals,
            targets=tuple(self._target_status(run) for run in self._runs.values()),
            stale_after=self._stale_after(),
            default_stale_after=2 * self._intervals.background,
            target_stale_after=self._target_stale_after(),
            cached=self._cached_keys(),
            notices=tuple(self.notices),
        )
        transitions, self._pending = tuple(self._pending), []
        update = FleetUpdate(self._state, transitions)
        for callback in list(self._subscribers):
            try:
                callback(update)
            except Exception:  # noqa: BLE001 - one broken subscriber must not starve the others
                LOG.exception("watcher subscriber %r", callback)

    def _cached_keys(self) -> frozenset[str]:
        if self._cached_shown != self.cached:  # a few microseconds, and empty once everything was read
            self._cached_shown = frozenset(self.cached)
        return self._cached_shown

    def shown(self, service: Service) -> dict[str, Resource]:
        """The pictures of one service's resources as shown now, by key (its package narrows them)."""
        return self.pictures.setdefault(service, {})

    def told(self, service: Service, key: str) -> Resource | None:
        """The resource as this run last told it: None before its first read (a picture from the warm-start
        cache is shown, never told: what changed while the console was closed is not news of now)."""
        return None if key in self.cached else self.shown(service).get(key)

    def put(self, service: Service, key: str, picture: Resource) -> None:
        """A resource as just read: shown, and no longer the cache's."""
        self.shown(service)[key] = picture
        self.cached.discard(key)

    def resources_changed(self) -> None:
        """Resources were added or removed: every round and staleness threshold is computed again."""
        self._generation += 1

    def forget(self, service: Service, key: str) -> None:
        """A resource that is gone: out of the model and the inbox."""
        self.shown(service).pop(key, None)
        self.approvals.pop(key, None)
        self.cached.discard(key)

    # --- Readiness ------------------------------------------------------------------------------------

    def check_ready(self) -> None:
        """The first full picture: every target listed once and every resource read (or tried) once."""
        if self.ready.is_set():
            return
        for run in self._runs.values():
            if not run.listed:
                return
            if run.list_failures == 0 and not all(s.attempted for s in run.slots()):
                return
        self.ready.set()
        self.publish_soon()

    # --- Staleness ------------------------------------------------------------------------------------

    def _stale_after(self) -> Mapping[str, float]:
        # Published many times a second with a large fleet, and it changes only with the resources, the
        # focus, push, or a budget's rate: computed again only then.
        groups = self._budget_groups()
        signature = (
            self._generation,
            self._schedule.focused,
            frozenset(self._schedule.pushing),
            tuple(tuple(_rate(budget, api) for api in self._paced_by()) for _, budget in groups),
        )
        if self._stale is None or self._stale[0] != signature:
            windows = self.stale_after()
            floor = 2 * self._intervals.background
            targets = {
                name: max((windows.get(slot.key, floor) for slot in run.slots()), default=floor)
                for run in self._runs.values()
                for name in (run.target.name,)
            }
            self._stale = (signature, MappingProxyType(windows), MappingProxyType(targets))
        return self._stale[1]

    def _target_stale_after(self) -> Mapping[str, float]:
        """Each target's window: the longest of its resources' (after `_stale_after`, which computes both)."""
        self._stale_after()
        assert self._stale is not None
        return self._stale[2]

    def stale_after(self) -> dict[str, float]:
        """Twice the interval each resource is really read at (see `expected_intervals`)."""
        out: dict[str, float] = {}
        for runs, budget in self._budget_groups():
            # The resources read in turn within one API's budget (each service's by the API that paces it); one
            # without a loop (an EXPRESS state machine) is read by its listing alone.
            polled: dict[str, list[tuple[TargetRun, Slot]]] = {}
            for run in runs:
                for slot in run.slots():
                    if slot.task is not None:
                        polled.setdefault(slot.paced_by, []).append((run, slot))
            rounds = {api: self._rounds(budget, api, slots) for api, slots in polled.items()}
            for run in runs:
                checkpoint()  # 2,000 pipelines take milliseconds: a key goes first (console/loop_thread.py)
                name = run.target.name
                for slot in run.slots():
                    if slot.task is None:
                        out[slot.key] = 2 * self._intervals.lists
                        continue
                    interval = self._schedule.interval(slot.key, name)
                    out[slot.key] = 2 * rounds[slot.paced_by].expected(interval, self._schedule.is_focused(slot.key))
        return out

    def _paced_by(self) -> tuple[str, ...]:
        """The APIs whose budgets pace the resources now (their rates decide staleness); computed again only
        when resources come or go."""
        if self._apis is None or self._apis[0] != self._generation:
            apis = tuple(sorted({slot.paced_by for run in self._runs.values() for slot in run.slots()}))
            self._apis = (self._generation, apis)
        return self._apis[1]

    def _budget_groups(self) -> list[tuple[list[TargetRun], TokenSource | None]]:
        # Targets that share a budget share its rate: their resources take turns in one round.
        groups: dict[int, tuple[list[TargetRun], TokenSource | None]] = {}
        for run in self._runs.values():
            key = id(run.budget) if run.budget is not None else id(run)
            groups.setdefault(key, ([], run.budget))[0].append(run)
        return list(groups.values())

    def _rounds(self, budget: TokenSource | None, api: str, slots: Iterable[tuple[TargetRun, Slot]]) -> Rounds:
        focused: Counter[float] = Counter()
        background: Counter[float] = Counter()
        for run, slot in slots:
            interval = self._schedule.interval(slot.key, run.target.name)
            (focused if self._schedule.is_focused(slot.key) else background)[interval] += 1
        return expected_intervals(_rate(budget, api), focused, background)

    # --- Errors and target status ---------------------------------------------------------------------

    def resource_failed(self, run: TargetRun, slot: Slot, exc: Exception) -> None:
        """Record the error on the resource (its data stays, its `read_at` ages) and, when it is about the
        whole target (unreachable, credentials, access), on the target."""
        message = str(exc) if isinstance(exc, AwsError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, Throttled):
            # AWS said "slow down" beyond the gateway's own retries: the loop backs off and reads again, the
            # data stays, and the target says it reads more slowly. Not an error anyone has to act on.
            self.set_status(run, throttled=True)
            return
        if isinstance(exc, Unavailable | ExpiredCredentials | AccessDenied):
            self.target_failed(run, exc)
        shown = self.shown(slot.service)
        shown[slot.key] = slot.failed(shown.get(slot.key), run.target.name, message, self._waves)
        self.publish_soon()

    def target_failed(self, run: TargetRun, exc: BaseException, api: str | None = None) -> None:
        """Record a failure of `api` (default: the operation the error names). The target's error lists every
        API whose latest outcomes are failures, so that one API answering does not hide another that cannot."""
        if isinstance(exc, Throttled):
            self.set_status(run, throttled=True)  # slower, not failing (see `resource_failed`)
            return
        api = api or (exc.operation if isinstance(exc, AwsError) and exc.operation else ANY_API)
        if not isinstance(exc, AwsError) or not exc.answered or isinstance(exc, ExpiredCredentials | NoCredentials):
            # No answer at all, or credentials: about the whole target, so any answer from it clears it.
            api = ANY_API
        # Said on the target's own line (the header, `wavedeck watch`), which names the target already: not twice.
        message = exc.without_target() if isinstance(exc, AwsError) else f"{type(exc).__name__}: {exc}"
        run.api_failures[api] = run.api_failures.get(api, 0) + 1
        run.api_errors[api] = message
        run.read_error = _health(run)
        self.set_status(run, throttled=isinstance(exc, Throttled) or None)

    def target_succeeded(self, run: TargetRun, *apis: str) -> None:
        """Record that `apis` answered: each is reachable again; the target's error clears only when no API
        is failing any more (`reachable again` is said once, when that is true)."""
        cleared = False
        for api in (*apis, ANY_API):
            run.api_failures[api] = 0
            cleared = run.api_errors.pop(api, None) is not None or cleared
        if not apis and run.api_errors:
            cleared = True
        status = run.status
        if (
            not cleared
            and run.read_error == _health(run)
            and status is not None
            and not status.throttled
            and status.read_at is not None
        ):
            # The common case: only the time moves. Keep it cheap; it is published with the next update.
            run.status = replace(status, read_at=self.now())
            return
        run.read_error = _health(run)
        self.set_status(run, throttled=False, read_at=self.now())

    def set_status(
        self,
        run: TargetRun,
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
        self.publish_soon()

    def _target_status(self, run: TargetRun) -> TargetStatus:
        status = run.status or TargetStatus(target=run.target)
        # Throttled while AWS's last "slow down" still holds an API below its normal rate.
        slowed = getattr(run.budget, "slowed", ())
        if slowed and not status.throttled:
            return replace(status, throttled=True)
        return status


# The key of a failure that names no API: any answer from the target clears it.
ANY_API = "AWS"


def _health(run: TargetRun) -> str | None:
    """The target's error: each failing API with its last error, one line each joined, or None."""
    if not run.api_errors:
        return None
    if len(run.api_errors) == 1:
        ((api, error),) = run.api_errors.items()
        return _named(api, error)
    return "; ".join(_named(api, error) for api, error in run.api_errors.items())


def _named(api: str, error: str) -> str:
    return error if api == ANY_API or api in error else f"{api}: {error}"


def _rate(budget: TokenSource | None, api: str) -> float | None:
    if budget is None:
        return None
    value = budget.rate(api)
    return float(value) if isinstance(value, int | float) and value > 0 else None
