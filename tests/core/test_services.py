"""The registry of services (console/services.py): every service has its line, an unknown service or action kind
raises instead of being guessed at, and the watcher starts exactly the sources the registry lists."""

from __future__ import annotations

import asyncio
import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from console import services, watch
from console.actions import registry
from console.actions.plan import ActionKind, PlanContext
from console.codepipeline import actions as codepipeline
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import PipelineSummary, pipelines_of
from console.codepipeline.source import PipelineSource
from console.errors import UsageError
from console.model import FleetState, Service
from console.polling.context import WatchContext
from console.polling.rereads import Rereads
from console.polling.slots import TargetRun
from console.push import PushEvent
from console.services import SERVICES, UnknownService, parts_of
from console.stepfunctions import actions as stepfunctions
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import StateMachineSummary, state_machines_of
from console.warm_cache import CachedTarget
from console.waves import WaveModel
from tests.core.test_watch_fake import FakeFleet, make_watcher, stages
from tests.selections import sel


class Newcomer(enum.Enum):
    CODEDEPLOY = "codedeploy"
    OVERRIDE = "override-stage-condition-twice"


def test_every_service_has_its_line_and_its_parts() -> None:
    assert set(SERVICES) == {CODEPIPELINE, STEPFUNCTIONS}
    for service in SERVICES:
        parts = parts_of(service)
        assert parts.actions.builders, service
        assert callable(parts.source), service


def test_the_gateway_speaks_every_protocol_each_service_declares() -> None:
    # The service packages narrow the gate's gateway to their own protocol (a cast): this is what makes it true.
    from typing_extensions import get_protocol_members

    from console.actions.reads import GateGateway
    from console.aws.gateway import Gateway

    common = get_protocol_members(GateGateway)  # the target and read_only are set on each instance
    for service, parts in SERVICES.items():
        assert parts.speaks, service
        for protocol in parts.speaks:
            missing = {name for name in get_protocol_members(protocol) - common if not hasattr(Gateway, name)}
            assert not missing, f"{service}: Gateway lacks {sorted(missing)} of {protocol.__name__}"


def test_an_unknown_service_raises_saying_which() -> None:
    with pytest.raises(UnknownService, match="codedeploy"):
        parts_of(Newcomer.CODEDEPLOY)  # type: ignore[arg-type]


def test_an_unknown_kind_raises_when_asked_whether_it_can_run() -> None:
    pipeline = sel(target="dev", pipeline="checkout-api")
    with pytest.raises(registry.UnknownActionKind, match="override-stage-condition-twice"):
        registry.unavailable(Newcomer.OVERRIDE, pipeline, FleetState(), PlanContext(WaveModel(())))  # type: ignore[arg-type]


def test_the_gate_reads_its_builders_from_the_registry() -> None:
    assert registry.SERVICES[CODEPIPELINE] is codepipeline.ACTIONS
    assert registry.SERVICES[STEPFUNCTIONS] is stepfunctions.ACTIONS
    assert registry.plan_builder(CODEPIPELINE, ActionKind.OVERRIDE) is codepipeline.PLAN_BUILDERS[ActionKind.OVERRIDE]


class ListingFleet(FakeFleet):
    """The in-memory target, counting its listings."""

    def __init__(self) -> None:
        super().__init__()
        self.listed: Counter[str] = Counter()

    async def list_pipelines(self) -> Sequence[PipelineSummary]:
        self.listed["ListPipelines"] += 1
        return await super().list_pipelines()

    async def list_state_machines(self) -> Sequence[StateMachineSummary]:
        self.listed["ListStateMachines"] += 1
        return await super().list_state_machines()


class CountingSource:
    """A source of deployments of its own: it lists nothing, and counts what the watcher asks of it."""

    made: list[CountingSource] = []
    service = STEPFUNCTIONS  # the line it stands in
    events_from = "aws.codedeploy"
    reads = ("ListDeployments",)
    listing = "ListDeployments"

    def __init__(self, context: WatchContext) -> None:
        self.discovered: Counter[str] = Counter()
        CountingSource.made.append(self)

    async def discover(self, run: TargetRun) -> None:
        self.discovered[run.target.name] += 1

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        return 0

    def snapshot(self, run: TargetRun, cached: CachedTarget) -> CachedTarget:
        return cached

    def start(self) -> None:
        pass

    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        return ()

    def refresh(self, keys: set[str] | None) -> None:
        pass

    def apply_event(self, run: TargetRun, event: PushEvent, rereads: Rereads) -> None:
        pass


async def test_the_watcher_starts_exactly_the_registered_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pipelines, and a newcomer in Step Functions' line: state machines are never listed, the newcomer is.
    registered = {
        CODEPIPELINE: SERVICES[CODEPIPELINE],
        STEPFUNCTIONS: replace(SERVICES[STEPFUNCTIONS], source=CountingSource),
    }
    monkeypatch.setattr(watch, "SERVICES", registered)
    monkeypatch.setattr(CountingSource, "made", [])
    fleet = ListingFleet()
    fleet.pipelines["checkout"] = stages("Succeeded", "e1")
    watcher, _ = make_watcher(fleet)
    await watcher.start()
    try:
        state = await watcher.wait_ready(10)
    finally:
        await watcher.stop()
    assert fleet.listed["ListPipelines"] >= 1
    assert fleet.listed["ListStateMachines"] == 0
    assert [source.discovered["fake"] >= 1 for source in CountingSource.made] == [True]
    assert set(pipelines_of(state)) == {"fake:checkout"}
    assert not state_machines_of(state)


async def test_with_the_registry_as_it_is_both_services_are_listed() -> None:
    assert [parts.source for parts in services.SERVICES.values()][0] is PipelineSource
    fleet = ListingFleet()
    watcher, _ = make_watcher(fleet)
    await watcher.start()
    try:
        state = await watcher.wait_ready(10)
    finally:
        await watcher.stop()
    assert fleet.listed["ListPipelines"] >= 1
    assert fleet.listed["ListStateMachines"] >= 1
    assert len(state_machines_of(state)) == 1


def test_the_common_core_is_kept_from_naming_a_service_package() -> None:
    # The import-linter contract (run by tests/test_layers.py) is what fails when a common module imports a
    # service package; this fails when the contract itself is dropped or loses a module or a service.
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    common = next(c for c in contracts if c["name"].startswith("The common core imports no service package"))
    assert {"console.actions", "console.model", "console.polling", "console.resources", "console.watch"} <= set(
        common["source_modules"]
    )
    assert set(common["forbidden_modules"]) == {"console.codepipeline", "console.stepfunctions"}
    watcher = next(c for c in contracts if c.get("source_modules") == ["console.polling"])
    assert "console.services" in watcher["forbidden_modules"]
    assert "ignore_imports" not in watcher


def test_a_service_is_the_value_its_package_makes() -> None:
    from console.codepipeline.model import PipelineTransition
    from console.model import Approval, Transition, TransitionKind
    from console.stepfunctions.model import MachineTransition

    assert Service("codepipeline") == CODEPIPELINE
    assert {Service("stepfunctions"): 1}[STEPFUNCTIONS] == 1
    assert Approval(kind="codepipeline", target="t", resource="p/s/a", wave=None, since=None).kind == CODEPIPELINE  # type: ignore[arg-type]
    assert TransitionKind.of("sfn-state") is MachineTransition.SFN_STATE
    assert TransitionKind.of("stage").service == CODEPIPELINE
    assert PipelineTransition.STAGE.service is CODEPIPELINE
    with pytest.raises(ValueError, match="deployment"):
        TransitionKind.of("deployment")
    assert Transition(datetime.now(UTC), "t", "stage", "p/s", None, None, None, "InProgress").kind is (  # type: ignore[arg-type]
        PipelineTransition.STAGE
    )


@dataclass(frozen=True)
class DeploymentSelection:
    """A newcomer's selection: a deployment group, named `application/group`."""

    service: ClassVar[Service] = Service("codedeploy")
    target: str
    application: str
    group: str

    @property
    def key(self) -> str:
        return f"{self.target}:{self.application}"

    @property
    def resource(self) -> str:
        return f"{self.application}/{self.group}"

    @property
    def execution(self) -> str | None:
        return None

    @property
    def confirm_name(self) -> str:
        return self.group

    def lock_subject(self, family: str, rollback: bool) -> str:
        return self.resource


class DeploymentNames:
    noun = "application"
    shapes = ("application/group",)
    max_parts = 2
    arn_noun = ""
    disambiguation = ""

    def names(self, state: FleetState) -> Mapping[str, Mapping[str, str]]:
        return {}

    async def listed(self, reader: object) -> Mapping[str, str]:
        return {}

    def select(self, target: str, parts: tuple[str, ...], found: str) -> DeploymentSelection | None:
        return DeploymentSelection(target, found, parts[1]) if len(parts) == 2 else None

    def accepts_arn(self, arn: str) -> bool:
        return False

    def resolve_arn(self, arn: str, names: object, scope: object, regions: object) -> DeploymentSelection:
        raise NotImplementedError


def test_resource_names_resolve_through_every_registered_service_a_newcomer_too() -> None:
    from console.resources import Catalog, Names, resolve

    codedeploy = Service("codedeploy")
    newcomer: Names = DeploymentNames()  # type: ignore[assignment]
    catalog = Catalog(
        {**services.NAMES, codedeploy: newcomer},
        {CODEPIPELINE: {"east": {"checkout-api": "checkout-api"}}, codedeploy: {"east": {"billing": "billing"}}},
    )
    assert resolve("billing/prod", catalog) == DeploymentSelection("east", "billing", "prod")
    assert resolve("checkout-api/Beta", catalog).service == CODEPIPELINE
    with pytest.raises(UsageError, match="expected pipeline, .*an execution ARN or application/group"):
        resolve("a/b/c/d", catalog)
