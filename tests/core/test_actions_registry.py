"""The registry from action kind to plan builder: every kind is listed for every service, and an unknown one
raises instead of being sent somewhere else (it used to fall through to pause/resume)."""

from __future__ import annotations

import enum

import pytest

from console.actions import registry
from console.actions.plan import ActionKind, PlanContext
from console.actions.registry import PLAN_BUILDERS, UnknownActionKind, plan_builder, service_of
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.errors import Refused
from console.model import FleetState, Service
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.waves import WaveModel
from tests.selections import sel


@pytest.mark.parametrize("service", list(PLAN_BUILDERS))
def test_every_kind_has_a_builder_or_a_refusal_on_every_service(service: Service) -> None:
    assert all(any(kind in builders for builders in PLAN_BUILDERS.values()) for kind in ActionKind)
    for kind in ActionKind:
        assert callable(plan_builder(service, kind))


async def test_a_kind_only_another_service_does_is_refused_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # As a CodePipeline-only kind is: Step Functions' table does not list it, and nothing there needs to.
    only_pipelines = dict(registry.SERVICES)
    stepfunctions = only_pipelines[STEPFUNCTIONS]
    builders = {k: b for k, b in stepfunctions.builders.items() if k is not ActionKind.PAUSE}
    only_pipelines[STEPFUNCTIONS] = registry.ServiceActions(builders, stepfunctions.unavailable)
    monkeypatch.setattr(registry, "SERVICES", only_pipelines)
    monkeypatch.setattr(registry, "PLAN_BUILDERS", {s: a.builders for s, a in only_pipelines.items()})

    machine = sel(target="dev", state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:deploy")
    said = "pause promotion into is for codepipeline, not stepfunctions"
    assert registry.unavailable(ActionKind.PAUSE, machine, FleetState(), PlanContext(WaveModel(()))) == said
    build = plan_builder(STEPFUNCTIONS, ActionKind.PAUSE)
    with pytest.raises(Refused, match=said):
        await build(None, machine, PlanContext(WaveModel(())), {})  # type: ignore[arg-type]


def test_an_unknown_kind_raises_saying_which() -> None:
    class Newcomer(enum.Enum):
        OVERRIDE = "override-stage-condition"

    with pytest.raises(UnknownActionKind, match="override-stage-condition"):
        plan_builder(CODEPIPELINE, Newcomer.OVERRIDE)  # type: ignore[arg-type]


def test_the_selection_says_its_service() -> None:
    assert service_of(sel(target="dev", pipeline="checkout-api")) is CODEPIPELINE
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:wave-deployment"
    assert service_of(sel(target="dev", state_machine_arn=machine)) is STEPFUNCTIONS
