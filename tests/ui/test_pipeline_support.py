"""Helpers for the pipeline, state machine and execution screen tests: fixed pictures, a fixed execution
history, a watcher that serves it, and the console on the session sandbox.

Fixed pictures use the UI conftest's fixed clock (no ages or ids that change between runs).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.app import WavedeckApp, make_app
from console.aws.gateway import Gateway
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Action, InboundExecution, InboundTransition, PipelineExecution, pipelines_of
from console.config import Config, Intervals, sandbox_targets
from console.model import Approval, FleetState, SourceRevision, Target
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import Execution, HistoryEvent, state_machines_of
from console.watch import Watcher
from tests.conftest import REGION, SPEED, make_client
from tests.ui.conftest import ACCOUNT, WAVES, FakeWatcher, ago, fleet_picture, pipeline, stage

TARGET = "sandbox/us-east-1"
PIPELINE_KEY = f"{TARGET}:checkout-api"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:wave-deployment"
EXECUTION_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:wave-deployment:deploy-checkout-7"
ASK = "Promote this revision from prod-az1 to prod-az2?"
# Pipeline execution ids as AWS makes them (UUIDs), fixed.
LATEST = "5f1d2c3b-7a41-4e2b-9d11-0c6a8e2f4b01"
FAILED_RUN = "7a8b9c0d-1e2f-4a5b-8c6d-2e3f4a5b6c02"
ROLLBACK_RUN = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c03"


# --- a pipeline with everything the pipeline screen shows ----------------------------------------------------


def detailed_checkout() -> Any:
    """checkout-api: a Step Functions action in beta, a failure with an error code in gamma, an approval
    waiting in the canary, promotion into az1 paused (by whom, when, why) with an execution waiting."""
    sfn = Action(
        name="LoadTest",
        category="Invoke",
        provider="StepFunctions",
        run_order=2,
        status="Succeeded",
        summary="Load test passed: p99 212 ms",
        last_status_change=ago(1500),
        external_execution_id=EXECUTION_ARN,
        external_execution_url=f"https://console.example/states/{EXECUTION_ARN}",
    )
    beta = stage(
        "Beta",
        execution=LATEST,
        actions=(
            Action(
                name="Deploy",
                category="Deploy",
                provider="CloudFormation",
                status="Succeeded",
                summary="Stack updated",
                last_status_change=ago(1700),
            ),
            sfn,
        ),
    )
    gamma = stage(
        "Gamma",
        "Failed",
        execution=FAILED_RUN,
        actions=(
            Action(
                name="Canaries",
                category="Test",
                provider="CodeBuild",
                status="Failed",
                last_status_change=ago(420),
                error_code="JobFailed",
                error_message="Synthetic canary GetOrder breached p99 latency (812 ms > 500 ms)",
                external_execution_id="canaries:8f2c",
                external_execution_url="https://console.example/codebuild/canaries:8f2c",
            ),
        ),
    )
    canary = replace(
        stage("Prod-Canary", approval=True, changed=240, execution=LATEST),
        actions=(
            Action(
                name="ApproveProduction",
                category="Approval",
                provider="Manual",
                status="InProgress",
                token="token-canary",
                last_status_change=ago(240),
                configuration=(
                    ("CustomData", "Gamma canaries are green. Promote this revision to production?"),
                    ("ExternalEntityLink", "https://wiki.example.com/runbooks/promotion"),
                ),
            ),
            Action(name="DeployOneBox", category="Deploy", provider="CodeDeploy", run_order=2),
        ),
    )
    az1 = replace(
        stage("Prod-AZ1", "Succeeded", execution=ROLLBACK_RUN),
        inbound=InboundTransition(
            enabled=False,
            disabled_reason="Holiday freeze",
            last_changed_by=f"arn:aws:iam::{ACCOUNT}:user/oncall",
            last_changed_at=ago(3600),
        ),
        inbound_executions=(InboundExecution(LATEST, "InProgress"),),
    )
    az2 = stage("Prod-AZ2", None)
    older = (
        PipelineExecution(
            id=FAILED_RUN,
            status="Failed",
            started=ago(2400),
            updated=ago(420),
            trigger_type="StartPipelineExecution",
            trigger_detail=f"arn:aws:iam::{ACCOUNT}:user/dev",
            source_revisions=(SourceRevision("Source", "77aa88bb99cc", "Raise connection pool ceiling"),),
        ),
        PipelineExecution(
            id=ROLLBACK_RUN,
            status="Succeeded",
            started=ago(7200),
            updated=ago(6000),
            trigger_type="ManualRollback",
            execution_type="ROLLBACK",
            rollback_target="exec-ffff",
            source_revisions=(SourceRevision("Source", "5e5e5e5e5e5e", "Fix order totals rounding"),),
        ),
    )
    built = pipeline(
        "checkout-api",
        [stage("Alpha", execution=LATEST), beta, gamma, canary, az1, az2],
        status="InProgress",
        execution=LATEST,
        more_executions=older,
    )
    return replace(built, pipeline_type="V2", execution_mode="QUEUED")


def pipeline_picture() -> FleetState:
    """The standard fleet picture with checkout-api replaced by `detailed_checkout`."""
    state = fleet_picture()
    checkout = detailed_checkout()
    return state.with_resources(CODEPIPELINE, {**pipelines_of(state), checkout.key: checkout})


# --- an execution waiting for a person --------------------------------------------------------------------------


def _event(
    event_id: int, event_type: str, seconds: float, state: str | None = None, previous: int | None = None, **fields: Any
) -> HistoryEvent:
    return HistoryEvent(
        id=event_id,
        type=event_type,
        timestamp=ago(seconds),
        previous_id=event_id - 1 if previous is None else previous,
        state_name=state,
        **fields,
    )


EXECUTION_INPUT = json.dumps({"service": "checkout-api", "revision": "a1b2c3d4e5f6", "note": "[b]not bold[/b]"})
PARAMETERS = json.dumps(
    {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/deploy-approvals",
        "MessageBody": {"ask": ASK, "revision": "a1b2c3d4e5f6", "taskToken": "token-az2"},
    }
)


def waiting_history() -> tuple[HistoryEvent, ...]:
    """wave-deployment through the canary and az1, now waiting at ApprovePromotion (a task token)."""
    return (
        _event(1, "ExecutionStarted", 300, previous=0, input=EXECUTION_INPUT),
        _event(2, "WaitStateEntered", 300, "DeployCanary", input=EXECUTION_INPUT),
        _event(3, "WaitStateExited", 290, "DeployCanary", output=EXECUTION_INPUT),
        _event(4, "WaitStateEntered", 290, "BakeCanary"),
        _event(5, "WaitStateExited", 200, "BakeCanary"),
        _event(6, "WaitStateEntered", 200, "DeployAZ1"),
        _event(7, "WaitStateExited", 150, "DeployAZ1"),
        _event(8, "TaskStateEntered", 150, "ApprovePromotion"),
        _event(
            9,
            "TaskScheduled",
            150,
            "ApprovePromotion",
            resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            parameters=PARAMETERS,
            timeout_seconds=7200,
        ),
        _event(10, "TaskStarted", 150, "ApprovePromotion"),
        _event(11, "TaskSubmitted", 150, "ApprovePromotion", output=json.dumps({"MessageId": "m-1"})),
    )


def finished_history() -> tuple[HistoryEvent, ...]:
    """The same execution, approved and deployed to az2."""
    return (
        *waiting_history(),
        _event(12, "TaskSucceeded", 100, "ApprovePromotion", output=json.dumps({"approved": True})),
        _event(13, "TaskStateExited", 100, "ApprovePromotion"),
        _event(14, "WaitStateEntered", 100, "DeployAZ2"),
        _event(15, "WaitStateExited", 60, "DeployAZ2"),
        _event(16, "SucceedStateEntered", 60, "Deployed"),
        _event(17, "SucceedStateExited", 60, "Deployed"),
        _event(18, "ExecutionSucceeded", 60, output=json.dumps({"deployed": "a1b2c3d4e5f6"})),
    )


def execution_picture() -> FleetState:
    """The pipeline picture plus wave-deployment's execution deploy-checkout-7 waiting for a person."""
    state = pipeline_picture()
    key = f"{TARGET}:wave-deployment"
    machine = state_machines_of(state)[key]
    waiting = Execution(
        arn=EXECUTION_ARN,
        name="deploy-checkout-7",
        state_machine_arn=MACHINE_ARN,
        status="RUNNING",
        started=ago(300),
        input=EXECUTION_INPUT,
    )
    failed = Execution(
        arn=EXECUTION_ARN.replace("deploy-checkout-7", "deploy-checkout-6"),
        name="deploy-checkout-6",
        state_machine_arn=MACHINE_ARN,
        status="FAILED",
        started=ago(5400),
        stopped=ago(5000),
        error="Deployment.AlarmFired",
        cause="Alarm OneBox-5xx went into ALARM during the canary bake",
        redrive_count=1,
    )
    machine = replace(
        machine,
        executions=(waiting, *machine.executions, failed),
        approval_states=("ApprovePromotion",),
        rollback_state_machine="wave-rollback",
    )
    approval = Approval(
        kind=STEPFUNCTIONS,
        target=TARGET,
        resource="wave-deployment/deploy-checkout-7",
        wave=WAVES.wave("prod-az2"),
        since=ago(150),
        expires=ago(150) + timedelta(seconds=7200),
        revision=SourceRevision("input", "a1b2c3d4e5f6"),
        custom_data=ASK,
        state_name="ApprovePromotion",
        execution=EXECUTION_ARN,
    )
    approvals = tuple(a for a in state.approvals if a.kind != "stepfunctions") + (approval,)
    return replace(state.with_resources(STEPFUNCTIONS, {**state_machines_of(state), key: machine}), approvals=approvals)


class HistoryWatcher(FakeWatcher):
    """A FakeWatcher that also serves execution histories (`histories[arn]`)."""

    def __init__(self, state: FleetState, histories: dict[str, tuple[HistoryEvent, ...]] | None = None) -> None:
        super().__init__(state)
        self.histories = dict(histories or {})

    def history(self, execution_arn: str) -> tuple[HistoryEvent, ...]:
        return self.histories.get(execution_arn, ())

    def grow(self, execution_arn: str, events: Iterable[HistoryEvent]) -> None:
        """The history grows (as the watcher reads more) and a new picture is published."""
        self.histories[execution_arn] = tuple(events)
        self.publish(replace(self.state))


# --- the console on the session sandbox ----------------------------------------------------------------------

SANDBOX_WAVES = load_fleet().wave_model()
FAST = Intervals(focused=0.2, background=0.5, lists=2.0, push_safety_net=30.0)


@dataclass
class SandboxConsole:
    """The app factory on the session sandbox (real gateway, watcher and gate), its audit log, clients."""

    build: Callable[..., WavedeckApp]
    audit: AuditLog
    target: Target
    url: str

    def client(self, service: str) -> Any:
        return make_client(self.url, service)


# A fleet of one quiet pipeline: in a sandbox of their own, what a test creates is nearly all the watcher
# reads, however many pipelines and state machines the rest of the session left in the shared sandbox.
QUIET_FLEET = """\
regions: [us-east-1]
queues: [deploy-approvals]
pipelines:
  - name: quiet-service
    stages:
      - name: Source
        actions:
          - {name: Source, category: Source, provider: CodeStarSourceConnection, owner: AWS, duration: 4s}
      - name: Build
        actions:
          - {name: Build, category: Build, provider: CodeBuild, duration: 10s}
state_machines: []
"""


@contextmanager
def quiet_sandbox(directory: Path) -> Iterator[SandboxProcess]:
    """A sandbox of its own (the bundled waves, `QUIET_FLEET`), at the session's test speed."""
    shutil.copy(Path(__file__).resolve().parents[2] / "definitions" / "waves.yaml", directory / "waves.yaml")
    (directory / "fleet.yaml").write_text(QUIET_FLEET)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as process:
        yield process


@asynccontextmanager
async def sandbox_console(sandbox: SandboxProcess, tmp_path: Path) -> AsyncIterator[SandboxConsole]:
    """The console on the session sandbox; `build()` makes a fresh app (each with its own watcher)."""
    (target,) = sandbox_targets(sandbox.url, (REGION,))
    target = replace(target, events_queue=None)  # polling only: the tests wait on what the screen shows
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with Gateway(target) as gateway:

        def build(*, rollback_machines: dict[str, str] | None = None) -> WavedeckApp:
            watcher = Watcher({target.name: gateway}, SANDBOX_WAVES, FAST)
            gate = ActionGate({target.name: gateway}, SANDBOX_WAVES, audit, rollback_machines=rollback_machines)
            return make_app(Config(), (target,), watcher, gate, waves=SANDBOX_WAVES)

        yield SandboxConsole(build, audit, target, sandbox.url)


async def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking boto3 helper without blocking the app's event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)
