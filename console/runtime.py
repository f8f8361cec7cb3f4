"""The composition root of the core: config → targets → gateways → watcher → gate.

The CLI and the console (`console/app.py`) both build everything through `Runtime.open(options)`:

    runtime = Runtime.open(RuntimeOptions.from_args(args))   # may start the sandbox child (blocks until ready)
    try:
        ... await runtime.check_credentials(); watcher = runtime.make_watcher(); runtime.gate.plan(...) ...
        await runtime.aclose()                                  # closes the gateways (inside the event loop)
    finally:
        runtime.close()                                         # stops the sandbox child, if one was started

Opening reads files and may start a process, but sends nothing to AWS: gateways open their clients on first use.
It reads the config and the waves file, never the sandbox's fleet file: with `--sandbox` the entry point reads
the fleet (console/sandbox/fleet) and passes what the console needs of it in `RuntimeOptions.sandbox_fleet`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.config import Config, load_config, resolve_targets, sandbox_targets, with_push
from console.errors import AwsError, ExpiredCredentials, NoCredentials, WavedeckError
from console.loop_thread import LoopThread
from console.model import Target
from console.resources import Catalog
from console.services import NAMES
from console.waves import WaveMappings, WaveModel

if TYPE_CHECKING:
    from console.aws.gateway import Gateway
    from console.sandbox_process import SandboxFleet, SandboxProcess
    from console.watch import Watcher


@dataclass(frozen=True)
class RuntimeOptions:
    """The common command-line flags (every command and the console take them)."""

    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    sandbox: bool = False
    read_only: bool = False
    config: Path | None = None
    audit_log: Path | None = None
    events_queue: str | None = None
    events_topic: str | None = None
    warm_cache: bool = True  # read and write the warm-start cache (`--no-cache`: neither)
    # The sandbox child, when `sandbox` is set: the console's demo runs at speed 1 with traffic.
    sandbox_speed: float = 1.0
    sandbox_traffic: bool = True
    sandbox_warm_up: bool = True
    definitions: Path | None = None  # the sandbox's definitions directory (default: the bundled one)
    # With `sandbox`: the regions and wave mappings of the sandbox's fleet, read by the entry point
    # (console/__main__.py) from `definitions`; the core cannot import the sandbox.
    sandbox_fleet: SandboxFleet | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RuntimeOptions:
        return cls(
            profile=getattr(args, "profile", None),
            regions=tuple(getattr(args, "regions", None) or ()),
            endpoint_url=getattr(args, "endpoint_url", None),
            sandbox=bool(getattr(args, "sandbox", False)),
            read_only=bool(getattr(args, "read_only", False)),
            config=getattr(args, "config", None),
            audit_log=getattr(args, "audit_log", None),
            events_queue=getattr(args, "events_queue", None),
            events_topic=getattr(args, "events_topic", None),
            warm_cache=not getattr(args, "no_cache", False),
        )


@dataclass
class Runtime:
    """Everything one run of wavedeck works with, put together once (see the module docstring)."""

    options: RuntimeOptions
    config: Config
    targets: tuple[Target, ...]
    waves: WaveModel
    # What places state machines (and their states) by name and rolls their waves back: the config's
    # `waves.state_machines`, with `--sandbox` on top of the sandbox fleet's.
    mappings: WaveMappings
    audit: AuditLog
    gateways: dict[str, Gateway]
    gate: ActionGate
    read_only: bool
    sandbox: SandboxProcess | None = None
    io: LoopThread | None = None  # the thread the gateways' clients live on (and the console's watcher runs on)
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, options: RuntimeOptions) -> Runtime:
        """Read the config and the waves file, start the sandbox if asked, make a gateway per target.

        Raises InputError (bad config / waves file: exit 2), UsageError (bad flags: exit 2), and the
        sandbox's start error. Sends nothing to AWS, and reads no fleet file: the sandbox's comes in
        `options.sandbox_fleet`.
        """
        if options.sandbox and (options.profile or options.regions or options.endpoint_url):
            from console.errors import UsageError

            raise UsageError("--sandbox chooses its own endpoint and regions: drop --profile, --region, --endpoint-url")
        if options.sandbox and options.sandbox_fleet is None:
            raise ValueError("--sandbox needs what the sandbox's fleet says: RuntimeOptions.sandbox_fleet")
        config = load_config(options.config)
        mappings = config.wave_mappings
        if options.sandbox and options.sandbox_fleet is not None:
            mappings = options.sandbox_fleet.mappings.overlaid(mappings)
        waves = config.wave_model().with_mappings(mappings)
        read_only = options.read_only or config.read_only
        sandbox: SandboxProcess | None = None
        if options.sandbox:
            from console.sandbox_process import start_sandbox_process

            sandbox = start_sandbox_process(
                speed=options.sandbox_speed,
                traffic=options.sandbox_traffic,
                warm_up=options.sandbox_warm_up,
                definitions=options.definitions,
            )
            assert options.sandbox_fleet is not None
            targets = sandbox_targets(sandbox.url, options.sandbox_fleet.regions, read_only=read_only)
        else:
            from console.aws.credentials import configured_endpoint, profile_region

            targets = resolve_targets(
                config,
                profile=options.profile,
                regions=options.regions,
                endpoint_url=options.endpoint_url,
                read_only=read_only,
                region_of_profile=profile_region,
                endpoint_of_profile=configured_endpoint,
            )
        targets = with_push(targets, options.events_queue, options.events_topic)
        try:
            from console.aws.gateway import Gateway

            # Every target's clients on one loop in a thread of its own: requests are sent and answers parsed
            # there, never on the loop that draws the screen and takes the keys.
            io = LoopThread()
            gateways = {t.name: Gateway(t, read_only=read_only, io=io) for t in targets}
            audit = AuditLog((options.audit_log or config.audit_log).expanduser())
            gate = ActionGate(
                gateways,
                waves,
                audit,
                read_only=read_only,
                rollback_machines=mappings.rollback_machines,
                state_waves=mappings.state_waves,
                answers=config.approvals,
            )
        except BaseException:
            if sandbox is not None:
                sandbox.stop()
            raise
        return cls(
            options=options,
            config=config,
            targets=targets,
            waves=waves,
            mappings=mappings,
            audit=audit,
            gateways=gateways,
            gate=gate,
            read_only=read_only,
            sandbox=sandbox,
            io=io,
        )

    def make_watcher(self, **kwargs: Any) -> Watcher:
        """The watcher over this runtime's gateways (not started: `await watcher.start()`), with the
        warm-start cache unless `--no-cache` or the sandbox child this runtime started (a new AWS each time,
        on a new port: nothing of the last run's is true of it)."""
        from console.warm_cache import WarmCache
        from console.watch import Watcher

        if self.options.warm_cache and self.sandbox is None:
            kwargs.setdefault("cache", WarmCache())
        return Watcher(self.gateways, self.waves, self.config.intervals, **kwargs)

    async def check_credentials(self) -> None:
        """Ask STS who we are on every target; raise when no target has usable credentials.

        A target that fails for another reason (unreachable) is left to the watcher to report and retry.
        """
        results = await asyncio.gather(
            *(gateway.caller_identity() for gateway in self.gateways.values()), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, NoCredentials | ExpiredCredentials)]
        if failures and len(failures) == len(results):
            raise failures[0]
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, AwsError | WavedeckError):
                raise result

    async def catalog(self, target: str | None = None) -> Catalog:
        """Which pipelines and state machines exist, per target (for resolving RESOURCE names)."""
        names = [target] if target is not None and target in self.gateways else list(self.gateways)

        services = list(NAMES.items())

        async def one(name: str) -> list[Mapping[str, str]]:
            gateway = self.gateways[name]
            return list(await asyncio.gather(*(names.listed(gateway) for _, names in services)))

        found = await asyncio.gather(*(one(name) for name in names))
        return Catalog(
            NAMES,
            {
                service: {name: listed[i] for name, listed in zip(names, found, strict=True)}
                for i, (service, _) in enumerate(services)
            },
            regions={t.name: t.region for t in self.targets},
        )

    async def aclose(self) -> None:
        """Close the gateways (inside the event loop they were used on)."""
        for gateway in self.gateways.values():
            await gateway.close()

    def close(self) -> None:
        """Stop the sandbox child, if this runtime started one. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self.sandbox is not None:
            self.sandbox.stop()
