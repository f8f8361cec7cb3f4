"""The console's common vocabulary: frozen dataclasses that flow from the gateway to the watcher to the screens.

What every service shares lives here (targets, waves, approvals, transitions, the published picture); each
service's own types live in its package (`console/codepipeline/model.py`, `console/stepfunctions/model.py`).
Nothing here talks to AWS or to the terminal. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Protocol


class Service(str):
    """A source of deployments: whose resource a selection, an approval, a transition or a slot is.

    One value per service, made by its package (`SERVICE` in `console/codepipeline/model.py`, …), so a new
    service needs nothing here. A `str` (its name, as the JSON and `wavedeck watch` spell it): equal to another
    made from the same name.
    """

    __slots__ = ()

    @property
    def value(self) -> str:
        """Its name (as an enum's value reads)."""
        return str(self)

    def __repr__(self) -> str:
        return f"Service({str(self)!r})"


class TransitionKind(enum.StrEnum):
    """What a Transition is about; the value is what `wavedeck watch` prints.

    Each service package subclasses it with its own members (`PipelineTransition` in
    `console/codepipeline/model.py`, `MachineTransition` in `console/stepfunctions/model.py`), each saying its
    `service`; `of` finds a member by its value among them all.
    """

    @property
    def service(self) -> Service:
        raise NotImplementedError(f"{type(self).__name__} says no service")

    @classmethod
    def of(cls, value: str) -> TransitionKind:
        """The member whose value is `value`, among every service's kinds; ValueError when none is."""
        if isinstance(value, TransitionKind):
            return value
        for kinds in cls.__subclasses__():
            try:
                return kinds(value)
            except ValueError:
                continue
        raise ValueError(f"{value!r} is not a TransitionKind")


class Risk(enum.IntEnum):
    """How much harm a mistake in a wave can do; production is the highest known tier.

    UNKNOWN is a stage that matches no wave: ranked above production, because a console that cannot tell must
    treat a stage as dangerous (console/waves.py).
    """

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    PRODUCTION = 4
    UNKNOWN = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Wave:
    """One step of the path a change travels: alpha, beta, gamma, then the production waves in order."""

    name: str
    order: int
    environment: str
    risk: Risk
    description: str = ""

    @property
    def is_production(self) -> bool:
        return self.risk is Risk.PRODUCTION

    @property
    def is_unknown(self) -> bool:
        return self.risk is Risk.UNKNOWN

    @property
    def typed_confirmation(self) -> bool:
        """Whether an action here is confirmed by typing a name: production, and what nobody placed."""
        return self.risk >= Risk.PRODUCTION


UNKNOWN_WAVE = Wave(
    name="unknown",
    order=1000,
    environment="unknown",
    risk=Risk.UNKNOWN,
    description="matches no wave: confirmed like production until the config maps it",
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where resources live: a profile, a region, an optional role and endpoint.

    `name` is what the operator sees (and what `watch` prints); it is unique among the targets.
    `shown_endpoint` is the endpoint the header names beside it: set whenever requests do not go to AWS's own
    endpoint (an `endpoint_url`, `AWS_ENDPOINT_URL`, or the profile's `endpoint_url`).
    """

    name: str
    region: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    production: bool = False
    events_queue: str | None = None  # push, one console: the queue an EventBridge rule sends to
    events_topic: str | None = None  # push, a team: the SNS topic each console subscribes a queue of its own to
    sandbox: bool = False
    shown_endpoint: str | None = None


@dataclass(frozen=True, slots=True)
class SourceRevision:
    action_name: str
    revision_id: str
    summary: str = ""
    url: str | None = None

    @property
    def short(self) -> str:
        return self.revision_id[:8]


class Hold(Protocol):
    """What holds a resource for a person besides an approval (CodePipeline's stage conditions, `ConditionKind`)."""

    @property
    def label(self) -> str:
        """How the operator reads it: `before entry`."""
        ...


@dataclass(frozen=True, slots=True)
class Approval:
    """Something waiting for a person: a CodePipeline manual approval or a `.waitForTaskToken` state."""

    kind: Service
    target: str
    resource: str  # pipeline/stage/action, or state-machine/execution
    wave: Wave | None
    since: datetime | None
    expires: datetime | None = None
    revision: SourceRevision | None = None
    custom_data: str = ""
    url: str | None = None
    state_name: str | None = None
    execution: str | None = None
    # Not an approval but a stage held by its entry conditions on alarms, which only a person's override (or
    # the alarms clearing) ends; `expires` is when the conditions stop waiting and fail the stage.
    condition: Hold | None = None
    # Step Functions only: where the state waits when it is inside Parallel branches or Map iterations
    # ("iteration 2 of ReviewEach"), the index of its innermost Map iteration, and the id of its TaskScheduled
    # event, which tells apart the same state waiting in several iterations (and never changes while it waits).
    where: str = ""
    map_index: int | None = None
    task_event: int | None = None

    def __post_init__(self) -> None:
        # Accept the name too ("codepipeline"), as the JSON and older callers spell it.
        if not isinstance(self.kind, Service):
            object.__setattr__(self, "kind", Service(self.kind))

    @property
    def key(self) -> str:
        return f"{self.target}:{self.resource}"


@dataclass(frozen=True, slots=True)
class Transition:
    """One change the watcher saw: what `wavedeck watch` prints and the activity screen lists."""

    time: datetime
    target: str
    kind: TransitionKind
    resource: str
    execution: str | None
    wave: Wave | None
    from_status: str | None
    to_status: str | None
    detail: str = ""
    source: str = "poll"  # poll | push | team (what another console of the team read, on its topic)

    def __post_init__(self) -> None:
        # Accept the value too ("stage"), as `wavedeck watch --json` prints it.
        object.__setattr__(self, "kind", TransitionKind.of(self.kind))

    def to_json(self) -> dict[str, object]:
        return {
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "target": self.target,
            "kind": self.kind.value,
            "resource": self.resource,
            "execution": self.execution,
            "wave": self.wave.name if self.wave else None,
            "from": self.from_status,
            "to": self.to_status,
            "detail": self.detail,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """How a target is doing: reachable, throttled, pushed to, and the last problem in plain words."""

    target: Target
    identity: str | None = None  # caller ARN, once known
    read_at: datetime | None = None
    error: str | None = None  # the last failure, e.g. expired credentials with the command that fixes it
    throttled: bool = False
    push: str = "off"  # off | on | failed (falling back to polling)


class Resource(Protocol):
    """A resource as the watcher keeps it, whatever its service (a Pipeline, a StateMachine): its picture as last
    read, with the error of its last read."""

    @property
    def target(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def read_at(self) -> datetime | None: ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class FleetState:
    """One consistent picture of everything the watcher knows, replaced whole on every change.

    `resources` keeps each service's pictures apart, by service, then by key: `target:name` (Pipeline.key /
    StateMachine.key); each service package reads its own through a typed accessor. `intervals` are the seconds
    after which a resource counts as stale (twice its poll interval), by key; a resource missing there uses
    `stale_after`.
    `cached` are the keys whose picture came from the warm-start cache and has not been read since: stale
    however recent the cache, until read. `target_stale_after`: per target, the seconds after its last read it
    counts as stale: the longest of its resources' windows (with push, its safety net reads them a minute or more
    apart, and a target read at that pace is not stale).
    """

    resources: Mapping[Service, Mapping[str, Resource]] = field(default_factory=dict)
    approvals: tuple[Approval, ...] = ()
    targets: tuple[TargetStatus, ...] = ()
    stale_after: Mapping[str, float] = field(default_factory=dict)
    default_stale_after: float = 30.0
    cached: frozenset[str] = frozenset()
    target_stale_after: Mapping[str, float] = field(default_factory=dict)
    # What a person must be told, once, in the order it happened (a warm-start cache discarded as corrupt).
    notices: tuple[str, ...] = ()

    def of(self, service: Service) -> Mapping[str, Resource]:
        """The pictures of one service's resources, by key."""
        return self.resources.get(service, _NONE)

    def with_resources(self, service: Service, pictures: Mapping[str, Resource]) -> FleetState:
        """This picture with `service`'s resources replaced by `pictures` (for fixed pictures: tests, demos)."""
        return replace(self, resources={**self.resources, service: pictures})

    def is_stale(self, key: str, read_at: datetime | None, now: datetime) -> bool:
        if read_at is None or key in self.cached:
            return True
        return (now - read_at).total_seconds() > self.stale_after.get(key, self.default_stale_after)

    def is_target_stale(self, target: str, read_at: datetime, now: datetime) -> bool:
        """Whether the target read last at `read_at` is overdue: later than the slowest of its resources' reads."""
        return (now - read_at).total_seconds() > self.target_stale_after.get(target, self.default_stale_after)


_NONE: Mapping[str, Resource] = MappingProxyType({})


@dataclass(frozen=True)
class FleetUpdate:
    """What subscribers of the watcher receive: the new picture and the transitions that led to it."""

    state: FleetState
    transitions: tuple[Transition, ...] = ()


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the console acts as on a target (STS GetCallerIdentity); written into every audit record."""

    account: str
    arn: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """AWS's answer to a mutating call: the operation, AWS's request id, and what the call returned.

    `execution_id` is the pipeline execution id of StopPipelineExecution / RetryStageExecution /
    RollbackStage (for a rollback: the new execution) or the execution ARN of StartExecution; `effective`
    is AWS's own time of the change when it gives one (approvedAt, stopDate, redriveDate, startDate).
    """

    target: str
    operation: str
    request_id: str | None
    received: datetime
    execution_id: str | None = None
    effective: datetime | None = None


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """One SQS message of the push stream; `receipt_handle` deletes it."""

    message_id: str
    receipt_handle: str
    body: str
    sent: datetime | None = None
    receive_count: int = 1
