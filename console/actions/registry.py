"""Which plan builder answers an action kind on a service's resource: one table per service package.

Each service package (`console.codepipeline`, `console.stepfunctions`) lists, in its `actions.PLAN_BUILDERS`,
the builder for every kind it supports (or a builder that refuses with a reason). A kind missing from a table is
a programming error: `plan_builder` raises `UnknownActionKind` instead of sending it somewhere else. A new source
of deployments is one more package and one more line in `PLAN_BUILDERS` below.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.actions.plan import ActionKind, PlanBuilder
from console.codepipeline import actions as codepipeline
from console.model import Service
from console.resources import Selection
from console.stepfunctions import actions as stepfunctions

PLAN_BUILDERS: Mapping[Service, Mapping[ActionKind, PlanBuilder]] = {
    Service.CODEPIPELINE: codepipeline.PLAN_BUILDERS,
    Service.STEPFUNCTIONS: stepfunctions.PLAN_BUILDERS,
}


class UnknownActionKind(LookupError):
    """No plan builder is registered for this kind on this service (a new ActionKind without its builder)."""


def service_of(selection: Selection) -> Service:
    """The service whose resource `selection` names."""
    return Service.CODEPIPELINE if selection.pipeline is not None else Service.STEPFUNCTIONS


def plan_builder(service: Service, kind: ActionKind) -> PlanBuilder:
    """The builder registered for `kind` on `service`; raises `UnknownActionKind` when there is none."""
    builder = PLAN_BUILDERS.get(service, {}).get(kind)
    if builder is None:
        raise UnknownActionKind(f"no plan builder for {kind.value!r} on {service.value}")
    return builder
