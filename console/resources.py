"""Resource names as `wavedeck watch` prints them, and the selection they stand for.

A RESOURCE names one service's resource: `pipeline`, `pipeline/stage`, `pipeline/stage/action` (CodePipeline),
`state-machine/execution-name` or a full execution ARN (Step Functions). Names never contain `/`, so the number
of parts says what is named; which service's resource it is is decided by what exists (the catalog), each
service saying how its names resolve (`Names`: `console/codepipeline/selections.py`, …, listed in the registry,
`console/services.py`). `--target` picks the target when the same name exists in several.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from console.errors import UsageError, WavedeckError
from console.model import FleetState, Service
from console.polling.reader import FleetReader


class UnknownResource(WavedeckError):
    """Nothing of that name exists in any target (exit 1: the name is well-formed, the thing is missing)."""


class Selection(Protocol):
    """What the operator has selected: one of each service's typed variants (`PipelineSelection`, …,
    `ExecutionSelection`: frozen), built from FleetState objects by the screens or from a RESOURCE by `resolve`."""

    @property
    def service(self) -> Service:
        """Whose resource it is."""
        ...

    @property
    def target(self) -> str: ...

    @property
    def key(self) -> str:
        """The key of the resource it belongs to (Pipeline.key, StateMachine.key)."""
        ...

    @property
    def resource(self) -> str:
        """The name `watch` prints."""
        ...

    @property
    def execution(self) -> str | None:
        """The execution it names, if any (a pipeline execution id, an execution ARN)."""
        ...

    @property
    def confirm_name(self) -> str:
        """What a person types to confirm an action on it that no wave places: its stage (or pipeline), its state
        machine."""
        ...

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on (see `console.actions.executor.lock_key`)."""
        ...


class Names(Protocol):
    """How one service's RESOURCE names resolve to its selections."""

    @property
    def noun(self) -> str:
        """What its resources are called in a sentence: `pipeline`."""
        ...

    @property
    def shapes(self) -> tuple[str, ...]:
        """The names it takes, for the usage error: `pipeline`, `pipeline/stage`…"""
        ...

    @property
    def max_parts(self) -> int: ...

    @property
    def arn_noun(self) -> str:
        """What ARNs it takes (`Step Functions execution`), or empty."""
        ...

    @property
    def disambiguation(self) -> str:
        """How to name its resource when another service's has the same name, or empty."""
        ...

    def names(self, state: FleetState) -> Mapping[str, Mapping[str, str]]:
        """Target → name → id (an ARN, or the name) of its resources the watcher knows."""
        ...

    async def listed(self, reader: FleetReader) -> Mapping[str, str]:
        """Name → id of its resources as a target's gateway lists them now."""
        ...

    def select(self, target: str, parts: tuple[str, ...], found: str) -> Selection | None:
        """The selection `parts` name in its resource `found` (its id) of `target`; None when it has no such part."""
        ...

    def accepts_arn(self, arn: str) -> bool:
        """Whether it resolves `arn` (UsageError when the ARN is malformed for it)."""
        ...

    def resolve_arn(
        self, arn: str, names: Mapping[str, Mapping[str, str]], scope: tuple[str, ...], regions: Mapping[str, str]
    ) -> Selection:
        """The selection an ARN it accepts names, among `scope`'s targets."""
        ...


@dataclass(frozen=True)
class Catalog:
    """Which names exist where: each service's names per target (name → id), with the services' `Names` in the
    registry's order, and each target's region."""

    services: Mapping[Service, Names]
    names: Mapping[Service, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)  # target → region

    def of(self, service: Service) -> Mapping[str, Mapping[str, str]]:
        """Target → name → id of one service's resources."""
        return self.names.get(service, {})

    @property
    def targets(self) -> tuple[str, ...]:
        found = set(self.regions)
        for names in self.names.values():
            found |= set(names)
        return tuple(sorted(found))


def catalog_from_state(state: FleetState, services: Mapping[Service, Names]) -> Catalog:
    """The catalog of what the watcher knows."""
    regions: dict[str, str] = {status.target.name: status.target.region for status in state.targets}
    return Catalog(services, {service: names.names(state) for service, names in services.items()}, regions)


def _shapes(services: Sequence[Names]) -> str:
    shapes = [shape for names in services for shape in names.shapes]
    return ", ".join(shapes[:-1]) + " or " + shapes[-1] if len(shapes) > 1 else "".join(shapes)


def parse_parts(text: str, services: Sequence[Names]) -> tuple[str, ...]:
    """Split a RESOURCE into its names; bad syntax is a UsageError (exit 2)."""
    if text.startswith("arn:"):
        if not any(names.accepts_arn(text) for names in services):
            nouns = " or ".join(names.arn_noun for names in services if names.arn_noun) or "known"
            raise UsageError(f"not a {nouns} ARN: {text!r}")
        return (text,)
    parts = tuple(text.split("/"))
    most = max((names.max_parts for names in services), default=1)
    if not text or any(not p for p in parts) or len(parts) > most:
        raise UsageError(f"not a resource name: {text!r} (expected {_shapes(services)})")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise UsageError(f"not a resource name: {text!r} (names have no spaces or control characters)")
    return parts


def resolve(text: str, catalog: Catalog, target: str | None = None) -> Selection:
    """The selection a RESOURCE names. Raises UsageError (bad syntax, ambiguous, unknown --target) or
    UnknownResource (well-formed, but nothing of that name exists)."""
    services = list(catalog.services.values())
    parts = parse_parts(text, services)
    targets = catalog.targets
    if target is not None and target not in targets:
        raise UsageError(f"--target: no target named {target!r} (targets: {', '.join(targets) or 'none'})")
    scope = (target,) if target is not None else targets
    if text.startswith("arn:"):
        names = next(n for n in services if n.accepts_arn(text))
        service = next(s for s, n in catalog.services.items() if n is names)
        return names.resolve_arn(text, catalog.of(service), scope, catalog.regions)
    first = parts[0]
    matches: list[Selection] = []  # one per target and service that has the name
    for name in scope:
        for service, names in catalog.services.items():
            found = catalog.of(service).get(name, {}).get(first)
            if found is None or len(parts) > names.max_parts:
                continue
            selection = names.select(name, parts, found)
            if selection is not None:
                matches.append(selection)
    if not matches:
        what = " or ".join(n.noun for n in services if len(parts) <= n.max_parts)
        if target is not None:
            where = f" in target {target}"
        elif targets:
            where = f" in any target ({', '.join(targets)})"
        else:
            where = " (no targets)"
        raise UnknownResource(f"no {what} named {first!r}{where}")
    if len(matches) > 1:
        matched = {m.service for m in matches}
        kinds = [service for service in catalog.services if service in matched]
        if len(kinds) == 1:
            names_ = ", ".join(m.target for m in matches)
            raise UsageError(f"{first!r} exists in several targets ({names_}): pick one with --target NAME")
        nouns = " and a ".join(catalog.services[k].noun for k in kinds)
        hint = next((catalog.services[k].disambiguation for k in kinds if catalog.services[k].disambiguation), "")
        raise UsageError(
            f"{first!r} names both a {nouns} ({', '.join(sorted({m.target for m in matches}))})"
            + (f": {hint}" if hint else "")
        )
    return matches[0]
