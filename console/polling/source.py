"""A source of deployments, as the watcher sees it: how one service's resources are listed and seeded.

Each service package (`console/codepipeline/source.py`, `console/stepfunctions/source.py`) has one `Source`: it
lists the target's resources of that service through the gate, gives each new one a slot and its poll loop,
ends the loop of one no longer listed, and seeds them from the warm-start cache. Discovery and the warm start
iterate the sources of the registry (`console/services.py`) in its order, and push routing hands each event to the
source its `events_from` names; they never name a service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from console.model import Service
from console.polling.context import WatchContext
from console.polling.rereads import Rereads
from console.polling.slots import TargetRun
from console.push import PushEvent
from console.warm_cache import CachedTarget


class Source(Protocol):
    """One service's resources in the watcher: listed, started, ended and seeded here."""

    @property
    def service(self) -> Service:
        """Whose resources these are: the key of their slots and pictures in the watcher's stores."""
        ...

    @property
    def events_from(self) -> str:
        """The EventBridge `source` of the events about them (`aws.codepipeline`), as push routing tells them apart."""
        ...

    @property
    def reads(self) -> tuple[str, ...]:
        """The APIs it reads again and again (its listing included): a team's consoles split their budgets."""
        ...

    @property
    def listing(self) -> str:
        """The API that lists them (`ListPipelines`), as the gate and the target's health name it."""
        ...

    async def discover(self, run: TargetRun) -> None:
        """List `run`'s target through its gate (urgent); start a loop for each new resource, end the gone ones'.

        Raises what the listing raised: discovery records it on the target and tries again later."""
        ...

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        """Show what the warm-start cache holds of this service at once, and start its loops from there
        (before the target is listed); how many resources it showed."""
        ...

    def snapshot(self, run: TargetRun, cached: CachedTarget) -> CachedTarget:
        """`cached` with what the warm-start cache keeps of this service's resources of `run`'s target."""
        ...

    def start(self) -> None:
        """The watcher started: start what it runs besides its resources' loops (asked for before the start)."""
        ...

    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """What it runs besides its resources' loops, for the watcher to end when it stops."""
        ...

    def refresh(self, keys: set[str] | None) -> None:
        """A person asked to read `keys` (None: everything) now: what it follows besides its resources reads too."""
        ...

    def apply_event(self, run: TargetRun, event: PushEvent, rereads: Rereads) -> None:
        """Lay a pushed event about one of its resources over the model; what the event does not carry is read
        through `rereads` (one read per resource however many events ask)."""
        ...


@runtime_checkable
class FollowsExecutions(Protocol):
    """A source that also follows one execution in detail, as a screen asks (Step Functions' histories): what
    `Watcher.watch_execution` and `Watcher.history` hand on."""

    def watch(self, target: str, execution: str | None) -> None:
        """Follow `execution` of `target` (None: stop following)."""
        ...

    def history(self, execution: str) -> tuple[Any, ...]:
        """The events of `execution`'s history read so far, in order (its service's own type)."""
        ...


# How the watcher makes a service's source: from the watcher's shared parts.
SourceFactory = Callable[[WatchContext], Source]
