"""What a service package gives the console, in one value: its `ServiceParts` (`PARTS` in its `parts.py`), which
the registry of services (`console/services.py`) lists, one line per service."""

from __future__ import annotations

from dataclasses import dataclass

from console.actions.plan import ServiceActions
from console.key_spec import KeySpec
from console.model import Service
from console.polling.source import SourceFactory
from console.resources import Names


@dataclass(frozen=True)
class ServiceParts:
    """A service package's parts: who it is, its section key (its view on the fleet screen, reached from anywhere;
    console/keys.py lists it among the console's keys), its actions (builders and rules), its watcher's source, how
    RESOURCE names resolve to its selections, and the protocols a target's gateway speaks for it (its gate's reads and
    writes, its watcher's reads: `console.aws.gateway.Gateway` is checked against each, tests/core/test_services.py)."""

    service: Service
    section: KeySpec
    actions: ServiceActions
    source: SourceFactory
    names: Names
    speaks: tuple[type, ...] = ()
