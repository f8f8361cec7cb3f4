"""The sources of deployments the console supervises: one line per service, saying where each of its parts is.

A service is one package in the core (`console/codepipeline/`, `console/stepfunctions/`) with its action plan
builders and the rules for when each can run (`actions.py`), and its `Source` for the watcher (`source.py`: how
its resources are listed, their poll loops started and ended, seeded from the warm-start cache). The gate asks
this registry which builder answers a kind (`console/actions/registry.py`); the watcher makes one source per line,
in this order, and discovery lists them in it (`console/watch.py`, `console/polling/discovery.py`). Nothing
else names the services' parts. A service not here is a programming error: `parts_of` raises `UnknownService`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from console.actions.plan import ServiceActions
from console.codepipeline import actions as codepipeline
from console.codepipeline.reads import CodePipelineGateway
from console.codepipeline.slots import PipelineReader
from console.codepipeline.source import PipelineSource
from console.model import Service
from console.polling.source import SourceFactory
from console.stepfunctions import actions as stepfunctions
from console.stepfunctions.reads import StepFunctionsGateway
from console.stepfunctions.slots import MachineReader
from console.stepfunctions.source import StateMachineSource


@dataclass(frozen=True)
class ServiceParts:
    """What a service package gives the console: its actions (builders and rules) and its watcher's source."""

    actions: ServiceActions
    source: SourceFactory
    # The protocols a target's gateway speaks for this service (its gate's reads and writes, its watcher's
    # reads): `console.aws.gateway.Gateway` is checked against each (tests/core/test_services.py).
    speaks: tuple[type, ...] = ()


class UnknownService(LookupError):
    """A service with no line in `SERVICES` (a new `Service` member without its package)."""


# One line per service, in the order discovery lists them (a pipeline's reads start while state machines are listed).
SERVICES: Mapping[Service, ServiceParts] = {
    Service.CODEPIPELINE: ServiceParts(codepipeline.ACTIONS, PipelineSource, (CodePipelineGateway, PipelineReader)),
    Service.STEPFUNCTIONS: ServiceParts(
        stepfunctions.ACTIONS, StateMachineSource, (StepFunctionsGateway, MachineReader)
    ),
}


def parts_of(service: Service) -> ServiceParts:
    """The parts registered for `service`; raises `UnknownService` when it has none."""
    parts = SERVICES.get(service)
    if parts is None:
        raise UnknownService(f"no service registered as {service!r}: add its line to console/services.py")
    return parts
