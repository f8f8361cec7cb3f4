"""Push for a team: consoles on one account each subscribe a queue of their own to the events topic.

Against the sandbox (its rule publishes every event to the topic `wavedeck-events`): two watchers both get
every transition by push, each removes its queue and subscription when it stops, and a queue left by a
console that crashed is removed by the next one once its expiry has passed.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.config import Intervals
from console.model import TargetStatus
from console.polling.fanout import EXPIRES_TAG, OWNER_TAG, QUEUE_PREFIX, queue_name
from console.sandbox.fleetgen import write_fleet
from console.sandbox.quotas import STATS_PATH
from console.sandbox_process import start_sandbox_process
from console.stepfunctions.source import StateMachineSource
from tests.conftest import SPEED, make_client
from tests.core.test_watch_support import REGION, watching, write_watch_fleet

TOPIC = f"arn:aws:sns:{REGION}:123456789012:wavedeck-events"


def _throttled(url: str) -> dict[str, int]:
    """Per API of the watchers' region, the requests the sandbox answered with ThrottlingException."""
    with urllib.request.urlopen(url + STATS_PATH, timeout=10) as answer:
        buckets = json.load(answer)["buckets"]
    return {b["api"]: b["refused"] for b in buckets if b["region"] == REGION and b["refused"]}


def test_queue_names_fit_sqs_and_say_whose() -> None:
    name = queue_name("ana maría", "bastion-01.prod.example", "1a2b3c4d")
    assert name == "wavedeck-c-ana-mar-a-bastion-01-prod-example-1a2b3c4d"
    long = queue_name("u" * 200, "h" * 200)
    assert len(long) <= 80
    assert long.startswith(QUEUE_PREFIX)


def _console_queues(sqs: Any) -> list[str]:
    return list(sqs.list_queues(QueueNamePrefix=QUEUE_PREFIX).get("QueueUrls", []))


def _subscriptions(sns: Any) -> list[dict[str, Any]]:
    return list(sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"])


async def test_two_consoles_each_get_every_transition_and_leave_nothing_behind(tmp_path: Path) -> None:
    directory = write_watch_fleet(tmp_path / "fleet")
    intervals = Intervals(focused=0.2, background=1.0, lists=2.0, push_safety_net=60.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        sqs, sns = make_client(sandbox.url, "sqs"), make_client(sandbox.url, "sns")
        # A console that crashed two hours ago left its queue and subscription behind.
        stale = sqs.create_queue(
            QueueName=f"{QUEUE_PREFIX}gone-host-00000000",
            tags={
                OWNER_TAG: "gone@host",
                EXPIRES_TAG: (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )["QueueUrl"]
        stale_arn = sqs.get_queue_attributes(QueueUrl=stale, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=stale_arn)
        async with AsyncExitStack() as stack:
            consoles = [
                await stack.enter_async_context(watching(sandbox.url, intervals, push_wait=1, topic=True))
                for _ in range(2)
            ]

            def status(watcher: Any) -> TargetStatus:
                return next(t for t in watcher.state.targets)

            for watcher, updates, _ in consoles:
                await watcher.wait_ready(30)
                await updates.until(lambda w=watcher: status(w).push == "on", 15, "the console's queue to work")
                await watcher.refresh()
            # The second console counted both on the topic, and takes half of three quarters of each shared read.
            second, second_updates, second_gateway = consoles[1]
            name = second.state.targets[0].target.name
            # It counts before subscribing and again 2, 4, 8 s after: the first console may subscribe in between.
            await second_updates.until(lambda: second._push.teams == {name: 2}, 15, "the team of two")
            assert second_gateway.budget.rate("GetPipelineState") == 0.75 / 2 * 10
            mine = _console_queues(sqs)
            assert stale not in mine, "the expired queue of a console that is gone was removed"
            assert len(mine) == 2
            assert {s["Endpoint"] for s in _subscriptions(sns)} >= {
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                for url in mine
            }
            assert stale_arn not in {s["Endpoint"] for s in _subscriptions(sns)}
            tags = sqs.list_queue_tags(QueueUrl=mine[0])["Tags"]
            assert "@" in tags[OWNER_TAG]
            assert datetime.strptime(tags[EXPIRES_TAG], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) > datetime.now(UTC)

            # What each console reads from here on: the events carry the run, so nothing of orders-api's state.
            reads_before = [dict(gateway.stats.requests) for _, _, gateway in consoles]
            execution = (await asyncio.to_thread(codepipeline.start_pipeline_execution, name="orders-api"))[
                "pipelineExecutionId"
            ]
            for _, updates, _ in consoles:
                await updates.until(
                    lambda u=updates: any(
                        t.execution == execution and t.kind == "pipeline-execution" and t.to_status == "Succeeded"
                        for t in u.transitions
                    ),
                    45,
                    "the run to succeed on each console",
                )
            for (_, updates, gateway), before in zip(consoles, reads_before, strict=True):
                ours = [t for t in updates.transitions if t.execution == execution]
                # Each console got the events itself: nothing waited for the 60-second safety net, and every
                # transition came from an event's own state, with no re-read of the pipeline per console.
                assert {t.source for t in ours} == {"push"}
                assert [t.to_status for t in ours if t.kind == "pipeline-execution"] == ["InProgress", "Succeeded"]
                assert any(t.kind == "stage" and t.to_status == "Succeeded" for t in ours)
                for api in ("GetPipelineState", "GetPipeline", "ListPipelineExecutions"):
                    assert gateway.stats.requests[api] == before.get(api, 0), f"{api} was read again"
        # Both consoles stopped: their queues and subscriptions went with them.
        assert _console_queues(sqs) == []
        assert [s for s in _subscriptions(sns) if QUEUE_PREFIX in s["Endpoint"]] == []


async def test_consoles_opened_together_count_each_other_before_they_spend_the_accounts_burst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A console alone may burst three quarters of the account's bucket: 187 of GetPipelineState's 250, 15 of
    # GetPipeline's 20. Four opened at once, each counting itself alone, read ~80 pipelines each at once and
    # are throttled (without the wait: 55 GetPipelineState and 9 GetPipeline refused). Each waits until it has
    # counted the team with its own queue subscribed, then bursts a quarter of that. The watchers use an
    # operator's key: the sandbox never refuses its own.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "operator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    directory = write_fleet(tmp_path / "fleet", pipelines=160, commit_interval="30m")
    intervals = Intervals(focused=0.5, background=2.0, lists=5.0, push_safety_net=60.0)
    with start_sandbox_process(
        speed=SPEED, seed=7, traffic=False, warm_up=False, quotas=True, definitions=directory
    ) as sandbox:
        async with AsyncExitStack() as stack:
            opened = (watching(sandbox.url, intervals, push_wait=1, topic=True, operator=True) for _ in range(4))
            consoles = await asyncio.gather(*(stack.enter_async_context(each) for each in opened))
            for watcher, updates, _ in consoles:
                name = watcher.state.targets[0].target.name
                await updates.until(lambda w=watcher, n=name: w._push.teams.get(n) == 4, 20, "the team of four")
            for _, updates, gateway in consoles:
                await updates.until(
                    lambda g=gateway: g.stats.requests["GetPipeline"] >= 6, 30, "structures read past the burst"
                )
            assert await asyncio.to_thread(_throttled, sandbox.url) == {}
            for _, _, gateway in consoles:
                assert gateway.budget.rate("GetPipeline") == pytest.approx(0.75 / 4 * 2)


async def team_of_two(stack: AsyncExitStack, url: str, intervals: Intervals) -> list[Any]:
    """Two consoles on the sandbox's topic, ready, each having counted the other (so each shares its reads)."""
    consoles = [await stack.enter_async_context(watching(url, intervals, push_wait=1, topic=True)) for _ in range(2)]
    name = consoles[0][0].state.targets[0].target.name
    for watcher, updates, _ in consoles:
        await watcher.wait_ready(30)
        await updates.until(lambda w=watcher: w._push.teams.get(name) == 2, 20, "the team of two")
    return consoles


def subscribe_probe(sqs: Any, sns: Any) -> str:
    """A queue of the test's own on the topic: what the topic carries, as any subscriber of the account sees it."""
    url = str(sqs.create_queue(QueueName="probe")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def drain(sqs: Any, url: str) -> list[str]:
    """Every message body in the queue, read and deleted."""
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [m["Body"] for m in messages]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return bodies


async def test_what_one_console_reads_the_others_apply_without_reading_it(tmp_path: Path) -> None:
    # A transition disabled is in no event: each console saw it only when it read the pipeline itself. Now the
    # console that reads it shares the read on the topic, and the other applies it as its own (source `team`).
    directory = write_watch_fleet(tmp_path / "fleet")
    # Nothing reads again on its own within the test: what the second console learns, it learns from the first.
    slow = Intervals(focused=600.0, background=600.0, lists=600.0, push_safety_net=600.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        async with AsyncExitStack() as stack:
            consoles = await team_of_two(stack, sandbox.url, slow)
            (reader, reader_updates, _), (other, other_updates, other_gateway) = consoles
            name = reader.state.targets[0].target.name
            key = f"{name}:orders-api"

            def beta(updates: Any) -> Any:
                pipeline = updates.state.of("codepipeline").get(key)
                return None if pipeline is None else next(s for s in pipeline.stages if s.name == "Beta")

            await other_updates.until(lambda: beta(other_updates) is not None, 20, "orders-api read once")
            assert beta(other_updates).inbound.enabled
            reads = other_gateway.stats.requests["GetPipelineState"]
            await asyncio.to_thread(
                codepipeline.disable_stage_transition,
                pipelineName="orders-api",
                stageName="Beta",
                transitionType="Inbound",
                reason="INC-4711 5xx in gamma",
            )
            mark = len(other_updates.transitions)
            await reader.refresh([key])
            assert not beta(reader_updates).inbound.enabled
            told = await other_updates.until(
                lambda: [t for t in other_updates.about("orders-api/Beta", mark) if t.to_status == "Disabled"],
                10,
                "the pause told on the console that did not read it",
            )
            assert told[0].source == "team"
            assert "INC-4711 5xx in gamma" in told[0].detail
            assert not beta(other_updates).inbound.enabled
            assert other_gateway.stats.requests["GetPipelineState"] == reads, "it read the pipeline itself"
            assert other._push.team_reads.stats.applied >= 1
            assert reader._push.team_reads.stats.published >= 1
            # Its own reads it never applies again: none came back to the reader.
            assert reader._push.team_reads.stats.received <= other._push.team_reads.stats.published


async def test_a_shared_read_of_a_waiting_approval_carries_no_token_and_each_console_keeps_its_own(
    tmp_path: Path,
) -> None:
    directory = write_watch_fleet(tmp_path / "fleet")
    intervals = Intervals(focused=0.5, background=600.0, lists=600.0, push_safety_net=600.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        sqs, sns = make_client(sandbox.url, "sqs"), make_client(sandbox.url, "sns")
        probe = subscribe_probe(sqs, sns)
        async with AsyncExitStack() as stack:
            consoles = await team_of_two(stack, sandbox.url, intervals)
            name = consoles[0][0].state.targets[0].target.name
            key = f"{name}:gated-api"
            for watcher, _, _ in consoles:
                watcher.focus([key])
            await asyncio.to_thread(codepipeline.start_pipeline_execution, name="gated-api")
            state = await asyncio.to_thread(codepipeline.get_pipeline_state, name="gated-api")

            def token_of(updates: Any) -> str | None:
                pipeline = updates.state.of("codepipeline").get(key)
                stage = pipeline.stage("Prod-Canary") if pipeline is not None else None
                action = stage.awaiting_approval if stage is not None else None
                return None if action is None else action.token

            tokens = []
            for _, updates, _ in consoles:
                tokens.append(await updates.until(lambda u=updates: token_of(u), 60, "the approval with its token"))
            state = await asyncio.to_thread(codepipeline.get_pipeline_state, name="gated-api")
            assert [
                a["latestExecution"]["token"]
                for s in state["stageStates"]
                for a in s.get("actionStates", ())
                if a.get("latestExecution", {}).get("token")
            ] == tokens[:1]
            # Each console reads the pipeline again and shares it; the other applies it and keeps its token.
            applied = [watcher._push.team_reads.stats.applied for watcher, _, _ in consoles]
            for watcher, _, _ in consoles:
                await watcher.refresh([key])
            for (watcher, updates, _), before in zip(consoles, applied, strict=True):
                await updates.until(
                    lambda w=watcher, n=before: w._push.team_reads.stats.applied > n, 10, "the other's read applied"
                )
                assert token_of(updates) == tokens[0]
        bodies = drain(sqs, probe)
        shared = [body for body in bodies if '"shared-read"' in body and "gated-api" in body]
        assert shared, "the consoles shared their reads of gated-api"
        assert any("ApproveProduction" in body and "InProgress" in body for body in shared)
        for body in bodies:
            assert tokens[0] not in body


async def test_a_new_version_read_by_one_console_reaches_the_other_without_its_own_get_pipeline(
    tmp_path: Path,
) -> None:
    directory = write_watch_fleet(tmp_path / "fleet")
    slow = Intervals(focused=600.0, background=600.0, lists=600.0, push_safety_net=600.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        async with AsyncExitStack() as stack:
            consoles = await team_of_two(stack, sandbox.url, slow)
            (reader, _, _), (other, other_updates, other_gateway) = consoles
            name = reader.state.targets[0].target.name
            key = f"{name}:orders-api"
            await other_updates.until(
                lambda: (p := other_updates.state.of("codepipeline").get(key)) is not None and p.version == 1,
                20,
                "orders-api's first version on the other console",
            )
            structure = (await asyncio.to_thread(codepipeline.get_pipeline, name="orders-api"))["pipeline"]
            beta = next(s for s in structure["stages"] if s["name"] == "Beta")
            beta["actions"].append({**beta["actions"][-1], "name": "SmokeTests", "runOrder": 3})
            await asyncio.to_thread(codepipeline.update_pipeline, pipeline=structure)
            reads = dict(other_gateway.stats.requests)
            await reader.refresh([key])

            def smoke_on_the_other() -> bool:
                pipeline = other_updates.state.of("codepipeline").get(key)
                stage = None if pipeline is None else pipeline.stage("Beta")
                return stage is not None and pipeline.version == 2 and "SmokeTests" in [a.name for a in stage.actions]

            try:
                await other_updates.until(smoke_on_the_other, 10, "version 2 on the console that did not read it")
            except AssertionError as exc:  # what each console shared and applied, to tell why
                slot = other._ctx.runs[name].of("codepipeline")["orders-api"]
                raise AssertionError(
                    f"{exc}; shared reads: the reader's {reader._push.team_reads.stats}, the other's "
                    f"{other._push.team_reads.stats}; the other's state v{getattr(slot.state, 'version', None)} "
                    f"and structure v{getattr(slot.structure, 'version', None)}; teams {reader._push.teams}, "
                    f"{other._push.teams}"
                ) from None
            pipeline = other_updates.state.of("codepipeline")[key]
            smoke = next(a for a in pipeline.stage("Beta").actions if a.name == "SmokeTests")
            assert (smoke.category, smoke.provider, smoke.run_order) == ("Test", "CodeBuild", 3)
            assert pipeline.stage("Beta").wave.name == "beta"  # placed by its own wave model
            assert pipeline.target == name
            for api in ("GetPipeline", "GetPipelineState"):
                assert other_gateway.stats.requests[api] == reads.get(api, 0), f"it sent {api} itself"


async def test_a_history_one_console_reads_reaches_the_other_without_its_task_token(tmp_path: Path) -> None:
    # No event says which states a Step Functions execution enters: a console that follows the execution in
    # detail reads its history often, and shares what is new (redacted as it keeps it); the other applies it.
    directory = write_watch_fleet(tmp_path / "fleet")
    intervals = Intervals(focused=0.3, background=600.0, lists=600.0, push_safety_net=600.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        sfn, sqs, sns = (make_client(sandbox.url, service) for service in ("stepfunctions", "sqs", "sns"))
        probe = subscribe_probe(sqs, sns)
        async with AsyncExitStack() as stack:
            consoles = await team_of_two(stack, sandbox.url, intervals)
            (follower, _, _), (other, other_updates, _) = consoles
            name = follower.state.targets[0].target.name
            machine = next(
                m["stateMachineArn"]
                for m in sfn.list_state_machines()["stateMachines"]
                if m["name"] == "wave-deployment"
            )
            document = {"service": "orders", "revision": "c0ffee1234", "seed": 1}
            arn = (await asyncio.to_thread(sfn.start_execution, stateMachineArn=machine, input=json.dumps(document)))[
                "executionArn"
            ]
            follower.watch_execution(name, arn)

            def shared_states() -> list[Any]:
                return [t for t in other_updates.transitions if t.execution == arn and t.kind == "sfn-state"]

            await other_updates.until(
                lambda: any(t.source == "team" for t in shared_states()), 30, "states the follower read, on the other"
            )
            await other_updates.until(
                lambda: any(a.execution == arn for a in other_updates.state.approvals),
                60,
                "the approval it waits for, in the other's inbox",
            )
            assert other._push.team_reads.stats.applied >= 1
            # Its own next read takes the whole history again (the tokens came redacted: it must know them to
            # redact what follows), and tells nothing twice.
            source = next(s for s in other._sources if isinstance(s, StateMachineSource))
            cursor = source._history.cursor(arn)
            assert cursor is not None
            assert cursor.shared
            follower.watch_execution(name, None)
            await other.refresh()
            cursor = source._history.cursor(arn)
            assert cursor is not None
            assert not cursor.shared
            told = [(t.from_status, t.to_status, t.detail) for t in shared_states()]
            assert len(told) == len(set(told)), told
            history = (await asyncio.to_thread(sfn.get_execution_history, executionArn=arn))["events"]
            tokens = [
                json.loads(e["taskScheduledEventDetails"]["parameters"])["MessageBody"]["taskToken"]
                for e in history
                if e["type"] == "TaskScheduled" and "taskToken" in e["taskScheduledEventDetails"]["parameters"]
            ]
            assert tokens
        bodies = drain(sqs, probe)
        assert any('"GetExecutionHistory"' in body for body in bodies)
        for body in bodies:
            for token in tokens:
                assert token not in body


async def test_a_list_of_executions_one_console_reads_reaches_the_other_without_its_own_listing(
    tmp_path: Path,
) -> None:
    # A new execution's source revision is in no event: each console listed the executions itself to show it.
    directory = write_watch_fleet(tmp_path / "fleet")
    slow = Intervals(focused=600.0, background=600.0, lists=600.0, push_safety_net=600.0)
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as sandbox:
        codepipeline = make_client(sandbox.url, "codepipeline")
        async with AsyncExitStack() as stack:
            consoles = await team_of_two(stack, sandbox.url, slow)
            (reader, _, _), (other, other_updates, other_gateway) = consoles
            name = reader.state.targets[0].target.name
            key = f"{name}:orders-api"
            execution = (await asyncio.to_thread(codepipeline.start_pipeline_execution, name="orders-api"))[
                "pipelineExecutionId"
            ]

            def listed_on_the_other() -> Any:
                pipeline = other_updates.state.of("codepipeline").get(key)
                run = next((e for e in pipeline.executions if e.id == execution), None) if pipeline else None
                return run if run is not None and run.source_revisions else None

            await other_updates.until(
                lambda: any(t.execution == execution for t in other_updates.transitions), 20, "the run, by push"
            )
            assert not listed_on_the_other()  # the events say it runs, not what it runs
            reads = dict(other_gateway.stats.requests)
            await reader.refresh([key])
            run = await other_updates.until(listed_on_the_other, 10, "the run's revision on the other console")
            assert run.source_revisions[0].revision_id
            for api in ("ListPipelineExecutions", "GetPipelineState", "GetPipeline"):
                assert other_gateway.stats.requests[api] == reads.get(api, 0), f"it sent {api} itself"
