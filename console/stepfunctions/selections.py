"""What can be selected of Step Functions: a state machine, an execution (frozen; each says its service, key and
resource name), and how a RESOURCE name (`state-machine/execution-name`, an execution ARN) resolves to one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, cast

from console.errors import UsageError
from console.model import FleetState, Service
from console.polling.reader import FleetReader
from console.resources import Selection, UnknownResource
from console.stepfunctions.model import SERVICE, state_machines_of
from console.stepfunctions.slots import MachineReader


class _InStateMachine:
    """What every Step Functions selection says the same way (its fields: target, state_machine_arn)."""

    service: ClassVar[Service] = SERVICE
    target: str
    state_machine_arn: str

    @property
    def state_machine(self) -> str:
        """The state machine's name, from its ARN."""
        return self.state_machine_arn.rsplit(":", 1)[-1]

    @property
    def key(self) -> str:
        """The StateMachine.key this selection belongs to."""
        return f"{self.target}:{self.state_machine}"

    @property
    def confirm_name(self) -> str:
        """The state machine (what is typed to confirm on one nothing places)."""
        return self.state_machine


@dataclass(frozen=True)
class StateMachineSelection(_InStateMachine):
    """A whole state machine (its wave's rollback, say)."""

    target: str
    state_machine_arn: str

    @property
    def resource(self) -> str:
        return self.state_machine

    @property
    def execution(self) -> str | None:
        return None

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: the state machine (one rollback of a wave at a time)."""
        return self.state_machine


@dataclass(frozen=True)
class ExecutionSelection(_InStateMachine):
    """One execution of a state machine."""

    target: str
    state_machine_arn: str
    execution_arn: str
    # Which waiting `.waitForTaskToken` task of the execution approve / reject answer: its state (names may
    # hold spaces), the index of its Map iteration, or exactly its TaskScheduled event (what a row of the
    # inbox knows). None: the one task waiting, refused when several wait.
    state_name: str | None = None
    map_index: int | None = None
    task_event: int | None = None

    @property
    def task(self) -> str:
        """The waiting task named, for sentences: `"Security Approver" iteration 2`; empty when none is."""
        parts = []
        if self.state_name is not None:
            parts.append(repr(self.state_name) if " " in self.state_name else self.state_name)
        if self.map_index is not None:
            parts.append(f"iteration {self.map_index}")
        if not parts and self.task_event is not None:
            parts.append(f"the task of event {self.task_event}")
        return " ".join(parts)

    @property
    def execution_name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[-1]

    @property
    def resource(self) -> str:
        return f"{self.state_machine}/{self.execution_name}"

    @property
    def execution(self) -> str | None:
        return self.execution_arn

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: the execution, or for a rollback its state machine."""
        return self.state_machine if rollback else self.execution_arn


MachinePart = StateMachineSelection | ExecutionSelection


def execution_selection(target: str, execution_arn: str) -> ExecutionSelection:
    """The selection of an execution by its ARN (its state machine's ARN follows from it)."""
    return ExecutionSelection(target, state_machine_arn_of(execution_arn), execution_arn)


def execution_arn_parts(arn: str) -> tuple[str, str, str]:
    """`arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME` → (region, machine, name)."""
    parts = arn.split(":")
    if len(parts) != 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution":
        raise UsageError(f"not a Step Functions execution ARN: {arn!r}")
    return parts[3], parts[6], parts[7]


def state_machine_arn_of(execution_arn: str) -> str:
    """The ARN of the state machine an execution ARN belongs to."""
    prefix, machine, _name = execution_arn.rsplit(":", 2)
    return prefix.rsplit(":", 1)[0] + ":stateMachine:" + machine


def execution_arn_of(state_machine_arn: str, name: str) -> str:
    """The ARN Step Functions gives the execution `name` of a (standard) state machine."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


class MachineNames:
    """How RESOURCE names resolve to Step Functions' selections (`console/resources.py` asks every service's)."""

    noun = "state machine"
    shapes = ("state-machine/execution", "an execution ARN")
    max_parts = 2
    arn_noun = "Step Functions execution"
    disambiguation = "give a state machine execution by its ARN"

    def names(self, state: FleetState) -> Mapping[str, Mapping[str, str]]:
        """Target → state machine name → its ARN, of what the watcher knows."""
        found: dict[str, dict[str, str]] = {}
        for machine in state_machines_of(state).values():
            found.setdefault(machine.target, {})[machine.name] = machine.arn
        return found

    async def listed(self, reader: FleetReader) -> Mapping[str, str]:
        """State machine name → its ARN, as the target lists them now."""
        return {m.name: m.arn for m in await cast(MachineReader, reader).list_state_machines()}

    def select(self, target: str, parts: tuple[str, ...], found: str) -> Selection | None:
        """The selection `parts` name in the state machine (ARN `found`) of `target`."""
        if len(parts) == 2:
            return ExecutionSelection(target, found, execution_arn_of(found, parts[1]))
        if len(parts) == 1:
            return StateMachineSelection(target, found)
        return None

    def accepts_arn(self, arn: str) -> bool:
        """Whether `arn` is an execution ARN (raises UsageError when it is not one at all)."""
        execution_arn_parts(arn)
        return True

    def resolve_arn(
        self, arn: str, names: Mapping[str, Mapping[str, str]], scope: tuple[str, ...], regions: Mapping[str, str]
    ) -> Selection:
        """The execution an ARN names, in the one target of `scope` that has its state machine."""
        region, machine, _name = execution_arn_parts(arn)
        machine_arn = state_machine_arn_of(arn)
        found = [
            t
            for t in scope
            if names.get(t, {}).get(machine) == machine_arn or (machine_arn in names.get(t, {}).values())
        ]
        if not found:
            in_region = [t for t in scope if regions.get(t) == region]
            where = ", ".join(in_region) if in_region else f"no target in region {region}"
            raise UnknownResource(f"no state machine {machine!r} with ARN {machine_arn} ({where})")
        if len(found) > 1:
            raise UsageError(f"{machine!r} exists in several targets ({', '.join(found)}): pick one with --target NAME")
        return ExecutionSelection(found[0], machine_arn, arn)


NAMES = MachineNames()
