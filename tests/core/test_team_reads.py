"""Reads a team shares on its topic: the message, who publishes what, and how a console applies another's read.

The end-to-end case (two consoles on the sandbox's topic) is in tests/core/test_push_fanout.py; here the rules,
on the in-memory fleet of tests/core/test_push_apply.py and a topic that records what it is given.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console import cache_codec
from console.codepipeline.model import (
    Action,
    Pipeline,
    PipelineExecution,
    PipelineState,
    SourceRevision,
    Stage,
    pipelines_of,
)
from console.codepipeline.sharing import approvals_of, shared_payload, with_own_tokens
from console.codepipeline.source import PipelineSource
from console.errors import AccessDenied, Unavailable
from console.model import Target
from console.polling.slots import TargetRun
from console.polling.team_reads import BUNDLE_ROOM, TeamReads, TopicShare
from console.push import parse_event
from console.shared_reads import (
    BUNDLE_BYTES,
    MAX_BYTES,
    SharedRead,
    encode_bundle,
    encode_shared,
    parse_shared,
    parse_shared_reads,
)
from console.watch import Watcher
from tests.core.test_push_apply import RUN, STAGE, PushedFleet, started

NOW = datetime(2026, 12, 6, 9, 30, 0, 250000, tzinfo=UTC)


def _read(**changes: object) -> SharedRead:
    read = SharedRead(
        id="m-1",
        sender="c0ffee",
        account="123456789012",
        region="us-east-1",
        service="codepipeline",
        api="GetPipelineState",
        resource="orders-api",
        read_at=NOW,
        payload={"name": "orders-api", "version": 3, "stages": []},
    )
    return replace(read, **changes)  # type: ignore[arg-type]


# --- the message --------------------------------------------------------------------------------------------


def test_a_shared_read_goes_through_its_message_unchanged() -> None:
    read = _read()
    body = encode_shared(read)
    assert body is not None
    assert parse_shared(body) == read
    assert parse_event(body) is None  # not an event: a console that does not share reads ignores it


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"version": 2}, "a newer version of the message"),
        ({"wavedeck": "something-else"}, "another kind"),
        ({"account": ""}, "no account"),
        ({"payload": "not a mapping"}, "a payload of the wrong shape"),
        ({"read_at": "yesterday"}, "no time"),
        ({"read_at": "2026-12-06T09:30:00"}, "a time without its zone"),
    ],
)
def test_a_message_it_cannot_trust_is_ignored(change: dict[str, object], why: str) -> None:
    body = encode_shared(_read())
    assert body is not None
    document = {**json.loads(body), **change}
    assert parse_shared(json.dumps(document)) is None, why


def test_what_is_not_a_shared_read_is_ignored() -> None:
    event = {"version": "0", "id": "e", "source": "aws.codepipeline", "detail-type": STAGE, "detail": {}}
    assert parse_shared(json.dumps(event)) is None
    assert parse_shared('{"wavedeck": ') is None
    assert parse_shared("[]") is None


def test_a_read_too_large_for_sns_is_not_shared() -> None:
    assert encode_shared(_read(payload={"text": "x" * MAX_BYTES})) is None


def test_reads_sent_together_come_out_as_they_went_in() -> None:
    reads = [_read(id=f"m{index}", resource=f"svc-{index}", payload={"n": index}) for index in range(3)]
    bodies = [encode_shared(read) for read in reads]
    assert all(bodies)
    bundle = encode_bundle([body for body in bodies if body])
    assert parse_shared_reads(bundle) == tuple(reads)
    assert parse_shared(bundle) is None  # a console before bundles ignores it, as any kind it does not know
    # A read alone is the message a console before bundles reads.
    assert encode_bundle([bodies[0] or ""]) == bodies[0]
    assert parse_shared_reads(bodies[0] or "") == (reads[0],)
    # A malformed read in a bundle is left out, the others are not; a bundle of another version is ignored.
    document = json.loads(bundle)
    document["reads"][1]["sender"] = ""
    assert parse_shared_reads(json.dumps(document)) == (reads[0], reads[2])
    assert parse_shared_reads(json.dumps({**document, "version": 2})) == ()
    assert parse_shared_reads(json.dumps({**document, "reads": "no"})) == ()


# --- publishing and receiving -------------------------------------------------------------------------------


class RecordingTopic:
    def __init__(self, refuse: Exception | None = None, refusals: int | None = None) -> None:
        self.messages: list[SharedRead] = []  # every read published, in order
        self.bodies: list[str] = []  # the messages they went in
        self.refuse = refuse
        self.refusals = refusals  # how many calls it refuses (None: all)
        self.asked = 0
        self._asked = asyncio.Event()

    async def publish(self, topic_arn: str, message: str, /) -> None:
        self.asked += 1
        self._asked.set()
        if self.refuse is not None and (self.refusals is None or self.asked <= self.refusals):
            raise self.refuse
        reads = parse_shared_reads(message)
        assert reads
        self.bodies.append(message)
        self.messages.extend(reads)

    async def asked_times(self, count: int, reads: TeamReads, share: TopicShare) -> None:
        """Let `reads` publish until the topic has been asked `count` times (its answer given)."""
        task = asyncio.get_running_loop().create_task(reads.publishing(share))
        try:
            async with asyncio.timeout(5):
                while self.asked < count:
                    self._asked.clear()
                    await self._asked.wait()
                await asyncio.sleep(0)  # its answer handled
        finally:
            task.cancel()


class RecordingSource:
    service = "codepipeline"

    def __init__(self) -> None:
        self.applied: list[tuple[str, str]] = []

    def apply_shared(
        self, run: TargetRun, api: str, resource: str, payload: dict[str, object], read_at: datetime
    ) -> bool:
        self.applied.append((run.target.name, resource))
        return True


def _run(name: str, region: str = "us-east-1") -> TargetRun:
    return TargetRun(target=Target(name=name, region=region), reader=None, gate=None)  # type: ignore[arg-type]


TOPIC = "arn:aws:sns:us-east-1:123456789012:wavedeck-events"


def _joined(topic: RecordingTopic, *runs: TargetRun, source: object = None) -> tuple[TeamReads, TopicShare]:
    """A console in a team of two on the topic, sharing these targets' reads (and applying them to `source`)."""
    reads = TeamReads([] if source is None else [source], lambda name: 2)
    return reads, reads.join(TOPIC, "123456789012", topic, runs)


async def test_a_console_alone_publishes_nothing_and_a_team_gets_the_newest_read_of_each_resource() -> None:
    team = {"prod/us-east-1": 1}
    reads = TeamReads([RecordingSource()], lambda name: team.get(name, 1))
    topic = RecordingTopic()
    run = _run("prod/us-east-1")
    share = reads.join(TOPIC, "123456789012", topic, [run])
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW, lambda: {"n": 1})
    assert not share.pending  # alone: nobody to tell
    team["prod/us-east-1"] = 3
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW, lambda: {"n": 2})
    reads.offer(run, "codepipeline", "GetPipelineState", "ledger-api", NOW, lambda: {"n": 3})
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW + timedelta(seconds=1), lambda: {"n": 4})
    await topic.asked_times(1, reads, share)
    assert [(m.resource, m.payload) for m in topic.messages] == [("ledger-api", {"n": 3}), ("orders-api", {"n": 4})]
    assert {(m.account, m.region, m.sender) for m in topic.messages} == {("123456789012", "us-east-1", reads.sender)}
    assert len({m.id for m in topic.messages}) == 2
    # What waited went together: one message, two reads.
    assert len(topic.bodies) == 1
    assert (reads.stats.published, reads.stats.messages) == (2, 1)


async def test_a_topic_that_refuses_publishing_is_not_asked_again() -> None:
    topic = RecordingTopic(refuse=AccessDenied("not authorized to perform: SNS:Publish", target="prod"))
    run = _run("prod/us-east-1")
    reads, share = _joined(topic, run)
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW, dict)
    await topic.asked_times(1, reads, share)
    assert share.off is not None
    assert "SNS:Publish" in share.off
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW, dict)
    assert not share.pending


async def test_a_publish_that_fails_is_counted_and_the_next_goes() -> None:
    topic = RecordingTopic(refuse=Unavailable("endpoint unreachable", target="prod"), refusals=1)
    run = _run("prod/us-east-1")
    reads, share = _joined(topic, run)
    reads.offer(run, "codepipeline", "GetPipelineState", "orders-api", NOW, dict)
    reads.offer(run, "codepipeline", "GetPipelineState", "ledger-api", NOW, dict)
    await topic.asked_times(1, reads, share)  # both in one message, refused
    reads.offer(run, "codepipeline", "GetPipelineState", "billing-api", NOW, dict)
    await topic.asked_times(2, reads, share)
    assert (reads.stats.failed, reads.stats.published) == (2, 1)
    assert [m.resource for m in topic.messages] == ["billing-api"]
    assert share.off is None


def test_the_others_reads_reach_the_targets_of_their_account_and_region_never_its_own() -> None:
    source = RecordingSource()
    east, west = _run("prod/us-east-1"), _run("prod/us-west-2", "us-west-2")
    reads, _ = _joined(RecordingTopic(), east, west, source=source)
    reads.receive(
        [east, west],
        [
            _read(id="1"),
            _read(id="2", sender=reads.sender),  # its own, back from the topic
            _read(id="3", account="210987654321"),  # another account's pipeline of the same name
            _read(id="4", region="us-west-2", resource="ledger-api"),
            _read(id="5", service="states"),  # a service that shares nothing here
        ],
    )
    assert source.applied == [("prod/us-east-1", "orders-api"), ("prod/us-west-2", "ledger-api")]
    assert (reads.stats.received, reads.stats.applied, reads.stats.unused) == (4, 2, 2)


def test_a_read_that_cannot_be_applied_is_skipped_and_the_others_still_are() -> None:
    class Breaking(RecordingSource):
        def apply_shared(
            self, run: TargetRun, api: str, resource: str, payload: dict[str, object], read_at: datetime
        ) -> bool:
            if resource == "broken":
                raise TypeError("a payload no version of this console wrote")
            return super().apply_shared(run, api, resource, payload, read_at)

    source = Breaking()
    east = _run("prod/us-east-1")
    reads, _ = _joined(RecordingTopic(), east, source=source)
    reads.receive([east], [_read(id="1", resource="broken"), _read(id="2")])
    assert source.applied == [("prod/us-east-1", "orders-api")]
    assert (reads.stats.applied, reads.stats.unused) == (1, 1)


# --- applying another console's read ------------------------------------------------------------------------

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)


def _fleet() -> PushedFleet:
    fleet = PushedFleet()
    deploy = Action(name="Deploy", category="Deploy", provider="CodeDeploy", status="Succeeded", last_status_change=T0)
    fleet.pipelines["p"] = [Stage(name="Beta", status="Succeeded", execution_id="old", actions=(deploy,))]
    return fleet


def _state(status: str, execution: str, changed: datetime) -> dict[str, object]:
    deploy = Action(name="Deploy", status=status, last_status_change=changed)
    stage = Stage(name="Beta", status=status, execution_id=execution, actions=(deploy,))
    return cache_codec.encode(PipelineState(name="p", version=1, stages=(stage,)))


def _source(watcher: Watcher) -> tuple[PipelineSource, TargetRun]:
    """The pipelines' source and the run of a watcher on a queue, as if on a team's topic (which shares reads)."""
    watcher._ctx.sharing = watcher._push.team_reads
    source = next(s for s in watcher._sources if isinstance(s, PipelineSource))
    return source, watcher._ctx.runs["fake"]


async def test_another_consoles_read_is_applied_as_a_read_unless_it_is_older() -> None:
    fleet = _fleet()
    watcher, updates = await started(fleet)
    try:
        source, run = _source(watcher)
        reads = dict(fleet.calls)
        mark = len(updates.transitions)
        # Read before this console's own (AWS's times say so): it would take back what this console shows.
        assert not source.apply_shared(
            run, "GetPipelineState", "p", _state("Failed", "old", T0 - timedelta(seconds=30)), NOW
        )
        assert pipelines_of(watcher.state)["fake:p"].stage("Beta").status == "Succeeded"  # type: ignore[union-attr]
        # A newer one is told like a read of its own, as the team's.
        slot = run.of("codepipeline")["p"]
        slot.last_start = 0.0  # as if its last read of its own were long ago: the next is due now
        newer = T0 + timedelta(seconds=30)
        assert source.apply_shared(
            run, "GetPipelineState", "p", _state("InProgress", RUN, newer), datetime.now(UTC) + timedelta(hours=1)
        )
        await updates.until(lambda: len(updates.transitions) > mark, 5, "the shared read told")
        beta = pipelines_of(watcher.state)["fake:p"].stage("Beta")
        assert beta is not None
        assert (beta.status, beta.execution_id) == ("InProgress", RUN)
        told = [t for t in updates.since(mark) if t.kind == "stage"]
        assert [(t.execution, t.to_status, t.source) for t in told] == [(RUN, "InProgress", "team")]
        # Its age is the sender's read, but never in this console's future (their clocks may differ).
        assert pipelines_of(watcher.state)["fake:p"].read_at <= datetime.now(UTC)  # type: ignore[operator]
        # Its own next read waits at least half its interval again, from now (the rest is spread at random).
        interval = watcher._ctx.schedule.interval(slot.key, slot.target)
        assert slot.last_start is not None
        assert slot.last_start >= asyncio.get_running_loop().time() - 0.5 * interval - 0.1
        # Unknown pipelines and payloads of another shape are not used.
        assert not source.apply_shared(run, "GetPipelineState", "gone", _state("InProgress", RUN, newer), NOW)
        assert not source.apply_shared(run, "GetPipelineState", "p", {"stages": "?"}, NOW)
        assert not source.apply_shared(
            run, "GetPipelineState", "p", {**_state("InProgress", RUN, newer), "name": "q"}, NOW
        )
        for api in ("GetPipelineState", "GetPipeline"):
            assert fleet.calls[f"{api}:p"] == reads.get(f"{api}:p", 0)
    finally:
        await watcher.stop()


async def test_a_late_read_of_the_version_before_never_takes_the_place_of_a_newer_one() -> None:
    """An update of the pipeline changes no action's time: a teammate's read of the version before, late on the
    queue, looks as new as this console's read of the new version by AWS's times. It is older all the same, and
    the read this console has yet to share (once it has the new version's structure) stays to be shared."""
    fleet = _fleet()
    watcher, _ = await started(fleet)
    try:
        source, run = _source(watcher)
        slot = run.of("codepipeline")["p"]
        assert slot.state is not None
        own = replace(slot.state, version=2)
        slot.take_state(own)
        slot.unshared = own  # read, waiting for version 2's structure before it is shared
        late = _state("Succeeded", "old", T0)  # version 1, the very times of this console's read
        assert not source.apply_shared(run, "GetPipelineState", "p", late, NOW)
        assert slot.state.version == 2
        assert slot.unshared is own
    finally:
        await watcher.stop()


async def test_an_event_newer_than_a_shared_read_is_laid_over_it_again() -> None:
    fleet = _fleet()
    watcher, updates = await started(fleet)
    try:
        source, run = _source(watcher)
        now = datetime.now(UTC)
        # The stage ends (an event); then a teammate's read, sent before it ended, arrives.
        fleet.push("e1", STAGE, now + timedelta(seconds=2), stage="Beta", state="SUCCEEDED")
        await updates.until(
            lambda: any(t.kind == "stage" and t.execution == RUN for t in updates.transitions), 5, "the event"
        )
        mark, published = len(updates.transitions), len(updates.updates)
        assert source.apply_shared(run, "GetPipelineState", "p", _state("InProgress", RUN, now), now)
        await updates.until(lambda: len(updates.updates) > published, 5, "the shared read published")
        beta = pipelines_of(watcher.state)["fake:p"].stage("Beta")
        assert beta is not None
        assert (beta.status, beta.execution_id) == ("Succeeded", RUN)
        assert [t for t in updates.since(mark) if t.kind == "stage"] == []  # nothing taken back
    finally:
        await watcher.stop()


# --- no token leaves the console ----------------------------------------------------------------------------


def _approval(status: str = "InProgress", token: str | None = "tok-1", execution: str = "ax-1") -> Action:
    # As GetPipelineState gives it: no category; a parallel approval's external id is its token.
    return Action(
        name="Approve", status=status, token=token, action_execution_id=execution, external_execution_id=token
    )


def _gate(*actions: Action, execution: str = RUN) -> PipelineState:
    return PipelineState(
        name="p", version=1, stages=(Stage(name="Gate", status="InProgress", execution_id=execution, actions=actions),)
    )


APPROVALS = frozenset({("Gate", "Approve")})


def test_a_shared_read_carries_no_approval_token() -> None:
    deploy = Action(name="Deploy", external_execution_id="d-123", token="not-an-approval-but-a-token")
    payload = shared_payload(_gate(_approval(), deploy), APPROVALS)
    assert "tok-1" not in json.dumps(payload)
    assert "not-an-approval-but-a-token" not in json.dumps(payload)
    shared = cache_codec.decode(PipelineState, payload)
    approve, kept = shared.stages[0].actions
    assert (approve.token, approve.external_execution_id, approve.status) == (None, None, "InProgress")
    assert kept.external_execution_id == "d-123"  # a deployment's id is no token


def test_which_actions_are_approvals_comes_from_the_structure_of_the_same_version() -> None:
    approve = Action(name="Approve", category="Approval", provider="Manual")
    deploy = Action(name="Deploy", category="Deploy", provider="CodeDeploy")
    structure = Pipeline(target="t", name="p", version=1, stages=(Stage(name="Gate", actions=(approve, deploy)),))
    assert approvals_of(structure, _gate()) == APPROVALS
    assert approvals_of(structure, replace(_gate(), version=2)) is None  # a new version may have new approvals
    assert approvals_of(None, _gate()) is None


def test_a_console_keeps_its_own_token_for_the_same_approval_and_reads_a_new_one() -> None:
    shared = cache_codec.decode(PipelineState, shared_payload(_gate(_approval()), APPROVALS))
    mine = _gate(_approval(token="my-token"))
    for approvals in (APPROVALS, None):
        state, unknown = with_own_tokens(mine, shared, approvals)
        assert (state.stages[0].actions[0].token, unknown) == ("my-token", False)
    # Another run's approval, another execution of the action, or one this console has not seen: read it.
    for own in (None, _gate(_approval(token="old"), execution="older-run"), _gate(_approval(execution="ax-0"))):
        state, unknown = with_own_tokens(own, shared, APPROVALS)
        assert state.stages[0].actions[0].token is None
        assert unknown
    # An approval done is no approval waiting, and an action that is no approval has no token: nothing to read.
    done = cache_codec.decode(
        PipelineState, shared_payload(_gate(_approval(status="Succeeded", token=None)), APPROVALS)
    )
    assert with_own_tokens(None, done, APPROVALS)[1] is False
    assert with_own_tokens(None, shared, frozenset())[1] is False


def _listing(*executions: PipelineExecution) -> dict[str, object]:
    return {"executions": [cache_codec.encode(e) for e in executions], "signature": [["Beta", "old", "Succeeded", []]]}


async def test_a_shared_listing_never_takes_back_a_run_or_a_status_this_console_knows_later() -> None:
    fleet = _fleet()
    earlier = PipelineExecution(id="old", status="Succeeded", started=T0, updated=T0 + timedelta(seconds=5))
    fleet.executions["p"] = [
        PipelineExecution(
            id=RUN, status="Failed", started=T0 + timedelta(seconds=60), updated=T0 + timedelta(seconds=90)
        ),
        earlier,
    ]
    watcher, _ = await started(fleet)
    try:
        source, run = _source(watcher)
        slot = run.of("codepipeline")["p"]
        # Listed before RUN started: it does not know it.
        assert not source.apply_shared(run, "ListPipelineExecutions", "p", _listing(earlier), NOW)
        assert [e.id for e in slot.executions] == [RUN, "old"]
        # Listed while RUN ran: RUN keeps the end this console saw after that listing, with the listing's revision.
        revision = SourceRevision(action_name="Source", revision_id="c0ffee1")
        running = PipelineExecution(
            id=RUN,
            status="InProgress",
            started=T0 + timedelta(seconds=60),
            updated=T0 + timedelta(seconds=70),
            source_revisions=(revision,),
        )
        assert source.apply_shared(run, "ListPipelineExecutions", "p", _listing(running, earlier), NOW)
        kept = slot.executions[0]
        assert (kept.status, kept.source_revisions) == ("Failed", (revision,))
        assert slot.signature == (("Beta", "old", "Succeeded", ()),)
        assert not source.apply_shared(run, "ListPipelineExecutions", "p", {"executions": "?"}, NOW)
    finally:
        await watcher.stop()


def test_a_topic_left_shares_nothing_more_either_way() -> None:
    source = RecordingSource()
    east = _run("prod/us-east-1")
    reads, share = _joined(RecordingTopic(), east, source=source)
    reads.leave(share)
    reads.offer(east, "codepipeline", "GetPipelineState", "orders-api", NOW, dict)
    reads.receive([east], [_read()])
    assert not share.pending
    assert source.applied == []


async def test_a_bundle_fills_one_chunk_at_most_and_keeps_the_order() -> None:
    topic = RecordingTopic()
    run = _run("prod/us-east-1")
    reads, share = _joined(topic, run)
    text = "x" * (BUNDLE_BYTES // 3)  # three fit in no bundle: two do
    for index in range(5):
        reads.offer(run, "codepipeline", "GetPipeline", f"svc-{index}", NOW, lambda: {"text": text})
    reads.offer(run, "codepipeline", "GetPipeline", "huge", NOW, lambda: {"text": "y" * (BUNDLE_BYTES * 2)})
    await topic.asked_times(4, reads, share)
    assert [m.resource for m in topic.messages] == ["svc-0", "svc-1", "svc-2", "svc-3", "svc-4", "huge"]
    sizes = [len(body.encode()) for body in topic.bodies]
    assert [len(parse_shared_reads(body)) for body in topic.bodies] == [2, 2, 1, 1]
    assert all(size <= BUNDLE_BYTES for size in sizes[:3])
    assert len(encode_bundle(["", ""])) + 1 < BUNDLE_BYTES - BUNDLE_ROOM  # the room left is the envelope's
    assert sizes[3] > BUNDLE_BYTES  # larger than a chunk, under SNS's limit: alone
    assert (reads.stats.published, reads.stats.messages) == (6, 4)
