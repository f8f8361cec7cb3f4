"""Resource names as `wavedeck watch` prints them, and the selection they stand for.

A RESOURCE is `pipeline`, `pipeline/stage`, `pipeline/stage/action`, `state-machine/execution-name`, or a full
Step Functions execution ARN. Pipeline, stage, action, state machine and execution names never contain `/`, so
the number of parts says what is named; whether two parts are a stage or an execution is decided by what exists
(the catalog). `--target` picks the target when the same name exists in several.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from console.errors import UsageError, WavedeckError
from console.model import FleetState


class UnknownResource(WavedeckError):
    """Nothing of that name exists in any target (exit 1: the name is well-formed, the thing is missing)."""


@dataclass(frozen=True)
class Selection:
    """What the operator has selected: one pipeline (and stage, action, execution) or one state machine
    (and execution) of one target. Built from FleetState objects by the screens, or from a RESOURCE."""

    target: str
    pipeline: str | None = None
    stage: str | None = None
    action: str | None = None
    execution_id: str | None = None  # a pipeline execution id
    state_machine_arn: str | None = None
    execution_arn: str | None = None
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
    def is_pipeline(self) -> bool:
        return self.pipeline is not None

    @property
    def state_machine(self) -> str | None:
        """The state machine's name, from its ARN (or from the execution ARN)."""
        if self.state_machine_arn:
            return self.state_machine_arn.rsplit(":", 1)[-1]
        if self.execution_arn:
            return execution_arn_parts(self.execution_arn)[1]
        return None

    @property
    def execution_name(self) -> str | None:
        return self.execution_arn.rsplit(":", 1)[-1] if self.execution_arn else None

    @property
    def resource(self) -> str:
        """The name `watch` prints: `pipeline/stage/action` or `state-machine/execution-name`."""
        if self.pipeline is not None:
            return "/".join(p for p in (self.pipeline, self.stage, self.action) if p)
        return "/".join(p for p in (self.state_machine, self.execution_name) if p)

    @property
    def key(self) -> str:
        """The Pipeline.key / StateMachine.key this selection belongs to."""
        return f"{self.target}:{self.pipeline if self.pipeline is not None else self.state_machine}"


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
    matches: list[Selection] = []
    for name in scope:
        if first in catalog.pipelines.get(name, frozenset()):
            stage = parts[1] if len(parts) > 1 else None
            action = parts[2] if len(parts) > 2 else None
            matches.append(Selection(target=name, pipeline=first, stage=stage, action=action))
        machine_arn = catalog.state_machines.get(name, {}).get(first)
        if machine_arn is not None and len(parts) <= 2:
            execution = execution_arn_of(machine_arn, parts[1]) if len(parts) == 2 else None
            matches.append(Selection(target=name, state_machine_arn=machine_arn, execution_arn=execution))
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
        same_kind = len({m.is_pipeline for m in matches}) == 1
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
    return Selection(target=found[0], state_machine_arn=machine_arn, execution_arn=arn)
