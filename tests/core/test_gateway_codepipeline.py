"""The gateway's CodePipeline methods against the sandbox over HTTP: reads, pagination, every write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from console.aws import Gateway, GatewayOptions
from console.aws import codepipeline as convert
from console.budget import DEFAULT_RATES, Budget, Rate
from console.errors import AlreadyDone, Conflict, InvalidInput, NotFound
from console.model import Target
from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import REGION, SPEED
from tests.sandbox.test_codepipeline_support import action, approval, create, source, stage, start

T = TypeVar("T")


def fast_budget() -> Budget:
    """Tests poll the sandbox quickly; the budget's own behaviour is tested in test_budget.py."""
    return Budget({api: Rate(1000, 1000) for api in DEFAULT_RATES}, default=Rate(1000, 1000))


@pytest.fixture
async def gateway(sandbox: SandboxProcess) -> AsyncIterator[Gateway]:
    target = Target(name="sandbox", region=REGION, endpoint_url=sandbox.url, sandbox=True)
    async with Gateway(target, budget=fast_budget(), options=GatewayOptions(max_attempts=1)) as gateway:
        yield gateway


async def eventually(check: Callable[[], Awaitable[T | None]], what: str, within: float = 20.0) -> T:
    """Poll an async condition until it gives something truthy (no fixed sleeps: a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: T | None = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


async def status_of(gateway: Gateway, pipeline: str, execution_id: str, *wanted: str) -> str | None:
    execution = await gateway.get_pipeline_execution(pipeline, execution_id)
    return execution.status if execution.status in wanted else None


async def test_list_pipelines_reads_every_page(gateway: Gateway) -> None:
    pipelines = await gateway.list_pipelines(page_size=2)
    names = [p.name for p in pipelines]
    assert {"checkout-api", "payments-api", "catalog-service", "identity-service", "notifications"} <= set(names)
    assert len(names) == len(set(names))
    assert gateway.stats.requests["ListPipelines"] == -(-len(names) // 2)  # every page, once
    checkout = next(p for p in pipelines if p.name == "checkout-api")
    assert checkout.execution_mode == "QUEUED"
    assert checkout.pipeline_type == "V2"
    assert checkout.created is not None
    assert checkout.created.tzinfo is UTC


async def test_get_pipeline_gives_the_structure_with_approval_and_state_machine_settings(gateway: Gateway) -> None:
    checkout = await gateway.get_pipeline("checkout-api")
    assert checkout.target == "sandbox"
    assert [s.name for s in checkout.stages][:3] == ["Source", "Build", "Alpha"]
    canary = checkout.stage("Prod-Canary")
    assert canary is not None
    approve = canary.actions[0]
    assert (approve.name, approve.category, approve.provider, approve.run_order) == (
        "ApproveProduction",
        "Approval",
        "Manual",
        1,
    )
    settings = dict(approve.configuration)
    assert settings["CustomData"].startswith("Gamma canaries are green")
    assert settings["ExternalEntityLink"].startswith("https://")
    assert [a.run_order for a in canary.actions] == [1, 2, 3]
    search = await gateway.get_pipeline("search-indexer")
    beta = search.stage("Beta")
    assert beta is not None
    load = next(a for a in beta.actions if a.provider == "StepFunctions")
    assert dict(load.configuration)["StateMachineArn"].endswith(":stateMachine:distributed-load-test")


async def test_reads_share_their_text_with_every_other_read(gateway: Gateway) -> None:
    # The watcher keeps every pipeline's structure, state and picture: each read's text is the one copy there is
    # (convert.share_strings at the gateway), not new strings per answer. Relies on CPython's sys.intern.
    first = await gateway.get_pipeline_state("checkout-api")
    again = await gateway.get_pipeline_state("checkout-api")
    structure = await gateway.get_pipeline("checkout-api")
    for old, new in zip(first.stages, again.stages, strict=True):
        assert new.name is old.name
        assert new.execution_type is old.execution_type
        for old_action, new_action in zip(old.actions, new.actions, strict=True):
            assert new_action.name is old_action.name
            if old_action.status is not None:
                assert new_action.status is old_action.status
    assert [s.name for s in structure.stages] == [s.name for s in first.stages]
    assert all(s.name is t.name for s, t in zip(structure.stages, first.stages, strict=True))
    other = await gateway.get_pipeline("payments-api")
    categories = {id(a.category) for s in structure.stages for a in s.actions}
    assert any(id(a.category) in categories for s in other.stages for a in s.actions)


async def test_an_approval_is_seen_answered_once_and_refused_the_second_time(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Approve", approval("Approve", CustomData="Ship it?", ExternalEntityLink="https://example.com/x")),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )
    execution_id = start(cp, name)

    async def waiting() -> Any:
        state = await gateway.get_pipeline_state(name)
        stage_state = next(s for s in state.stages if s.name == "Approve")
        return stage_state.awaiting_approval

    waiting_action = await eventually(waiting, "the approval to wait")
    assert waiting_action.token
    assert waiting_action.status == "InProgress"
    state = await gateway.get_pipeline_state(name)
    approve_stage = next(s for s in state.stages if s.name == "Approve")
    assert approve_stage.execution_id == execution_id
    assert approve_stage.status == "InProgress"
    # The state lays over the structure: the approval keeps its category and custom data.
    merged = state.apply_to(await gateway.get_pipeline(name))
    merged_stage = merged.stage("Approve")
    assert merged_stage is not None
    merged_action = merged_stage.awaiting_approval
    assert merged_action is not None
    assert merged_action.is_approval
    assert dict(merged_action.configuration)["CustomData"] == "Ship it?"

    receipt = await gateway.put_approval_result(name, "Approve", "Approve", waiting_action.token, True, "Looks good")
    assert receipt.operation == "PutApprovalResult"
    assert receipt.request_id
    assert receipt.effective is not None
    assert receipt.effective.tzinfo is UTC
    with pytest.raises(AlreadyDone) as second:
        await gateway.put_approval_result(name, "Approve", "Approve", waiting_action.token, False, "Too late")
    assert second.value.operation == "PutApprovalResult"
    assert second.value.request_id

    assert await eventually(lambda: status_of(gateway, name, execution_id, "Succeeded"), "the run to succeed")
    runs = await gateway.list_action_executions(name, execution_id)
    by_action = {r.action: r for r in runs}
    assert set(by_action) == {"Source", "Approve", "Deploy"}
    assert by_action["Approve"].status == "Succeeded"
    assert by_action["Approve"].category == "Approval"
    assert by_action["Approve"].custom_data == "Ship it?"
    assert all(r.pipeline_execution_id == execution_id for r in runs)


async def test_list_pipeline_executions_is_newest_first_bounded_and_paged(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp, source(duration="0"), stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="0"))
    )
    started = [start(cp, name) for _ in range(5)]
    for execution_id in started:
        await eventually(lambda e=execution_id: status_of(gateway, name, e, "Succeeded"), f"{execution_id} to end")
    before = gateway.stats.requests["ListPipelineExecutions"]
    newest = await gateway.list_pipeline_executions(name, max_results=4, page_size=3)
    assert [e.id for e in newest] == list(reversed(started))[:4]
    assert gateway.stats.requests["ListPipelineExecutions"] - before == 2  # 3, then the 1 still wanted
    everything = await gateway.list_pipeline_executions(name, max_results=50, page_size=2)
    assert [e.id for e in everything] == list(reversed(started))
    first = everything[-1]
    assert first.trigger_type == "StartPipelineExecution"
    assert first.revision is not None
    assert first.started is not None
    assert first.started.tzinfo is UTC
    succeeded = await gateway.list_pipeline_executions(name, succeeded_in_stage="Deploy")
    assert len(succeeded) == 5
    detail = await gateway.get_pipeline_execution(name, started[0])
    assert detail.id == started[0]
    assert detail.status == "Succeeded"


async def test_stop_and_wait_then_abandon_then_nothing_left_to_stop(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp, source(duration="0"), stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="400"))
    )
    execution_id = start(cp, name)

    async def deploying() -> bool:
        state = await gateway.get_pipeline_state(name)
        return any(s.name == "Deploy" and s.status == "InProgress" for s in state.stages)

    await eventually(deploying, "Deploy to run")
    receipt = await gateway.stop_pipeline_execution(name, execution_id, abandon=False, reason="Incident 42")
    assert receipt.execution_id == execution_id
    assert receipt.request_id
    with pytest.raises(AlreadyDone) as again:
        await gateway.stop_pipeline_execution(name, execution_id, abandon=False, reason="Incident 42")
    assert again.value.code == "DuplicatedStopRequestException"
    await gateway.stop_pipeline_execution(name, execution_id, abandon=True, reason="Incident 42, abandon")
    assert await eventually(lambda: status_of(gateway, name, execution_id, "Stopped"), "the run to stop")
    with pytest.raises(Conflict) as done:
        await gateway.stop_pipeline_execution(name, execution_id, abandon=True)
    assert done.value.code == "PipelineExecutionNotStoppableException"
    summaries = await gateway.list_pipeline_executions(name)
    assert summaries[0].stop_reason.startswith("Incident 42")


async def test_retry_runs_the_failed_actions_of_a_stage_again(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(duration="0"),
        stage("Test", action("Tests", "Test", "CodeBuild", SandboxDuration="0", SandboxOutcome="Failed")),
    )
    execution_id = start(cp, name)
    assert await eventually(lambda: status_of(gateway, name, execution_id, "Failed"), "the run to fail")
    state = await gateway.get_pipeline_state(name)
    failed = next(s for s in state.stages if s.name == "Test")
    assert failed.status == "Failed"
    assert failed.actions[0].status == "Failed"
    with pytest.raises(InvalidInput):
        await gateway.retry_stage_execution(name, "Source", execution_id)  # nothing failed there
    receipt = await gateway.retry_stage_execution(name, "Test", execution_id)
    assert receipt.execution_id == execution_id
    assert receipt.operation == "RetryStageExecution"

    async def two_runs() -> bool:
        runs = await gateway.list_action_executions(name, execution_id, page_size=1)
        return sum(1 for r in runs if r.action == "Tests" and r.status == "Failed") == 2

    await eventually(two_runs, "the retried action to fail again")


async def test_rollback_stage_starts_a_rollback_execution_to_the_target(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp, source(duration="0"), stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="0"))
    )
    first = start(cp, name)
    await eventually(lambda: status_of(gateway, name, first, "Succeeded"), "the first run")
    second = start(cp, name)
    await eventually(lambda: status_of(gateway, name, second, "Succeeded"), "the second run")
    receipt = await gateway.rollback_stage(name, "Deploy", first)
    assert receipt.execution_id
    assert receipt.execution_id not in (first, second)
    rollback = await gateway.get_pipeline_execution(name, receipt.execution_id)
    assert rollback.is_rollback
    assert rollback.rollback_target == first
    assert rollback.trigger_type == "ManualRollback"
    with pytest.raises(Conflict) as refused:
        await gateway.rollback_stage(name, "Source", first)
    assert refused.value.code == "UnableToRollbackStageException"


async def test_pause_and_resume_promotion(aws: Any, gateway: Gateway) -> None:
    cp = aws("codepipeline")
    name = create(
        cp, source(duration="0"), stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="0"))
    )
    await gateway.disable_stage_transition(name, "Prod", "Paused during incident 42")
    state = await gateway.get_pipeline_state(name)
    prod = next(s for s in state.stages if s.name == "Prod")
    assert prod.paused
    assert prod.inbound.disabled_reason == "Paused during incident 42"
    assert prod.inbound.last_changed_by
    assert prod.inbound.last_changed_at is not None
    with pytest.raises(InvalidInput) as bad:
        await gateway.disable_stage_transition(name, "Prod", "no_underscores, no commas")
    assert bad.value.code == "ValidationException"
    receipt = await gateway.enable_stage_transition(name, "Prod")
    assert receipt.request_id
    state = await gateway.get_pipeline_state(name)
    assert not next(s for s in state.stages if s.name == "Prod").paused


async def test_unknown_pipelines_are_not_found(gateway: Gateway) -> None:
    with pytest.raises(NotFound) as missing:
        await gateway.get_pipeline_state("no-such-pipeline")
    assert missing.value.code == "PipelineNotFoundException"
    assert missing.value.operation == "GetPipelineState"
    assert missing.value.target == "sandbox"
    with pytest.raises(NotFound):
        await gateway.get_pipeline_execution("checkout-api", "00000000-0000-0000-0000-000000000000")


async def test_a_codeconnections_revision_summary_becomes_its_commit_message(repo_root: Path) -> None:
    # The sandbox's warm-up plays commits the way a GitHub connection reports them: JSON in revisionSummary.
    messages = yaml.safe_load((repo_root / "definitions" / "fleet.yaml").read_text())["traffic"]["messages"]
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=True) as warm:
        target = Target(name="warm", region=REGION, endpoint_url=warm.url, sandbox=True)
        async with Gateway(target, budget=fast_budget(), options=GatewayOptions(max_attempts=1)) as gateway:
            executions = await gateway.list_pipeline_executions("catalog-service")
            commits = [e for e in executions if e.trigger_type == "WebhookV2" and e.revision is not None]
            assert commits
            for execution in commits:
                assert execution.revision is not None
                assert execution.revision.summary in messages
            latest = commits[0]
            detail = await gateway.get_pipeline_execution("catalog-service", latest.id)

    assert detail.revision is not None
    assert latest.revision is not None
    assert detail.revision.summary == latest.revision.summary
    assert not detail.revision.summary.startswith("{")


def test_other_revision_summaries_are_kept_as_aws_gave_them() -> None:
    message = '{"ProviderType":"GitHub","CommitMessage":"Fix rounding\\n\\nLonger body"}'
    kept = (
        "Merge branch 'main' {into} release",  # CodeCommit: plain text
        '{"ProviderType":"GitHub"}',  # JSON without a commit message
        '{"ProviderType": "GitHub", "CommitMessage": ',  # cut short
        "[1, 2]",
        "",
    )

    def summary(text: str) -> str:
        item = {"pipelineExecutionId": "e1", "sourceRevisions": [{"actionName": "Source", "revisionSummary": text}]}
        revision = convert.pipeline_execution(item).revision
        assert revision is not None
        return revision.summary

    assert summary(message) == "Fix rounding\n\nLonger body"
    for text in kept:
        assert summary(text) == text
