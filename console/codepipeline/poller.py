"""The pipeline poller: GetPipelineState every interval, merged with the structure and the executions.

GetPipeline is read only when the pipeline's version changes, ListPipelineExecutions only when the state
shows a new or changed execution. Those two have small budgets: a read publishes the fresh state at once
and fetches them behind it, in line, so a large fleet shows every pipeline's stages within seconds of
starting and a pipeline's GetPipelineState is never held up by them; an urgent read, or one of what is on
screen when their budget is free, fetches them first, so that what it tells comes in order.

A pushed event is laid over the state and executions last read (`apply_event`, console/codepipeline/events.py)
and published at once, without a read; a read sent before an event came gets that event laid over it again.

On a team's topic every GetPipelineState this console makes is offered to the others (`console/shared_reads.py`),
and what another console read is applied here like a read of this console's own (`apply_shared`), unless it is
older than what this console has; its own next read then waits its interval again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from console import cache_codec
from console.codepipeline import slots
from console.codepipeline.approvals import condition_holds, pipeline_approvals
from console.codepipeline.events import apply_pipeline_event, newer_than_read, pipeline_item, told_alone
from console.codepipeline.model import SERVICE, Pipeline, PipelineExecution, PipelineState, Stage, reusing
from console.codepipeline.sharing import approvals_of, shared_payload, with_own_tokens
from console.codepipeline.slots import PipelineSlot
from console.diff import pipeline_transitions
from console.errors import AccessDenied, AwsError, InvalidInput, NotFound, one_line, state_unavailable
from console.polling.context import WatchContext
from console.polling.events_apply import event_order
from console.polling.gate import Priority
from console.polling.slots import TargetRun, on_the_wire
from console.push import PushEvent
from console.scheduler import FOCUSED, PUSH, RETIME, URGENT, backoff
from console.shared_reads import TEAM

LOG = logging.getLogger(__name__)

PIPELINE_EXECUTIONS_LISTED = 20  # newest pipeline executions listed (one ListPipelineExecutions page)
# Of a pipeline not shown in detail, the newest executions kept (besides those a stage shows and those running).
EXECUTIONS_KEPT = 5
ENRICH_ATTEMPTS = 3  # tries of a background GetPipeline / ListPipelineExecutions before it says it failed
HOLD_NEWS_LIMIT = 10.0  # seconds a new execution's news may wait for the list (it is shown meanwhile)
NOT_READ = "not read yet"  # an event about a pipeline this run has not read: nothing to lay it over
RECENT_EVENTS = 30.0  # seconds an event is kept to be laid again over a read that may not show it
# After another console's read, this console's own next read of the pipeline waits its interval less up to
# this fraction of it, at random: a team's consoles do not all read it again at the same moment.
SHARED_JITTER = 0.5
STRUCTURE_SKIP = frozenset({"wave"})  # placed by each console's own wave model
# A teammate's state that needs a structure or executions this console lacks: the teammate shares its own reads of
# them right behind it (when it read them in line), so this console waits this long before reading them itself.
SHARED_DETAILS_WAIT = 1.0
_RUNNING = frozenset({"InProgress", "Stopping"})


class PipelinePoller:
    """Reads one pipeline at a time for its poll loop and publishes the merged `Pipeline`."""

    def __init__(self, context: WatchContext) -> None:
        self._ctx = context

    def seed(self, slot: PipelineSlot, structure: Pipeline | None, picture: Pipeline) -> None:
        """Start from the warm-start cache: the structure it holds (GetPipeline is then sent only when the
        state shows another version) and the executions it showed (ListPipelineExecutions only when the
        state shows an execution started, moved on or ended since)."""
        if structure is not None:
            slot.structure = self.with_waves(structure)
        slot.executions = picture.executions
        slot.executions_cut = True  # what was shown of the listing: shown in detail, it is listed whole again
        slot.executions_shown = True
        slot.signature = _execution_signature(picture)

    async def loop(self, run: TargetRun, slot: PipelineSlot) -> None:
        async def read(source: str, priority: Priority, since: float | None) -> None:
            await self.read(run, slot, source, priority, since)

        await self._ctx.poll_loop(run, slot, read)

    async def read(
        self, run: TargetRun, slot: PipelineSlot, source: str, priority: Priority, since: float | None = None
    ) -> None:
        ctx = self._ctx
        name = slot.summary.name
        try:
            async with run.gate.turn("GetPipelineState", priority, since), on_the_wire(slot):
                sent = ctx.mono()
                slot.reading_state += 1
                try:
                    state = await slots.reader(run).get_pipeline_state(name)
                finally:
                    slot.reading_state -= 1
        except AwsError as exc:
            if not state_unavailable(exc):
                raise
            await self._read_without_state(run, slot, source, priority, exc)
            return
        ctx.publisher.target_succeeded(run, "GetPipelineState")
        read, state = state, self._pushed_since(slot, state, sent)
        slot.take_state(state)
        slot.state_source, slot.state_read_at = source, ctx.now()
        slot.state_note = None
        slot.unshared = read
        self._share_state(run, slot)
        needs_structure, needs_executions = self._needs(slot, state)
        if (needs_structure or needs_executions) and not self._inline(run, slot, priority, needs_structure):
            # Structure and executions have small budgets (a first read of a big fleet waits for them):
            # show the fresh state now, and fetch the rest in line, without holding up this loop.
            if slot.enrichment is None or slot.enrichment.done():
                slot.enrichment = asyncio.get_running_loop().create_task(
                    self._enrich(run, slot), name=f"enrich {slot.key}"
                )
            self._publish(run, slot, source, hold_news=self._hold_news(slot, state))
            return
        enrichment = slot.enrichment
        if enrichment is not None and not enrichment.done():
            # Never two reads of the same thing at once: this read does now what the background one waits for.
            enrichment.cancel()
            await asyncio.gather(enrichment, return_exceptions=True)
        await self._fetch_details(run, slot, state, priority, needs_structure, needs_executions)
        self._share_state(run, slot)
        self._publish(run, slot, source)

    def _share_state(self, run: TargetRun, slot: PipelineSlot) -> None:
        """Offer the team this console's last GetPipelineState once the structure of its version is known:
        which of its actions are approvals (whose ids can be tokens) is known only from it. A structure read
        for it goes first, so the others have it when the state comes."""
        read = slot.unshared
        approvals = None if read is None else approvals_of(slot.structure, read)
        if read is None or approvals is None or slot.state_read_at is None:
            return
        slot.unshared = None
        payload = partial(shared_payload, read, approvals)
        self._ctx.share_read(run, SERVICE, "GetPipelineState", read.name, slot.state_read_at, payload)

    async def _read_without_state(
        self, run: TargetRun, slot: PipelineSlot, source: str, priority: Priority, exc: AwsError
    ) -> None:
        """GetPipelineState cannot answer (an endpoint that implements only part of CodePipeline, or an outage
        of that one API): the structure still comes from GetPipeline, the statuses from the executions, and
        the pipeline says so in one line. Stages then carry no status of their own: none is made up."""
        ctx = self._ctx
        name = slot.summary.name
        ctx.publisher.target_failed(run, exc, "GetPipelineState")
        version = slot.summary.version
        if slot.structure is None or (version is not None and slot.structure.version != version):
            await self._read_structure(run, slot, priority, version)
        assert slot.structure is not None
        async with run.gate.turn("ListPipelineExecutions", priority):
            executions = await slots.reader(run).list_pipeline_executions(name, max_results=PIPELINE_EXECUTIONS_LISTED)
        ctx.publisher.target_succeeded(run, "GetPipeline", "ListPipelineExecutions")
        slot.executions, slot.listed_at, slot.signature = tuple(executions), ctx.mono(), None
        slot.executions_cut = False
        slot.take_state(PipelineState(name=name, version=slot.structure.version, stages=()))
        slot.state_source, slot.state_read_at = source, ctx.now()
        # What is shown first, so that a narrow screen cuts the error's tail, not the meaning.
        slot.state_note = f"statuses from executions: GetPipelineState unavailable ({one_line(exc)})"
        self._publish(run, slot, source)

    def apply_shared_executions(
        self,
        run: TargetRun,
        slot: PipelineSlot,
        executions: tuple[PipelineExecution, ...],
        signature: tuple[object, ...],
    ) -> bool:
        """Another console's ListPipelineExecutions of this pipeline, with what in its state it was listed for
        (`_execution_signature`), taken like a listing of its own (a listing of its own waiting its turn for the
        same state then sends nothing): not while its own listing is on the wire, nor when it misses a run this
        console knows started later than any it shows (listed before that run started). A run this console saw
        change since (an event's time after the listing's) keeps the status it shows."""
        if slot.reading or not executions:
            return False
        mine = {e.id: e for e in slot.executions or ()}
        newest = max((e.started for e in executions if e.started is not None), default=None)
        if newest is not None and any(e.started is not None and e.started > newest for e in mine.values()):
            return False
        executions = tuple(_later_status(e, mine.get(e.id)) for e in executions)
        ctx = self._ctx
        slot.executions, slot.signature, slot.listed_at = executions, signature, ctx.mono()
        slot.executions_cut = False
        if slot.state is not None:
            slot.take_state(self._pushed_since(slot, slot.state, None))
            if slot.key in slots.shown(ctx.publisher):
                self._publish(run, slot, TEAM, keep_error=True)
        return True

    def apply_shared_structure(self, run: TargetRun, slot: PipelineSlot, structure: Pipeline) -> bool:
        """Another console's GetPipeline of this pipeline: taken when this console has no structure of it or an
        older version (a read of its own waiting its turn then sends nothing), and the picture drawn with it."""
        have = slot.structure
        if have is not None and (structure.version or 0) <= (have.version or 0):
            return False
        slot.structure = self.with_waves(replace(structure, target=run.target.name))
        if slot.state is not None and slot.key in slots.shown(self._ctx.publisher):
            self._publish(run, slot, TEAM, keep_error=True)
        return True

    def apply_shared(self, run: TargetRun, slot: PipelineSlot, state: PipelineState, read_at: datetime) -> bool:
        """Another console's GetPipelineState of this pipeline, applied as a read of this console's own (source
        `team`); False, and nothing done, while a state read of its own is on the wire (it tells soon; a listing
        on the wire lays its events over this state as over its own) or when it is older than what this console
        has (AWS's times decide: the consoles' clocks may differ). It carries no approval's token: the one this
        console read is kept, and an approval it has not read it reads now."""
        ctx = self._ctx
        if slot.reading_state or (slot.state is not None and _older(state, slot.state)):
            return False
        slot.unshared = None  # a teammate's newer read: this console's own is no news to the team
        state, unknown_approval = with_own_tokens(slot.state, state, approvals_of(slot.structure, state))
        state = self._pushed_since(slot, state, None)
        slot.take_state(state)
        slot.state_source, slot.state_read_at = TEAM, min(read_at, ctx.now())
        slot.state_note = None
        needs_structure, needs_executions = self._needs(slot, state)
        if needs_structure or needs_executions:
            # What this state needs besides is read in line, as after a read of its own in the background, a
            # moment later: the teammate who read it shares its structure and executions right behind it.
            if slot.enrichment is None or slot.enrichment.done():
                slot.enrichment = asyncio.get_running_loop().create_task(
                    self._enrich(run, slot, wait=SHARED_DETAILS_WAIT), name=f"enrich {slot.key}"
                )
            self._publish(run, slot, TEAM, hold_news=self._hold_news(slot, state))
        else:
            self._publish(run, slot, TEAM)
        # As fresh as a read of its own: the next one waits (most of) its interval from now.
        interval = ctx.schedule.interval(slot.key, slot.target)
        slot.last_start = ctx.mono() - random.uniform(0.0, SHARED_JITTER) * interval  # noqa: S311 - spread, not secrecy
        slot.wake.wake(RETIME)
        if unknown_approval:
            slot.wake.wake(PUSH)  # its token, as after an approval's event
        return True

    def apply_event(self, run: TargetRun, slot: PipelineSlot, event: PushEvent) -> str | None:
        """Lay a pushed event over what was last read and publish what changed (source `push`), without a read.
        Returns what is left to read (an approval's token, a new version's structure…), or None."""
        ctx = self._ctx
        if slot.reading or ctx.sharing is not None:
            # Kept to be laid again over a read sent before it came: its own on the wire, or (on a team's topic,
            # for RECENT_EVENTS) a teammate's.
            slot.keep_pushed(ctx.mono(), event)
        state = slot.state
        if state is None or slots.told(ctx.publisher, slot.key) is None:
            # Nothing to lay it over: its first read is under way or waits for the budget, and tells nothing
            # (it is no change). What the event announces is told as it is, once (an older event after it
            # is not): news of now, on a console that has not read the pipeline yet.
            if slot.marks.newer(pipeline_item(event), event_order(event)):
                self._tell_alone(run, slot, event)
            return NOT_READ
        executions = slot.executions
        if executions is None and event.kind == "pipeline":
            executions = ()  # not listed yet (the listing under way still comes): the events' are shown meanwhile
        applied = apply_pipeline_event(
            state, executions, slot.structure, event, slot.marks, keep=PIPELINE_EXECUTIONS_LISTED
        )
        if applied.changed:
            known = {e.id for e in slot.executions or ()}
            slot.take_state(applied.state)
            slot.executions = applied.executions
            if any(e.id not in known for e in applied.executions or ()):
                # A new execution: its source revisions are in no event. The next read of this pipeline (an
                # approval's token, the safety net) lists the executions with them.
                slot.signature = None
            elif slot.signature is not None:
                # The executions follow the events too: a read that shows the same needs no listing (one
                # that was never listed, or must be listed again, still is).
                slot.signature = _execution_signature(applied.state)
            self._publish(run, slot, "push")
        return applied.reread

    def _tell_alone(self, run: TargetRun, slot: PipelineSlot, event: PushEvent) -> None:
        ctx = self._ctx
        wave = None
        if event.stage is not None:
            stages = [s.name for s in slot.structure.stages] if slot.structure is not None else []
            wave = ctx.waves.for_stage(slot.summary.name, event.stage, stages)
        transition = told_alone(event, run.target.name, ctx.now(), wave)
        if transition is not None:
            ctx.publisher.emit([transition])

    def _pushed_since(self, slot: PipelineSlot, state: PipelineState, sent: float | None) -> PipelineState:
        """`state` (just read) with the events that came while the read was on the wire laid over it again,
        those newer than what it shows of their item: a read never takes back what an event told. `sent`
        None: a read sent at a moment unknown here (a teammate's), so every recent event is a candidate."""
        executions = slot.executions
        recent = self._ctx.mono() - RECENT_EVENTS
        while slot.pushed and slot.pushed[0][0] < recent:
            slot.pushed.popleft()
        pushed = tuple(slot.pushed or ())
        if not pushed or (not slot.reading and self._ctx.sharing is None):
            slot.pushed = None  # every read that was on the wire has had them laid over it
        for arrived, event in pushed:
            if (sent is None or arrived >= sent) and newer_than_read(state, executions, event):
                applied = apply_pipeline_event(
                    state, executions, slot.structure, event, None, keep=PIPELINE_EXECUTIONS_LISTED
                )
                state, executions = applied.state, applied.executions
        slot.executions = executions
        return state

    def _inline(self, run: TargetRun, slot: PipelineSlot, priority: Priority, needs_structure: bool) -> bool:
        """Whether this read fetches the details before it publishes, so that what it tells is in order
        (an execution's start before its stages'): an urgent read always (it goes first anyway), a read of
        what is on screen when the details' budget is free now. Never a first read: it is no change to
        tell, so it is shown at once; and never one that would wait behind the queue of background
        details, which would hold up this resource's next reads."""
        if slots.told(self._ctx.publisher, slot.key) is None:
            return False
        level = _level(priority)
        if level == URGENT:
            return True
        if level != FOCUSED:
            return False
        apis = ("GetPipeline", "ListPipelineExecutions") if needs_structure else ("ListPipelineExecutions",)
        return all(run.gate.free_now(api) for api in apis)

    def _hold_news(self, slot: PipelineSlot, state: PipelineState) -> bool:
        """Whether the transitions of this state wait for the list being fetched behind it: a stage shows an
        execution that is neither listed nor was in any stage before, so the list will tell its start, which
        goes first. Never for long (a list that keeps failing must not silence the pipeline)."""
        told = slot.untold if slot.untold is not None else slots.told(self._ctx.publisher, slot.key)
        if told is None:
            return False
        if slot.untold_since is not None and self._ctx.mono() - slot.untold_since >= HOLD_NEWS_LIMIT:
            return False
        known = {e.id for e in slot.executions or ()} | {s.execution_id for s in told.stages}
        return any(s.execution_id is not None and s.execution_id not in known for s in state.stages)

    def _needs(self, slot: PipelineSlot, state: PipelineState) -> tuple[bool, bool]:
        version = _version(slot, state)
        needs_structure = slot.structure is None or slot.structure.version != version
        needs_executions = (
            slot.executions is None
            or _execution_signature(state) != slot.signature
            or self._executions_lag(slot, state)
            or (slot.executions_cut and slot.key == self._ctx.schedule.detail)
        )
        return needs_structure, needs_executions

    async def _fetch_details(
        self,
        run: TargetRun,
        slot: PipelineSlot,
        state: PipelineState,
        priority: Priority,
        needs_structure: bool,
        needs_executions: bool,
    ) -> None:
        name = slot.summary.name
        if needs_structure:
            await self._read_structure(run, slot, priority, _version(slot, state))
        if needs_executions:
            signature = _execution_signature(state)
            asked = self._ctx.mono()
            async with run.gate.turn("ListPipelineExecutions", priority), on_the_wire(slot):
                if slot.listed_at >= asked and slot.signature == signature:
                    return  # a teammate's list for this state came while this one waited: its turn goes back
                sent = self._ctx.mono()
                executions = await slots.reader(run).list_pipeline_executions(
                    name, max_results=PIPELINE_EXECUTIONS_LISTED
                )
            slot.executions, slot.executions_cut = tuple(executions), False
            slot.signature = signature
            if slot.state is not None:
                slot.take_state(self._pushed_since(slot, slot.state, sent))
            self._ctx.publisher.target_succeeded(run, "ListPipelineExecutions")
            slot.listed_at = self._ctx.mono()
            payload = partial(_executions_payload, slot.executions, signature)
            self._ctx.share_read(run, SERVICE, "ListPipelineExecutions", name, self._ctx.now(), payload)

    async def _read_structure(
        self, run: TargetRun, slot: PipelineSlot, priority: Priority, version: int | None
    ) -> None:
        """GetPipeline (shared with the team), unless a teammate's read of that version came while this one
        waited its turn: the turn is then given back unused, and its token with it."""
        name = slot.summary.name
        async with run.gate.turn("GetPipeline", priority):
            have = slot.structure
            if have is not None and (version is None or have.version == version):
                return
            structure = await slots.reader(run).get_pipeline(name)
        slot.structure = self.with_waves(structure)
        self._ctx.publisher.target_succeeded(run, "GetPipeline")
        payload = partial(cache_codec.encode, replace(structure, target=""), skip=STRUCTURE_SKIP)
        self._ctx.share_read(run, SERVICE, "GetPipeline", name, self._ctx.now(), payload)

    async def _enrich(self, run: TargetRun, slot: PipelineSlot, wait: float = 0.0) -> None:
        """Background: GetPipeline / ListPipelineExecutions for the state read last, then publish again (after
        `wait` seconds: what a teammate shares meanwhile is then not read again).

        It tries a few times on its own (the poll loop may not come back for a whole safety-net interval),
        and records a failure on the pipeline only when no newer read has been published since it began.
        """
        ctx = self._ctx
        if wait:
            await asyncio.sleep(wait)
        for attempt in range(1, ENRICH_ATTEMPTS + 1):
            state, changes = slot.state, slot.state_changes
            if state is None:
                return
            try:
                needs_structure, needs_executions = self._needs(slot, state)
                priority = partial(ctx.schedule.priority, slot.key)  # up the line if it comes on screen
                await self._fetch_details(run, slot, state, priority, needs_structure, needs_executions)
                self._share_state(run, slot)
            except Exception as exc:  # noqa: BLE001 - recorded on the pipeline below; its poll loop goes on
                if not isinstance(exc, AwsError):
                    LOG.exception("reading %s", slot.key)
                if attempt == ENRICH_ATTEMPTS or isinstance(exc, NotFound | AccessDenied | InvalidInput):
                    if slot.state_changes == changes:
                        ctx.publisher.resource_failed(run, slot, exc)
                    return
                await asyncio.sleep(backoff(ctx.intervals.focused, attempt, ctx.intervals.background))
                continue
            if slot.key in slots.shown(ctx.publisher):
                # What changed came with the last state read, so it carries that read's source (and the
                # error of a read that failed since, if one did: the details do not make the state fresh).
                self._publish(run, slot, slot.state_source, keep_error=True)
            return

    def _publish(
        self, run: TargetRun, slot: PipelineSlot, source: str, *, keep_error: bool = False, hold_news: bool = False
    ) -> None:
        """Merge structure, last state and executions into a Pipeline; publish it with its transitions (or,
        with `hold_news`, without them: the next publish tells everything since the pipeline as last told)."""
        publisher = self._ctx.publisher
        state = slot.state
        assert state is not None
        self._keep_executions(slot, state)
        name = slot.summary.name
        now = publisher.now()
        old = slot.untold if slot.untold is not None else slots.told(publisher, slot.key)
        structure = slot.structure or Pipeline(target=run.target.name, name=name, version=state.version)
        merged = state.apply_to(structure, read_at=slot.state_read_at or now)
        merged = replace(
            merged,
            target=run.target.name,
            name=name,
            pipeline_type=slot.summary.pipeline_type or merged.pipeline_type,
            execution_mode=slot.summary.execution_mode or merged.execution_mode,
            stages=self._stage_waves(name, merged.stages),
            executions=self._consistent_executions(slot, state),
            error=old.error if keep_error and old is not None else None,
            note=slot.state_note,
        )
        if old is not None and not slot.executions_shown and slot.executions is not None:
            # The executions were not known when `old` was shown: those that had started by then are not
            # news; one that started later (AWS's clock after the newest change the first read showed) is.
            seen_until = slot.first_seen_until
            if seen_until is None:
                known = merged.executions if slot.first_had_runs else ()
            else:
                known = tuple(e for e in merged.executions if e.started is None or e.started <= seen_until)
            old = replace(old, executions=known)
        if slot.executions is None and not slot.executions_shown and old is None:
            slot.first_seen_until = _latest_change(state)
            slot.first_had_runs = any(s.execution_id for s in state.stages)
        slot.executions_shown = slot.executions is not None
        merged = reusing(slots.shown(publisher).get(slot.key), merged)
        if slot.executions is not merged.executions and slot.executions == merged.executions:
            slot.executions = merged.executions  # the listing's equal copies go: one set of executions is kept
        self._keep_merged(slot, state, merged)
        publisher.put(SERVICE, merged.key, merged)
        publisher.approvals[slot.key] = (*pipeline_approvals(merged), *condition_holds(merged))
        if hold_news and old is not None:
            if slot.untold is None:
                slot.untold, slot.untold_since = old, self._ctx.mono()
            publisher.emit([])
            return
        slot.untold = slot.untold_since = None
        publisher.emit(pipeline_transitions(old, merged, now, source))

    def _keep_executions(self, slot: PipelineSlot, state: PipelineState) -> None:
        """Keep of the listed executions what is shown: every one for the pipeline shown in detail (its history
        table); of any other, the newest EXECUTIONS_KEPT (its row shows the latest), those a stage shows (the
        stage's revision, an approval's) and those still running (what stop offers). At 2,000 pipelines, the 20
        a listing gives are 40,000 executions, with their revisions, commit messages and links: about 28 MB.
        Shown in detail later, the pipeline is listed whole again (`_needs`)."""
        executions = slot.executions
        if executions is None or len(executions) <= EXECUTIONS_KEPT or slot.key == self._ctx.schedule.detail:
            return
        shown = {s.execution_id for s in state.stages} | {i.id for s in state.stages for i in s.inbound_executions}
        kept = tuple(
            e for index, e in enumerate(executions) if index < EXECUTIONS_KEPT or e.id in shown or e.status in _RUNNING
        )
        if len(kept) < len(executions):
            slot.executions, slot.executions_cut = kept, True

    def _keep_merged(self, slot: PipelineSlot, state: PipelineState, merged: Pipeline) -> None:
        """Keep the picture's stages as the slot's state, in place of the state's own: they hold every status the
        state holds, laid over the structure, and the picture is kept anyway (shown), so the state's stages and
        actions, a second copy of every pipeline, go.

        Only when the picture is this state over the structure of its version, stage for stage: a state of
        another version laid over the structure would keep that structure's actions as if read (shown again over
        the next version's), and one whose stages the structure orders otherwise, or lacks (GetPipelineState
        unavailable), would no longer give its execution signature (a listing again for nothing)."""
        structure = slot.structure
        if structure is None or structure.version != _version(slot, state) or merged.stages is state.stages:
            return
        if len(merged.stages) != len(state.stages):
            return
        if any(m.name != s.name for m, s in zip(merged.stages, state.stages, strict=True)):
            return
        slot.state = replace(state, stages=merged.stages)

    def _consistent_executions(self, slot: PipelineSlot, state: PipelineState) -> tuple[PipelineExecution, ...]:
        """The listed executions, except that none may end before the state shows it ended.

        ListPipelineExecutions is read after GetPipelineState, so it can be a moment ahead: an execution
        already Succeeded while the state still shows its last stage running. Telling that end now would put
        it before the stage's own; until the next read catches up, the execution keeps its previous status.
        """
        executions = slot.executions or ()
        running = {s.execution_id for s in state.stages if s.status in _RUNNING}
        ahead = {e.id for e in executions if e.id in running and e.status not in _RUNNING}
        if not ahead:
            return executions
        slot.signature = None  # list again with the next state read
        shown = slots.shown(self._ctx.publisher).get(slot.key)
        before = {e.id: e for e in shown.executions} if shown is not None else {}
        return tuple(before.get(e.id, replace(e, status="InProgress")) if e.id in ahead else e for e in executions)

    def _executions_lag(self, slot: PipelineSlot, state: PipelineState) -> bool:
        """The list says an execution runs that no stage shows any more: it ended; list again (rarely)."""
        shown = {s.execution_id for s in state.stages if s.status in _RUNNING}
        shown |= {i.id for s in state.stages for i in s.inbound_executions}
        lagging = any(e.status in _RUNNING and e.id not in shown for e in slot.executions or ())
        if not lagging:
            return False
        # An execution that is running but shows in no stage (a queued one) would ask forever: at most once
        # per focused interval while it lasts.
        return self._ctx.mono() - slot.listed_at >= self._ctx.intervals.focused

    def with_waves(self, structure: Pipeline) -> Pipeline:
        """`structure` with every stage placed in its wave (what the wave model says now)."""
        return replace(structure, stages=self._stage_waves(structure.name, structure.stages))

    def _stage_waves(self, pipeline: str, stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
        """Every stage with its wave, placed in order: a stage after a production stage is production."""
        placements = self._ctx.waves.place(pipeline, [s.name for s in stages])
        return tuple(
            s if s.wave == p.wave else replace(s, wave=p.wave) for s, p in zip(stages, placements, strict=True)
        )


_NEVER = datetime.min.replace(tzinfo=UTC)


def _older(shared: PipelineState, mine: PipelineState) -> bool:
    """Whether a teammate's read shows an older moment than this console's: of an older version of the pipeline
    (an update changes no action's time, so a late read of the version before looked as new as this one's, took
    its place and dropped the read this console had yet to share), or of the same one with older AWS times."""
    if (shared.version or 0) != (mine.version or 0):
        return (shared.version or 0) < (mine.version or 0)
    return _newest(shared) < _newest(mine)


def _newest(state: PipelineState) -> datetime:
    """The newest AWS timestamp anywhere in a pipeline's state, conditions and their rules included (of two
    reads of one pipeline, the later shows the newer, whichever console made it)."""
    moments = [_latest_change(state) or _NEVER]
    for stage in state.stages:
        for kind in stage.conditions:
            moments += [c.last_status_change for c in kind.conditions if c.last_status_change]
            moments += [r.last_status_change for r in kind.rules if r.last_status_change]
    return max(moments)


def _latest_change(state: PipelineState) -> datetime | None:
    """The newest AWS timestamp in a pipeline's state (an action's status change, a transition toggled)."""
    moments = [a.last_status_change for s in state.stages for a in s.actions if a.last_status_change]
    moments += [s.inbound.last_changed_at for s in state.stages if s.inbound.last_changed_at]
    return max(moments, default=None)


def _execution_signature(state: PipelineState | Pipeline) -> tuple[object, ...]:
    """What in a pipeline's state says an execution started, moved on or ended (the same of a state read
    and of the picture merged from it)."""
    return tuple((s.name, s.execution_id, s.status, tuple(i.id for i in s.inbound_executions)) for s in state.stages)


def _executions_payload(executions: tuple[PipelineExecution, ...], signature: tuple[object, ...]) -> dict[str, Any]:
    """A listing as the team gets it: the executions, and the state's signature they were listed for."""
    return {"executions": [cache_codec.encode(e) for e in executions], "signature": signature}


def signature_from(value: object) -> tuple[object, ...]:
    """A signature back from its JSON (arrays to tuples, at every level), equal to the sender's own."""

    def freeze(item: object) -> object:
        return tuple(freeze(x) for x in item) if isinstance(item, list) else item

    frozen = freeze(value)
    if not isinstance(frozen, tuple):
        raise cache_codec.CodecError("a signature is a list")
    return frozen


def _later_status(listed: PipelineExecution, mine: PipelineExecution | None) -> PipelineExecution:
    """A listed execution, with the status this console holds of it when that changed later (by AWS's times)."""
    if mine is None or mine.status == listed.status or mine.updated is None:
        return listed
    if listed.updated is not None and listed.updated >= mine.updated:
        return listed
    return replace(listed, status=mine.status, updated=mine.updated, stop_reason=mine.stop_reason or listed.stop_reason)


def _version(slot: PipelineSlot, state: PipelineState) -> int | None:
    """The structure's version a state was read under (the listing's, when the state does not say)."""
    return state.version if state.version is not None else slot.summary.version


def _level(priority: Priority) -> int:
    return priority() if callable(priority) else priority
