"""The registry from action kind to plan builder: every kind is listed for every service, and an unknown one
raises instead of being sent somewhere else (it used to fall through to pause/resume)."""

from __future__ import annotations

import enum

import pytest

from console.actions.plan import ActionKind
from console.actions.registry import PLAN_BUILDERS, UnknownActionKind, plan_builder, service_of
from console.model import Service
from console.resources import Selection


@pytest.mark.parametrize("service", list(Service))
def test_every_kind_has_a_builder_or_a_refusal_on_every_service(service: Service) -> None:
    assert set(PLAN_BUILDERS[service]) == set(ActionKind)
    for kind in ActionKind:
        assert callable(plan_builder(service, kind))


def test_an_unknown_kind_raises_saying_which() -> None:
    class Newcomer(enum.Enum):
        OVERRIDE = "override-stage-condition"

    with pytest.raises(UnknownActionKind, match="override-stage-condition"):
        plan_builder(Service.CODEPIPELINE, Newcomer.OVERRIDE)  # type: ignore[arg-type]


def test_the_selection_says_its_service() -> None:
    assert service_of(Selection(target="dev", pipeline="checkout-api")) is Service.CODEPIPELINE
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:wave-deployment"
    assert service_of(Selection(target="dev", state_machine_arn=machine)) is Service.STEPFUNCTIONS
