"""What the approvals inbox says: urgency, order, the cells of each row, the layout and the detail of one approval.

Pure functions from `Approval`s and the clock to text, kept apart from the widgets so they are cheap to test.

The order, most urgent on top:
1. approvals about to expire (under `EXPIRING_SOON` left), the soonest first: the only case where waiting
   costs something nobody can undo (the run fails and has to be released again);
2. production waves, the longest waiting first: a person's decision there protects customers, and every
   deployment of that pipeline queues behind it;
3. everything else, the longest waiting first;
4. approvals past their expiry that the watcher has not yet seen close: nothing can answer them any more.

An approval whose pipeline or state machine the picture counts as stale (shown from the last run's cache and not
read since, or not read again in time: a target that cannot be reached) says so with the fleet's stale glyph
in its Waiting cell, and in the detail how old the read is: it may have been answered since. Approving or
rejecting reads it fresh first, so the person acts on what AWS says now, token included.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.text import Text

from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.selections import ActionSelection, PipelineSelection, StageSelection
from console.model import Approval, FleetState
from console.resources import Selection
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.selections import ExecutionSelection, state_machine_arn_of
from screens.conditions import HELD
from screens.status import APPROVAL, STALE
from screens.text import clean, commit_message, literal, middle
from screens.timefmt import coarse_age

EXPIRING_SOON = timedelta(minutes=30)
PRODUCTION_MARK = "▲"
EXPIRING_MARK = "◷"
EXPIRED_MARK = "✗"
_FAR = datetime.max.replace(tzinfo=UTC)

KINDS = {CODEPIPELINE: "pipeline", STEPFUNCTIONS: "step fn"}
KIND_NAMES = {CODEPIPELINE: "CodePipeline manual approval", STEPFUNCTIONS: "Step Functions task token"}


class Urgency(enum.IntEnum):
    """The tiers of the inbox, most urgent first (see the module docstring)."""

    EXPIRING = 0
    PRODUCTION = 1
    WAITING = 2
    EXPIRED = 3


def urgency(approval: Approval, now: datetime) -> Urgency:
    expires = approval.expires
    if expires is not None:
        left = expires - now
        if left <= timedelta(0):
            return Urgency.EXPIRED
        if left <= EXPIRING_SOON:
            return Urgency.EXPIRING
    if approval.wave is not None and approval.wave.typed_confirmation:
        # A stage that matches no wave ranks with production: the console cannot tell it is not.
        return Urgency.PRODUCTION
    return Urgency.WAITING


def inbox_order(
    approvals: Sequence[Approval], now: datetime, tiers: Sequence[Urgency] | None = None
) -> tuple[Approval, ...]:
    """`approvals`, most urgent first (see the module docstring); `tiers`, when given, their `urgency` at `now`."""
    return tuple(approval for _, approval in _ordered(approvals, now, tiers))


def _ordered(
    approvals: Sequence[Approval], now: datetime, tiers: Sequence[Urgency] | None = None
) -> list[tuple[str, Approval]]:
    """(row key, approval) of `approvals`, most urgent first: each key worked out once (a sort's key function
    would make it once per approval too, but the caller needs it again)."""
    tiers = tiers if tiers is not None else [urgency(a, now) for a in approvals]
    ranked = []
    for index, (approval, tier) in enumerate(zip(approvals, tiers, strict=True)):
        soonest = (approval.expires or _FAR) if tier is Urgency.EXPIRING else _FAR
        ranked.append((tier, soonest, approval.since or _FAR, row_key(approval), index))
    ranked.sort()
    return [(key, approvals[index]) for _, _, _, key, index in ranked]


def inbox_keys(
    approvals: Sequence[Approval], now: datetime, tiers: Sequence[Urgency] | None = None
) -> dict[str, Approval]:
    """One approval per row key, most urgent first: a picture that ever listed a waiting thing twice shows it
    once, where its most urgent listing ranks."""
    keyed: dict[str, Approval] = {}
    for key, approval in _ordered(approvals, now, tiers):
        keyed.setdefault(key, approval)
    return keyed


def row_key(approval: Approval) -> str:
    """A key per waiting thing: several tasks of one execution can wait at once (Parallel branches, Map
    iterations, even of the same state); each has its own TaskScheduled event."""
    if approval.task_event is not None:
        return f"{approval.key}#{approval.task_event}"
    return f"{approval.key}#{approval.state_name}" if approval.state_name else approval.key


def selection_of(approval: Approval) -> Selection | None:
    """What approve / reject act on: the pipeline action, or the Step Functions execution (None while its
    execution is not known)."""
    if approval.kind == CODEPIPELINE:
        match approval.resource.split("/"):
            case [pipeline, stage, action, *_]:
                return ActionSelection(approval.target, pipeline, stage, action, approval.execution)
            case [pipeline, stage]:
                return StageSelection(approval.target, pipeline, stage, approval.execution)
            case [pipeline]:
                return PipelineSelection(approval.target, pipeline, approval.execution)
    arn = approval.execution
    if not arn:
        return None
    return ExecutionSelection(
        approval.target,
        state_machine_arn_of(arn),
        arn,
        # Exactly this row's token, however many others wait in the same execution.
        state_name=approval.state_name,
        map_index=approval.map_index,
        task_event=approval.task_event,
    )


def task_label(approval: Approval) -> str:
    """The waiting state as a row names it: `Approve Change #2` in a Map iteration, else the state's name."""
    name = approval.state_name or ""
    if approval.map_index is not None:
        name += f" #{approval.map_index}"
    return name


def resource_key(approval: Approval) -> str:
    """The Pipeline.key / StateMachine.key the approval belongs to (what the watcher polls)."""
    return f"{approval.target}:{approval.resource.split('/', 1)[0]}"


def time_left(expires: datetime | None, now: datetime) -> str:
    """`in 12m`, `in 1h56m`, `in 30h`, `in 6d`, `in <1m`, `expired`; `—` without an expiry. Minute resolution."""
    if expires is None:
        return "—"
    seconds = int((expires - now).total_seconds())
    if seconds <= 0:
        return "expired"
    minutes = seconds // 60
    if minutes < 1:
        return "in <1m"
    if minutes < 60:
        return f"in {minutes}m"
    if minutes < 10 * 60:
        # Hours and minutes while it matters: "in 1h" for 1h59m would read twice as urgent as it is.
        return f"in {minutes // 60}h{minutes % 60:02d}m"
    hours = minutes // 60
    return f"in {hours}h" if hours < 48 else f"in {hours // 24}d"


def stale_words(state: FleetState, approval: Approval, now: datetime) -> str | None:
    """How long ago the approval's pipeline or state machine was last read (`coarse_age`) when the picture counts
    it as stale, else None (also when the picture does not hold it)."""
    resource = state.of(approval.kind).get(resource_key(approval))
    if resource is None or not state.is_stale(resource.key, resource.read_at, now):
        return None
    return coarse_age(resource.read_at, now)


def from_cache(state: FleetState, approval: Approval) -> bool:
    """Whether the approval's pipeline or state machine is still as the last run's cache left it (not read since)."""
    resource = state.of(approval.kind).get(resource_key(approval))
    return resource is not None and resource.key in state.cached


def clock_words(approval: Approval, now: datetime) -> tuple[str, str, Urgency]:
    """What the clock makes of an approval now (its age, its time left, its tier): equal words, equal cells."""
    return coarse_age(approval.since, now), time_left(approval.expires, now), urgency(approval, now)


def _utc_day(when: datetime, now: datetime) -> str:
    """`03:12 UTC`, with the date when it is not today (`2026-03-20 03:12 UTC`)."""
    moment = when.astimezone(UTC)
    if moment.date() == now.astimezone(UTC).date():
        return moment.strftime("%H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# --- cells ------------------------------------------------------------------------------------------------


def wave_cell(approval: Approval) -> Text:
    wave = approval.wave
    if wave is None:
        return Text("—", style="dim", end="")
    if wave.is_unknown:
        return Text(f"? {clean(wave.name)}", style="bold", end="")
    if wave.is_production:
        return Text(f"{PRODUCTION_MARK} {clean(wave.name)}", style="bold", end="")
    return literal(wave.name)


def expires_cell(approval: Approval, now: datetime) -> Text:
    tier = urgency(approval, now)
    left = time_left(approval.expires, now)
    if tier is Urgency.EXPIRED:
        return Text(f"{EXPIRED_MARK} expired", style="dim", end="")
    if tier is Urgency.EXPIRING:
        # Reverse video stands out without colour (NO_COLOR, 16-colour terminals).
        return Text(f"{EXPIRING_MARK} {left}", style="reverse bold red", end="")
    return Text(left, style="dim" if approval.expires is None else "", end="")


def what_cell(approval: Approval, width: int, *, full: bool) -> Text:
    """`pipeline/stage` (and `/action` when `full`), or `state-machine/execution`, as `wavedeck watch` names
    them. Too long, a pipeline's is cut at the end (its name first; the wave column says where it waits) and an
    execution's in the middle (execution names differ at their end: `deploy-…-42`, `deploy-…-43`)."""
    parts = [clean(p) for p in approval.resource.split("/")]
    if approval.kind == CODEPIPELINE and not full:
        parts = parts[:2]
    mark = HELD if approval.condition is not None else APPROVAL
    text = Text(f"{mark.glyph} ", style=mark.tone.style, end="")
    name = "/".join(parts)
    room = max(width - 2, 1)
    if approval.kind == CODEPIPELINE:
        text.append(name if len(name) <= room else name[: room - 1] + "…")
        return text
    state = clean(approval.state_name or "")
    if not state or not approval.where:
        # At the top level an execution waits in one state at a time: its name is in the detail pane.
        text.append(middle(name, room))
        return text
    # In Parallel branches and Map iterations one execution waits for several tokens, and the state and the
    # Map index are what tell its rows apart: the index is never cut, the state before the execution's name.
    index = f" #{approval.map_index}" if approval.map_index is not None else ""
    resource_room = min(len(name), 8)
    state_room = max(room - 3 - len(index) - resource_room, 4)
    if len(state) > state_room:
        state = state[: state_room - 1] + "…"
    text.append(middle(name, max(room - 3 - len(index) - len(state), resource_room)))
    text.append(" › ", style="dim")
    text.append(state + index, style="bold")
    return text


def waiting_cell(approval: Approval, now: datetime, stale: str | None = None) -> Text:
    """How long it has waited; `≈ 2h` when the picture of it is stale (`stale_words`): as of its last read."""
    waited = coarse_age(approval.since, now)
    if stale is None:
        return Text(waited, end="")
    text = Text(f"{STALE.glyph} ", style="bold", end="")
    text.append(waited)
    return text


def revision_cell(approval: Approval, *, message: bool) -> Text:
    revision = approval.revision
    if revision is None:
        return Text("—", style="dim", end="")
    text = Text(clean(revision.short), style="bold", end="")
    summary = commit_message(revision.summary)
    if message and summary:
        text.append(" ")
        text.append(summary)
    return text


def words_of(approval: Approval, target_label: str, stale: str | None = None) -> str:
    """What the filter searches: names, target, wave, kind, revision, what it asks, `stale`."""
    parts = [
        approval.resource,
        approval.target,
        target_label,
        approval.wave.name if approval.wave else "",
        "production" if approval.wave and approval.wave.is_production else "",
        KINDS.get(approval.kind, approval.kind),
        approval.kind,
        approval.state_name or "",
        approval.where,
        approval.revision.revision_id if approval.revision else "",
        commit_message(approval.revision.summary) if approval.revision else "",
        approval.custom_data,
        "stale" if stale is not None else "",
    ]
    return clean(" ".join(parts)).lower()


# --- layout -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int


@dataclass(frozen=True, slots=True)
class InboxLayout:
    """The columns of the inbox table for a screen width."""

    columns: tuple[Column, ...]
    full_resource: bool
    revision_message: bool

    def width(self, key: str) -> int:
        return next((c.width for c in self.columns if c.key == key), 0)


def inbox_layout(width: int, target_width: int, several_targets: bool) -> InboxLayout:
    """Wave, what, [target], [kind], waiting, expires, revision; the optional ones only where they fit.

    At 80 columns: wave, pipeline / stage, waiting, expires, the revision's short id; the detail pane
    under the table says the rest (target, kind, action, message, what it asks, URL).
    """
    usable = width - 1 - 2  # the scrollbar, the screen's margin
    wide = usable >= 110
    fixed = [Column("wave", "Wave", 13)]
    tail = [Column("waiting", "Waiting", 7), Column("expires", "Expires", 10)]
    optional: list[Column] = []
    if several_targets and usable >= 96:
        optional.append(Column("target", "Target", min(max(target_width, 6), 16)))
    if usable >= 150:
        optional.append(Column("kind", "Kind", 8))
    columns = [*fixed, *optional, *tail]
    padding = 2 * (len(columns) + 2)  # every column, plus `what` and `revision`
    rest = usable - padding - sum(c.width for c in columns)
    if wide:
        what = min(max(rest * 2 // 3, 24), 60)
        revision = max(rest - what, 8)
    else:
        revision = 8
        what = max(rest - revision, 16)
    what_column = Column("what", "Waiting for", what)
    revision_column = Column("revision", "Revision", revision)
    ordered = [fixed[0], what_column, *optional, *tail, revision_column]
    return InboxLayout(tuple(ordered), full_resource=wide, revision_message=revision > 12)


def row_cells(
    approval: Approval, now: datetime, layout: InboxLayout, target_label: str, stale: str | None = None
) -> tuple[tuple[str, Text], ...]:
    """(column key, cell) for each column of `layout`, each cell cut to its column's width; `stale` as
    `stale_words` says it."""
    cells: dict[str, Text] = {
        "wave": wave_cell(approval),
        "what": what_cell(approval, layout.width("what"), full=layout.full_resource),
        "target": literal(target_label, style="dim"),
        "kind": Text(KINDS.get(approval.kind, clean(approval.kind)), style="dim", end=""),
        "waiting": waiting_cell(approval, now, stale),
        "expires": expires_cell(approval, now),
        "revision": revision_cell(approval, message=layout.revision_message),
    }
    out: list[tuple[str, Text]] = []
    for column in layout.columns:
        cell = cells[column.key]
        if cell.cell_len > column.width:
            cell = cell.copy()
            cell.truncate(column.width, overflow="ellipsis")
        out.append((column.key, cell))
    return tuple(out)


# --- the detail pane --------------------------------------------------------------------------------------

CUSTOM_DATA_LINES = 3


def detail_text(
    approval: Approval,
    now: datetime,
    target_label: str,
    actions_hint: str,
    stale: str | None = None,
    cached: bool = False,
) -> Text:
    """Everything about one approval: what, where, since when, until when, how old the read of it is when it is
    stale (`stale_words`), which revision, what it asks. `cached`: shown from the last run's cache (`from_cache`),
    which keeps no task's parameters, so a task-token state's ask is not known until its history is read."""
    text = Text(end="")
    mark = HELD if approval.condition is not None else APPROVAL
    text.append(f"{mark.glyph} ", style=mark.tone.style)
    text.append(clean(approval.resource), style="bold")
    if approval.condition is not None:
        text.append(f" · held by its {approval.condition.label} condition", style=mark.tone.style)
    if approval.state_name:
        text.append(" · state ")
        text.append(clean(approval.state_name), style="bold")
    if approval.where:
        text.append(f" · {clean(approval.where)}")
    text.append("\n")
    text.append(KIND_NAMES.get(approval.kind, clean(approval.kind)), style="dim")
    text.append(" · ", style="dim")
    text.append(clean(target_label), style="dim")
    text.append(" · wave ", style="dim")
    text.append_text(wave_cell(approval))
    if approval.wave is not None and approval.wave.is_production:
        text.append(" (production)", style="dim")
    text.append("\n")
    text.append("waiting ")
    text.append(coarse_age(approval.since, now), style="bold")
    if approval.since is not None:
        text.append(f" (since {_utc_day(approval.since, now)})", style="dim")
    text.append(" · ")
    tier = urgency(approval, now)
    if approval.expires is None:
        text.append("no expiry set", style="dim")
    elif tier is Urgency.EXPIRED:
        text.append(f"{EXPIRED_MARK} expired at {_utc_day(approval.expires, now)}", style="bold")
    else:
        if tier is Urgency.EXPIRING:
            text.append(f"{EXPIRING_MARK} EXPIRES SOON", style="reverse bold red")
            text.append(" ")
        verb = "the condition fails the stage" if approval.condition is not None else "expires"
        text.append(f"{verb} {time_left(approval.expires, now)}")
        text.append(f" ({_utc_day(approval.expires, now)})", style="dim")
    text.append("\n")
    if stale is not None:
        # It may have been answered since: the person must know before acting (acting reads it fresh anyway).
        read = "never read" if stale == "—" else f"last read {stale} ago"
        text.append(f"{STALE.glyph} stale: {read}", style="bold")
        if approval.condition is not None:
            text.append(" · overriding reads it fresh first", style="dim")
        else:
            text.append(" · approving or rejecting reads it fresh first, its token too", style="dim")
        text.append("\n")
    text.append("revision ", style="dim")
    revision = approval.revision
    if revision is None:
        text.append("—", style="dim")
    else:
        text.append(clean(revision.revision_id), style="bold")
        message = commit_message(revision.summary)
        if message:
            text.append(" ")
            text.append(message)
    text.append("\n")
    text.append("holds " if approval.condition is not None else "asks ", style="dim")
    asks = clean(approval.custom_data, keep_newlines=True).strip()
    if asks:
        lines = asks.splitlines()
        shown = lines[:CUSTOM_DATA_LINES]
        text.append("\n     ".join(shown))
        if len(lines) > len(shown):
            text.append(f" … ({len(lines) - len(shown)} more lines)", style="dim")
    elif cached and approval.kind == STEPFUNCTIONS:
        text.append("(not kept across restarts with the task's token: shown once its history is read)", style="dim")
    else:
        text.append("(no message)", style="dim")
    if approval.url:
        text.append("\n")
        text.append("url ", style="dim")
        text.append(clean(approval.url))
    if approval.execution:
        text.append("\n")
        text.append("execution ", style="dim")
        text.append(clean(_short_execution(approval.execution)))
    if actions_hint:
        text.append("\n")
        text.append(actions_hint, style="dim")
    return text


def _short_execution(execution: str) -> str:
    # An execution ARN ends in the state machine and execution names, which is what a person reads.
    if execution.startswith("arn:"):
        parts = execution.split(":")
        return "/".join(parts[-2:]) if len(parts) >= 8 else execution
    return execution


def summary_counts(
    approvals: Sequence[Approval], now: datetime, tiers: Sequence[Urgency] | None = None
) -> tuple[int, int, int]:
    """(waiting, expiring soon, production) for the bar above the inbox; `tiers` as `inbox_order` takes them."""
    tiers = list(tiers) if tiers is not None else [urgency(a, now) for a in approvals]
    production = sum(1 for a in approvals if a.wave is not None and a.wave.is_production)
    return len(approvals), tiers.count(Urgency.EXPIRING), production
