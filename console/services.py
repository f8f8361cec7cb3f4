"""The sources of deployments the console supervises: one line per service, saying where each of its parts is.

A service is one package in the core (`console/codepipeline/`, `console/stepfunctions/`) whose `parts.py` says
what it gives the console (`ServiceParts`): its identity (`model.SERVICE`), its action plan builders and the rules
for when each can run (`actions.py`), its `Source` for the watcher (`source.py`: how its resources are listed,
their poll loops started and ended, seeded from the warm-start cache, its pushed events applied), how RESOURCE
names resolve to its selections (`selections.py`), and the protocols a gateway speaks for it (`reads.py`,
`slots.py`). The gate asks
this registry which builder answers a kind (`console/actions/registry.py`); the watcher makes one source per line,
in this order, and discovery lists them in it (`console/watch.py`, `console/polling/discovery.py`). Nothing
else names the services' parts. A service not here is a programming error: `parts_of` raises `UnknownService`.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.codepipeline.parts import PARTS as CODEPIPELINE
from console.model import Service
from console.resources import Names
from console.service_parts import ServiceParts
from console.stepfunctions.parts import PARTS as STEPFUNCTIONS

__all__ = ["NAMES", "SERVICES", "ServiceParts", "UnknownService", "parts_of"]


class UnknownService(LookupError):
    """A service with no line in `SERVICES` (a service package that is not registered)."""


# One line per service (its import above, its name here), in the order discovery lists them (a pipeline's reads
# start while state machines are listed).
SERVICES: Mapping[Service, ServiceParts] = {parts.service: parts for parts in (CODEPIPELINE, STEPFUNCTIONS)}

# What resolves RESOURCE names, one per service, in the registry's order (console/resources.py `Catalog`).
NAMES: Mapping[Service, Names] = {service: parts.names for service, parts in SERVICES.items()}


def parts_of(service: Service) -> ServiceParts:
    """The parts registered for `service`; raises `UnknownService` when it has none."""
    parts = SERVICES.get(service)
    if parts is None:
        raise UnknownService(f"no service registered as {service!r}: add its line to console/services.py")
    return parts
