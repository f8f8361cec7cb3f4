"""Resource names as `wavedeck watch` prints them, and the selection they stand for.

A RESOURCE is `pipeline`, `pipeline/stage`, `pipeline/stage/action`, `state-machine/execution-name`, or a full
Step Functions execution ARN. Pipeline, stage, action, state machine and execution names never contain `/`, so
the number of parts says what is named; whether two parts are a stage or an execution is decided by what exists
(the catalog). `--target` picks the target when the same name exists in several.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from console.errors import UsageError, WavedeckError
from console.model import FleetState, Service


class UnknownResource(WavedeckError):
    """Nothing of that name exists in any target (exit 1: the name is well-formed, the thing is missing)."""


class _InPipeline:
    """What every CodePipeline selection says the same way (its fields: target, pipeline)."""

    service: ClassVar[Service] = Service.CODEPIPELINE
    target: str
    pipeline: str

    @property
    def key(self) -> str:
        """The Pipeline.key this selection belongs to."""
        return f"{self.target}:{self.pipeline}"


@dataclass(frozen=True)
class PipelineSelection(_InPipeline):
    """A whole pipeline, or one of its executions (`execution_id`)."""

    target: str
    pipeline: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return self.pipeline

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on (see `console.actions.executor.lock_key`)."""
        # A plan resolves to a stage; only what did not is keyed by the pipeline alone.
        return (self.execution_id or self.pipeline) if family == "stop" else f"{self.pipeline}/None"


@dataclass(frozen=True)
class StageSelection(_InPipeline):
    """One stage of a pipeline (in one execution, `execution_id`, when the operator picked it in a run)."""

    target: str
    pipeline: str
    stage: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return f"{self.pipeline}/{self.stage}"

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: a stop its execution, the rest the stage."""
        return (self.execution_id or self.pipeline) if family == "stop" else f"{self.pipeline}/{self.stage}"


@dataclass(frozen=True)
class ActionSelection(_InPipeline):
    """One action of a pipeline's stage (an approval, a Step Functions action…); named without its stage
    (`stage` None), it is the action of that name in whichever stage has it."""

    target: str
    pipeline: str
    stage: str | None
    action: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return "/".join(p for p in (self.pipeline, self.stage, self.action) if p)

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: a stop its execution, an answer the approval, the rest the stage."""
        if family == "stop":
            return self.execution_id or self.pipeline
        return self.resource if family == "answer" else f"{self.pipeline}/{self.stage}"


class _InStateMachine:
    """What every Step Functions selection says the same way (its fields: target, state_machine_arn)."""

    service: ClassVar[Service] = Service.STEPFUNCTIONS
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


# What the operator has selected: one of a few typed variants, built from FleetState objects by the screens or
# from a RESOURCE by `resolve`. Each says its `service`, `target`, `key` (the Pipeline/StateMachine it belongs
# to), `resource` (the name `watch` prints), `execution` (a pipeline execution id or an execution ARN) and
# `lock_subject` (what one action at a time may act on, for the executor's locks).
PipelinePart = PipelineSelection | StageSelection | ActionSelection
MachinePart = StateMachineSelection | ExecutionSelection
Selection = PipelinePart | MachinePart


def stage_name(selection: PipelinePart) -> str | None:
    """The stage a CodePipeline selection names, if it names one."""
    return None if isinstance(selection, PipelineSelection) else selection.stage


def action_name(selection: PipelinePart) -> str | None:
    """The action a CodePipeline selection names, if it names one."""
    return selection.action if isinstance(selection, ActionSelection) else None


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


@dataclass(frozen=True)
class Catalog:
    """Which names exist where: pipeline names and state machines (name → ARN), per target."""

    pipelines: Mapping[str, frozenset[str]] = field(default_factory=dict)
    state_machines: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)  # target → region

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.pipelines) | set(self.state_machines) | set(self.regions)))


def catalog_from_state(state: FleetState) -> Catalog:
    """The catalog of what the watcher knows."""
    pipelines: dict[str, set[str]] = {}
    machines: dict[str, dict[str, str]] = {}
    regions: dict[str, str] = {status.target.name: status.target.region for status in state.targets}
    for pipeline in state.pipelines.values():
        pipelines.setdefault(pipeline.target, set()).add(pipeline.name)
    for machine in state.state_machines.values():
        machines.setdefault(machine.target, {})[machine.name] = machine.arn
    return Catalog(
        pipelines={t: frozenset(names) for t, names in pipelines.items()},
        state_machines=machines,
        regions=regions,
    )


def parse_parts(text: str) -> tuple[str, ...]:
    """Split a RESOURCE into its names; bad syntax is a UsageError (exit 2)."""
    if text.startswith("arn:"):
        execution_arn_parts(text)
        return (text,)
    parts = tuple(text.split("/"))
    if not text or any(not p for p in parts) or len(parts) > 3:
        raise UsageError(
            f"not a resource name: {text!r} (expected pipeline, pipeline/stage, pipeline/stage/action, "
            "state-machine/execution or an execution ARN)"
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise UsageError(f"not a resource name: {text!r} (names have no spaces or control characters)")
    return parts


def resolve(text: str, catalog: Catalog, target: str | None = None) -> Selection:
    """The selection a RESOURCE names. Raises UsageError (bad syntax, ambiguous, unknown --target) or
    UnknownResource (well-formed, but nothing of that name exists)."""
    parts = parse_parts(text)
    targets = catalog.targets
    if target is not None and target not in targets:
        raise UsageError(f"--target: no target named {target!r} (targets: {', '.join(targets) or 'none'})")
    scope = (target,) if target is not None else targets
    if text.startswith("arn:"):
        return _resolve_arn(text, catalog, scope)
    first = parts[0]
    matches: list[Selection] = []  # one per target and kind that has the name
    for name in scope:
        if first in catalog.pipelines.get(name, frozenset()):
            if len(parts) == 3:
                matches.append(ActionSelection(name, first, parts[1], parts[2]))
            elif len(parts) == 2:
                matches.append(StageSelection(name, first, parts[1]))
            else:
                matches.append(PipelineSelection(name, first))
        machine_arn = catalog.state_machines.get(name, {}).get(first)
        if machine_arn is not None and len(parts) == 2:
            matches.append(ExecutionSelection(name, machine_arn, execution_arn_of(machine_arn, parts[1])))
        elif machine_arn is not None and len(parts) == 1:
            matches.append(StateMachineSelection(name, machine_arn))
    if not matches:
        what = "pipeline" if len(parts) == 3 else "pipeline or state machine"
        if target is not None:
            where = f" in target {target}"
        elif targets:
            where = f" in any target ({', '.join(targets)})"
        else:
            where = " (no targets)"
        raise UnknownResource(f"no {what} named {first!r}{where}")
    if len(matches) > 1:
        same_kind = len({m.service for m in matches}) == 1
        if same_kind:
            names = ", ".join(m.target for m in matches)
            raise UsageError(f"{first!r} exists in several targets ({names}): pick one with --target NAME")
        raise UsageError(
            f"{first!r} names both a pipeline and a state machine "
            f"({', '.join(sorted({m.target for m in matches}))}): give a state machine execution by its ARN"
        )
    return matches[0]


def _resolve_arn(arn: str, catalog: Catalog, scope: tuple[str, ...]) -> Selection:
    region, machine, _name = execution_arn_parts(arn)
    machine_arn = state_machine_arn_of(arn)
    found = [
        t
        for t in scope
        if catalog.state_machines.get(t, {}).get(machine) == machine_arn
        or (machine_arn in catalog.state_machines.get(t, {}).values())
    ]
    if not found:
        in_region = [t for t in scope if catalog.regions.get(t) == region]
        where = ", ".join(in_region) if in_region else f"no target in region {region}"
        raise UnknownResource(f"no state machine {machine!r} with ARN {machine_arn} ({where})")
    if len(found) > 1:
        raise UsageError(f"{machine!r} exists in several targets ({', '.join(found)}): pick one with --target NAME")
    return ExecutionSelection(found[0], machine_arn, arn)
