"""Helpers for the watcher's tests: a small deterministic fleet, and waiting on the watcher's own updates.

No test here: the fleet written by `write_watch_fleet` never fails by chance (every `fail` is 0 or 1), so
runs are the same every time; `Updates` collects what a watcher publishes and lets a test wait for a
condition on it with a deadline, never sleeping.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

from console.aws.gateway import Gateway, GatewayOptions
from console.budget import Budget
from console.config import Intervals, sandbox_targets
from console.model import FleetState, FleetUpdate, Transition
from console.sandbox.fleet.definitions import default_definitions_dir, load_fleet
from console.warm_cache import WarmCache
from console.watch import Watcher

T = TypeVar("T")

REGION = "us-east-1"
# Rich markup, terminal escapes (clear screen, set title, colour), a C1 CSI, and length.
HOSTILE = "[bold red]x[/] [link=https://evil.example]y[/link] \x1b[2J\x1b]0;owned\x07 \x1b[31mred\x1b[0m \x9b1m " + (
    "z" * 10_000
)

WAVE_STAGES = ["Source", "Build", "Alpha", "Beta", "Gamma", "Prod-Canary", "Prod-AZ1", "Prod-AZ2"]


def _action(name: str, category: str, provider: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "category": category, "provider": provider, "duration": "4s", **more}


def write_watch_fleet(directory: Path) -> Path:
    """Definitions for the watcher's tests: one pipeline per purpose, no chance involved."""
    source = default_definitions_dir()
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "waves.yaml", directory / "waves.yaml")
    shutil.copytree(source / "state-machines", directory / "state-machines", dirs_exist_ok=True)
    source_stage = {"name": "Source", "actions": [_action("Source", "Source", "CodeStarSourceConnection")]}
    build = {"name": "Build", "actions": [_action("Build", "Build", "CodeBuild")]}

    def wave(name: str, wave_name: str, *extra: dict[str, Any]) -> dict[str, Any]:
        deploy = _action("Deploy", "Deploy", "CodeDeploy")
        tests = _action("Tests", "Test", "CodeBuild", run_order=2)
        return {"name": name, "wave": wave_name, "actions": list(extra) or [deploy, tests]}

    all_waves = [
        source_stage,
        build,
        wave("Alpha", "alpha"),
        wave("Beta", "beta"),
        wave("Gamma", "gamma"),
        wave("Prod-Canary", "prod-canary"),
        wave("Prod-AZ1", "prod-az1"),
        wave("Prod-AZ2", "prod-az2"),
    ]
    approval = {
        "name": "ApproveProduction",
        "category": "Approval",
        "provider": "Manual",
        "timeout": "2h",
        "custom_data": "Promote [bold]this[/] revision?",
        "url": "https://wiki.example.com/runbooks/promotion",
    }
    approved_canary = wave(
        "Prod-Canary",
        "prod-canary",
        approval,
        _action("Deploy", "Deploy", "CodeDeploy", run_order=2),
    )
    hostile_beta = wave(
        "Beta",
        "beta",
        _action("Deploy", "Deploy", "CodeDeploy"),
        _action("Tests", "Test", "CodeBuild", run_order=2, fail=1.0, error=HOSTILE),
    )
    pipelines = [
        {"name": "orders-api", "execution_mode": "QUEUED", "repository": "shop/orders-api", "stages": all_waves},
        {"name": "ledger-api", "execution_mode": "QUEUED", "repository": "shop/ledger-api", "stages": all_waves},
        {
            "name": "gated-api",
            "execution_mode": "QUEUED",
            "repository": "shop/gated-api",
            "stages": [source_stage, build, wave("Gamma", "gamma"), approved_canary],
        },
        {
            "name": "hostile-api",
            "execution_mode": "SUPERSEDED",
            "repository": "shop/hostile-api",
            "stages": [source_stage, build, hostile_beta],
        },
    ]
    bundled = yaml.safe_load((source / "fleet.yaml").read_text(encoding="utf-8"))
    machines = [m for m in bundled["state_machines"] if m["name"] in ("wave-deployment", "wave-rollback")]
    fleet = {
        "regions": [REGION],
        "queues": bundled.get("queues", []),
        "pipelines": pipelines,
        "state_machines": machines,
        "traffic": {"commit_interval": "10h", "warm_up": "0s", "runs": []},
    }
    (directory / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False, width=120), encoding="utf-8")
    load_fleet(directory)  # fail here, plainly, if the definitions are wrong
    return directory


class Updates:
    """Every FleetUpdate a watcher publishes, in order, and a way to wait for a condition on them."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.updates: list[FleetUpdate] = []
        self.transitions: list[Transition] = []
        self._changed = asyncio.Event()
        self.unsubscribe = watcher.subscribe(self._on_update)

    def _on_update(self, update: FleetUpdate) -> None:
        self.updates.append(update)
        self.transitions.extend(update.transitions)
        self._changed.set()

    @property
    def state(self) -> FleetState:
        return self.watcher.state

    async def until(self, condition: Callable[[], T], timeout: float, what: str) -> T:  # noqa: ASYNC109
        """Wait for the watcher's updates until `condition()` is truthy; fail with `what` after `timeout`."""
        last: Any = None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    last = condition()
                    if last:
                        return last
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what} (last: {last!r:.300})") from None

    def since(self, index: int) -> list[Transition]:
        return self.transitions[index:]

    def about(self, resource_prefix: str, start: int = 0) -> Iterator[Transition]:
        return (
            t
            for t in self.transitions[start:]
            if t.resource == resource_prefix or t.resource.startswith(resource_prefix + "/")
        )


FAST = Intervals(focused=0.2, background=1.0, lists=5.0, push_safety_net=30.0)


@asynccontextmanager
async def watching(
    url: str,
    intervals: Intervals = FAST,
    *,
    push: bool = True,
    budget: Budget | None = None,
    options: GatewayOptions | None = None,
    push_wait: int = 2,
    hooks: tuple[tuple[str, Any], ...] = (),
    topic: bool = False,
    cache: WarmCache | None = None,
    operator: bool = False,
) -> Any:
    """A started watcher (and its gateway) on the sandbox at `url`; stopped and closed on the way out.

    `topic`: pushed through a queue of its own subscribed to the region's events topic (a team's console).
    `cache`: the warm-start cache it starts from and writes back when it stops.
    `operator`: with the environment's credentials, as a person's console, rather than the sandbox's own key
    (whose requests AWS's quotas in the sandbox count but never refuse)."""
    from dataclasses import replace

    (target,) = sandbox_targets(url, (REGION,))
    if not push:
        target = replace(target, events_queue=None)
    elif topic:
        target = replace(target, events_queue=None, events_topic=f"arn:aws:sns:{REGION}:123456789012:wavedeck-events")
    if operator:
        target = replace(target, sandbox=False)
    gateway = Gateway(target, budget=budget, options=options)
    for event_name, handler in hooks:
        gateway.add_hook(event_name, handler)
    fleet_waves = load_fleet(default_definitions_dir()).wave_model()
    watcher = Watcher({target.name: gateway}, fleet_waves, intervals, push_wait=push_wait, cache=cache)
    updates = Updates(watcher)
    await watcher.start()
    try:
        yield watcher, updates, gateway
    finally:
        await watcher.stop()
        await gateway.close()
