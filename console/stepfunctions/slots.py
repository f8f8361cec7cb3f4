"""What the watcher keeps of Step Functions: a slot per state machine, the reads it makes, its pictures, typed.

The watcher's common parts keep every service's slots and pictures by service (`TargetRun.of`,
`FleetPublisher.shown`); these accessors are where Step Functions' are narrowed to its own types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol, cast

from console.model import Resource, Service
from console.polling.publisher import FleetPublisher
from console.polling.reader import FleetReader
from console.polling.slots import Slot, TargetRun
from console.stepfunctions.model import (
    SERVICE,
    Execution,
    HistoryEvent,
    StateMachine,
    StateMachineDetail,
    StateMachineSummary,
)
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.waves import WaveModel


class MachineReader(FleetReader, Protocol):
    """What the watcher reads of Step Functions through a target's gateway (`console.aws.Gateway`, or a test
    double)."""

    async def list_state_machines(self) -> Sequence[StateMachineSummary]: ...

    async def describe_state_machine(self, arn: str, /) -> StateMachineDetail: ...

    async def list_executions(
        self, arn: str, /, status: str | None = ..., max_results: int = ...
    ) -> Sequence[Execution]: ...

    async def describe_execution(self, arn: str, /) -> Execution: ...

    async def get_execution_history(
        self, arn: str, /, after_id: int = ..., page_size: int = ...
    ) -> Sequence[HistoryEvent]: ...


@dataclass(eq=False, slots=True)
class MachineSlot(Slot):
    """One state machine: what its poller keeps of it between reads (an EXPRESS one has no loop: its listing is its
    read)."""

    service: ClassVar[Service] = STEPFUNCTIONS
    paced_by: ClassVar[str] = "ListExecutions"

    summary: StateMachineSummary = field(default_factory=lambda: StateMachineSummary("", ""))
    detail: StateMachineDetail | None = None
    timeouts: dict[str, int] = field(default_factory=dict)  # state → TimeoutSeconds, for approval expiry
    branches: dict[tuple[str, str], int] = field(default_factory=dict)  # (Parallel, first state) → branch number
    described_at: float | None = None
    # Execution ARN → where it waited for a person when the warm-start cache was written (`waiting_chain`'s
    # events): its approvals until this run has read its history.
    cached_waits: dict[str, tuple[HistoryEvent, ...]] = field(default_factory=dict)

    def failed(self, shown: Resource | None, target: str, message: str, waves: WaveModel) -> Resource:
        if isinstance(shown, StateMachine):
            return replace(shown, error=message)
        summary = self.summary
        return StateMachine(
            target=target,
            arn=summary.arn,
            name=summary.name,
            type=summary.type,
            wave=waves.for_state_machine(summary.name),
            error=message,
        )


def reader(run: TargetRun) -> MachineReader:
    """The run's gateway as Step Functions' reader (every target's gateway speaks every registered service)."""
    return cast(MachineReader, run.reader)


def slots(run: TargetRun) -> dict[str, MachineSlot]:
    """The run's state machines' slots, by state machine ARN."""
    return cast("dict[str, MachineSlot]", run.of(SERVICE))


def shown(publisher: FleetPublisher) -> dict[str, StateMachine]:
    """The state machines as the publisher shows them, by key."""
    return cast("dict[str, StateMachine]", publisher.shown(SERVICE))


def told(publisher: FleetPublisher, key: str) -> StateMachine | None:
    """The state machine as this run last told it (see `FleetPublisher.told`)."""
    return cast("StateMachine | None", publisher.told(SERVICE, key))
