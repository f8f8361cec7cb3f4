"""Which plan builder answers an action kind on a service's resource, and when it can run: one line per service.

Each service package (`console.codepipeline`, `console.stepfunctions`) lists, in its `actions.PLAN_BUILDERS`, the
builder for every kind it does (or one that refuses with its own reason), and says in its `actions.unavailable`
when each can run. A kind only other services do is refused here with a sentence saying so (a CodePipeline-only
kind needs nothing from Step Functions); a kind no service does is a programming error: `plan_builder` raises
`UnknownActionKind` instead of sending it somewhere else. A new source of deployments is one more package and
one more line in the console's registry of services, `console/services.py` (`SERVICES` here is its actions).
"""

from __future__ import annotations

from collections.abc import Mapping

from console import services
from console.actions.plan import ActionKind, Facts, PlanBuilder, PlanContext, ServiceActions, Unavailable
from console.actions.reads import GateGateway
from console.errors import Refused
from console.model import FleetState, Service
from console.resources import Selection

__all__ = [
    "PLAN_BUILDERS",
    "SERVICES",
    "ServiceActions",
    "Unavailable",
    "UnknownActionKind",
    "not_for",
    "plan_builder",
    "service_of",
    "unavailable",
]

# One line per service, in the console's registry of services (`console/services.py`): its builders and its rules.
SERVICES: Mapping[Service, ServiceActions] = {service: parts.actions for service, parts in services.SERVICES.items()}
PLAN_BUILDERS: Mapping[Service, Mapping[ActionKind, PlanBuilder]] = {s: a.builders for s, a in SERVICES.items()}


class UnknownActionKind(LookupError):
    """No plan builder is registered for this kind on this service (a new ActionKind without its builder)."""


def service_of(selection: Selection) -> Service:
    """The service whose resource `selection` names."""
    return selection.service


def plan_builder(service: Service, kind: ActionKind) -> PlanBuilder:
    """The builder registered for `kind` on `service`; a refusal when only other services do it; raises
    `UnknownActionKind` when no service does."""
    builder = PLAN_BUILDERS.get(service, {}).get(kind)
    if builder is not None:
        return builder
    reason = not_for(service, kind)

    async def refuse(
        gateway: GateGateway, selection: Selection, context: PlanContext, given: Mapping[str, str]
    ) -> Facts:
        raise Refused(reason)

    return refuse


def unavailable(kind: ActionKind, selection: Selection, state: FleetState, context: PlanContext) -> str | None:
    """Why `kind` cannot run on `selection` in `state` now, by the rules of the selection's service, or None."""
    service = service_of(selection)
    if kind not in PLAN_BUILDERS.get(service, {}):
        return not_for(service, kind)
    return SERVICES[service].unavailable(kind, selection, state, context)


def not_for(service: Service, kind: ActionKind) -> str:
    """What is said of a kind `service` does not do; raises `UnknownActionKind` when no service does it."""
    others = [s.value for s, builders in PLAN_BUILDERS.items() if kind in builders]
    if not others:
        raise UnknownActionKind(f"no plan builder for {kind.value!r} on {service.value}")
    return f"{kind.label.lower()} is for {' and '.join(others)}, not {service.value}"
