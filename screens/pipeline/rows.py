"""What the pipeline screen says: pure functions from a `Pipeline` to table rows and detail text.

The stages table has one row per stage and, under it, one row per action (in run order), with the rules of
the stage's entry conditions before its actions and those of its success and failure conditions after them.
The wave column names a wave on the first stage of each run of stages in that wave, so the stages read grouped by wave
(Source and Build, which belong to no wave, come first, marked `—`). The executions table lists the
pipeline's recent executions, newest first. Everything from AWS goes through `literal`/`clean`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from console.codepipeline.model import Action, ConditionKind, Pipeline, PipelineExecution, Rule, Stage, StageCondition
from console.model import Wave
from screens.conditions import hold_label, hold_look, rule_watches
from screens.status import APPROVAL, ERROR, NO_STATE, PAUSED, STALE, StatusLook, Tone, look
from screens.text import clean, commit_message, literal
from screens.timefmt import age, ago, clock_time, coarse_age, duration
from screens.widgets.keyed_list import ListColumn, Row, usable_width
from screens.widgets.wave_board import wave_label

STAGE_PREFIX = "stage:"
ACTION_PREFIX = "action:"
CONDITION_PREFIX = "condition:"
CONDITION_WORDS = {
    ConditionKind.BEFORE_ENTRY: "entry",
    ConditionKind.ON_SUCCESS: "success",
    ConditionKind.ON_FAILURE: "failure",
}
WAITING = StatusLook("⧗", "waiting", Tone.WAIT)
SFN_ARN = "arn:aws:states:"


# --- row keys ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageRef:
    """What a row of the stages table stands for: a stage, or one of its actions."""

    stage: str
    action: str | None = None


def stage_key(stage: str) -> str:
    return STAGE_PREFIX + stage


def action_key(stage: str, action: str) -> str:
    # Stage and action names never contain "/" (AWS's naming rules), so the key splits back unambiguously.
    return f"{ACTION_PREFIX}{stage}/{action}"


def condition_key(stage: str, kind: ConditionKind, rule: str | None) -> str:
    return f"{CONDITION_PREFIX}{stage}/{kind.value}/{rule or ''}"


def parse_stage_key(key: str | None) -> StageRef | None:
    """The stage (and action) a row stands for; a condition's row stands for its stage."""
    if key is None:
        return None
    if key.startswith(STAGE_PREFIX):
        return StageRef(key[len(STAGE_PREFIX) :])
    if key.startswith(CONDITION_PREFIX):
        return StageRef(key[len(CONDITION_PREFIX) :].partition("/")[0])
    if key.startswith(ACTION_PREFIX):
        stage, _, action = key[len(ACTION_PREFIX) :].partition("/")
        return StageRef(stage, action)
    return None


# --- small facts ------------------------------------------------------------------------------------------


def stage_look(stage: Stage, unread: bool = False) -> StatusLook:
    """`unread`: the pipeline's state could not be read (Pipeline.note), so no status is not "not run"."""
    if unread and stage.status is None:
        return NO_STATE
    return APPROVAL if stage.awaiting_approval is not None else look(stage.status)


def action_look(action: Action, unread: bool = False) -> StatusLook:
    if unread and action.status is None:
        return NO_STATE
    return APPROVAL if action.awaiting_approval else look(action.status)


def execution_arn_of(action: Action) -> str | None:
    """The Step Functions execution a StepFunctions action ran (its externalExecutionId), if any."""
    external = action.external_execution_id or ""
    if action.provider == "StepFunctions" and external.startswith(SFN_ARN) and ":execution:" in external:
        return external
    return None


def wave_text(wave: Wave | None, width: int) -> Text:
    if wave is None:
        return Text("—", style="dim", end="")
    if wave.is_production:
        return Text("▲ " + wave_label(wave, max(width - 2, 3)), style="bold", end="")
    return Text(wave_label(wave, width), style="bold", end="")


def last_change(stage: Stage) -> datetime | None:
    changes = [a.last_status_change for a in stage.actions if a.last_status_change is not None]
    return max(changes) if changes else None


def revision_text(execution: PipelineExecution | None) -> Text:
    """`a1b2c3d4 Fix order totals rounding` for an execution's (first) source revision."""
    text = Text(end="")
    if execution is None or execution.revision is None:
        return text
    text.append(clean(execution.revision.short))
    message = commit_message(execution.revision.summary)
    if message:
        text.append(" ")
        text.append(message, style="dim")
    return text


# --- the stages table -------------------------------------------------------------------------------------


def stage_columns(width: int) -> list[ListColumn]:
    """The stages table's columns for a table `width` cells wide (80 columns: no execution column)."""
    wide = width >= 110
    wave = 13 if width >= 100 else 10
    name = 24 if wide else 19
    status = 13
    run = 20 if wide else 0
    changed = 8 if width >= 100 else 4
    count = 6 if run else 5
    detail = max(usable_width(width, count) - wave - name - status - run - changed, 10)
    columns = [
        ListColumn("wave", "Wave", wave),
        ListColumn("name", "Stage / action", name),
        ListColumn("status", "Status", status),
    ]
    if run:
        columns.append(ListColumn("run", "Execution · revision", run))
    columns += [
        ListColumn("detail", "Detail", detail),
        ListColumn("changed", "Changed" if changed >= 7 else "Age", changed),
    ]
    return columns


def stage_rows(pipeline: Pipeline, now: datetime, wave_width: int = 13, run_column: bool = True) -> list[Row]:
    """One row per stage and one per action, in pipeline order; the wave named where a wave begins."""
    rows: list[Row] = []
    previous: object = object()
    for stage in pipeline.stages:
        wave_name = stage.wave.name if stage.wave else None
        first_of_wave = wave_name != previous
        previous = wave_name
        cells = _stage_cells(pipeline, stage, now, wave_width if first_of_wave else 0, run_column)
        rows.append(Row(stage_key(stage.name), cells))
        entry = [c for c in stage.conditions if c.kind is ConditionKind.BEFORE_ENTRY]
        rows.extend(_condition_rows(stage, entry, now))
        ordered = sorted(stage.actions, key=lambda a: a.run_order)
        for index, action in enumerate(ordered):
            last = index == len(ordered) - 1
            cells = _action_cells(action, now, last)
            if pipeline.note and action.status is None:
                cells["status"] = NO_STATE.text()
            rows.append(Row(action_key(stage.name, action.name), cells))
        rows.extend(_condition_rows(stage, [c for c in stage.conditions if c not in entry], now))
    return rows


def _condition_rows(stage: Stage, conditions: list[StageCondition], now: datetime) -> list[Row]:
    """One row per rule: `◇ entry: Window`, its status (a hold as `◷ bake 4m`), provider, what it watches."""
    rows = []
    for condition in conditions:
        rules: list[Rule | None] = list(condition.rules) or [None]
        for rule in rules:
            key = condition_key(stage.name, condition.kind, rule.name if rule else None)
            rows.append(Row(key, _condition_cells(condition, rule, now)))
    return rows


def _condition_cells(condition: StageCondition, rule: Rule | None, now: datetime) -> dict[str, Text]:
    name = Text(f" ◇ {CONDITION_WORDS[condition.kind]}", style="dim", end="")
    if rule is not None:
        name.append(": ")
        name.append(clean(rule.name))
    status_word = rule.status if rule is not None and rule.status else condition.status
    if condition.status == "Overridden":
        status_word = condition.status  # its rules read Abandoned: the override is what happened
    if condition.in_progress and condition.kind.overridable and (rule is None or rule.status == "InProgress"):
        hold = hold_look(condition)
        label = hold_label(condition, now) if rule is None or rule.ends() else hold.label
        status = Text(label, style=hold.tone.style, end="")
    else:
        status = look(status_word).text()
    detail = Text(end="")
    results = "/".join(condition.results)
    if rule is None:
        detail.append(f"result {results}" if results else "", style="dim")
        if condition.summary:
            detail.append(" · " if detail else "")
            detail.append(clean(condition.summary))
    else:
        watches = rule_watches(rule, now)
        if watches:
            detail.append(clean(watches))
        if rule.summary:
            detail.append(" · " if detail else "")
            detail.append(clean(rule.summary), style="dim")
    changed = rule.last_status_change if rule is not None else None
    return {
        "name": name,
        "status": status,
        "run": Text(clean(rule.provider) if rule is not None else "", style="dim", end=""),
        "detail": detail,
        "changed": Text(coarse_age(changed, now) if changed else "", style="dim"),
    }


def _stage_cells(pipeline: Pipeline, stage: Stage, now: datetime, wave_width: int, run_column: bool) -> dict[str, Text]:
    status = stage_look(stage, unread=pipeline.note is not None)
    name = Text(end="")
    if stage.paused:
        name.append(f"{PAUSED.glyph} ", style=PAUSED.tone.style)
    name.append(clean(stage.name), style="bold")
    execution = pipeline.execution(stage.execution_id)
    run = Text(end="")
    if stage.execution_id:
        run.append(clean(stage.execution_id)[:8])
        if stage.execution_type == "ROLLBACK":
            run.append(" ↩", style="yellow")
        if execution is not None and execution.revision is not None:
            run.append(" " + clean(execution.revision.short))
    return {
        "wave": wave_text(stage.wave, wave_width) if wave_width else Text(""),
        "name": name,
        "status": status.text(),
        "run": run,
        "detail": stage_summary(pipeline, stage, now, revision=not run_column),
        "changed": Text(coarse_age(last_change(stage), now) if last_change(stage) else "", style="dim"),
    }


def stage_summary(pipeline: Pipeline, stage: Stage, now: datetime, *, revision: bool = True) -> Text:
    """The one line that says most about a stage: paused (why), waiting, held by a condition (a bake and its
    time left, a closed window), an approval, failed (what), else the commit message (after the short
    revision unless the table shows it in its own column)."""
    text = Text(end="")
    if stage.paused:
        reason = clean(stage.inbound.disabled_reason) or "no reason given"
        text.append(f"{PAUSED.label}: ", style=PAUSED.tone.style)
        text.append(reason)
    if stage.inbound_executions:
        if text:
            text.append(" · ")
        count = len(stage.inbound_executions)
        text.append(f"{WAITING.glyph} {count} waiting to enter", style=WAITING.tone.style)
    held = stage.held_by
    if held is not None:
        if text:
            text.append(" · ")
        text.append(hold_label(held, now), style=hold_look(held).tone.style)
        watched = ", ".join(w for w in (r.watches() for r in held.rules if r.status == "InProgress") if w)
        if watched:
            text.append(" · " + clean(watched))
    if text:
        return text
    waiting = stage.awaiting_approval
    if waiting is not None:
        asks = dict(waiting.configuration).get("CustomData", "")
        text.append(f"{waiting.name} waits for a person", style=APPROVAL.tone.style)
        if asks:
            text.append(": ")
            text.append(clean(asks))
        return text
    failed = next((a for a in stage.actions if a.status == "Failed"), None)
    if failed is not None:
        text.append(clean(failed.name) + ": ", style="bold")
        text.append(clean(failed.error_message or failed.summary or failed.error_code or "failed"), style="red")
        return text
    if stage.execution_type == "ROLLBACK":
        text.append("rollback ", style="yellow")
    execution = pipeline.execution(stage.execution_id)
    if revision:
        return text + revision_text(execution)
    if execution is not None and execution.revision is not None:
        text.append(commit_message(execution.revision.summary), style="dim")
    return text


def _action_cells(action: Action, now: datetime, last: bool) -> dict[str, Text]:
    name = Text(" └ " if last else " ├ ", style="dim", end="")
    name.append(clean(action.name))
    run = Text(clean(action.provider or action.category), style="dim", end="")
    if execution_arn_of(action):
        run.append(" ⇢ g", style="bold")
    return {
        "name": name,
        "status": action_look(action).text(),
        "run": run,
        "detail": action_summary(action),
        "changed": Text(coarse_age(action.last_status_change, now) if action.last_status_change else "", style="dim"),
    }


def action_summary(action: Action) -> Text:
    """An action in one line: its error, what its approval asks, its summary, or its external id."""
    text = Text(end="")
    if action.error_code or action.error_message:
        if action.error_code:
            text.append(clean(action.error_code) + ": ", style="bold red")
        text.append(clean(action.error_message or ""), style="red")
        return text
    if action.awaiting_approval:
        asks = dict(action.configuration).get("CustomData", "")
        return literal(asks or "waits for a person: a approve · x reject", style=APPROVAL.tone.style)
    if action.summary:
        return literal(commit_message(action.summary) if action.category == "Source" else action.summary)
    if action.percent_complete is not None and action.status == "InProgress":
        text.append(f"{action.percent_complete}% complete")
        return text
    if action.current_revision:
        return literal(action.current_revision[:12], style="dim")
    if action.external_execution_id:
        return literal(action.external_execution_id.rsplit(":", 1)[-1], style="dim")
    return text


# --- the executions table ---------------------------------------------------------------------------------


def execution_columns(width: int) -> list[ListColumn]:
    """The executions table's columns (80 columns: no trigger, the type as a mark)."""
    wide = width >= 110
    ident = 9
    status = 13
    kind = 10 if wide else 2
    trigger = 16 if wide else 0
    started = 8
    took = 8 if wide else 7
    count = 7 if trigger else 6
    revision = max(usable_width(width, count) - ident - status - kind - trigger - started - took, 10)
    columns = [
        ListColumn("id", "Execution", ident),
        ListColumn("status", "Status", status),
        ListColumn("type", "Type" if wide else "", kind),
    ]
    if trigger:
        columns.append(ListColumn("trigger", "Trigger", trigger))
    columns += [
        ListColumn("revision", "Revision", revision),
        ListColumn("started", "Started", started),
        ListColumn("took", "Took", took),
    ]
    return columns


def execution_rows(pipeline: Pipeline, now: datetime, *, wide: bool = True) -> list[Row]:
    """One row per execution, newest first; `wide=False`: the type as a mark only (↩ for a rollback)."""
    return [Row(e.id, _execution_cells(e, now, wide)) for e in pipeline.executions]


def _execution_cells(execution: PipelineExecution, now: datetime, wide: bool) -> dict[str, Text]:
    running = execution.status in ("InProgress", "Stopping")
    end = None if running else execution.updated
    if execution.is_rollback:
        kind = Text("↩ rollback" if wide else "↩", style="yellow", end="")
    else:
        kind = Text("standard" if wide else "", style="dim", end="")
    return {
        "id": Text(clean(execution.id)[:8], end=""),
        "status": look(execution.status).text(),
        "type": kind,
        "trigger": literal(trigger_label(execution.trigger_type), style="dim"),
        "revision": revision_text(execution),
        "started": Text(f"{coarse_age(execution.started, now)} ago" if execution.started else "—", style="dim"),
        "took": Text(duration(execution.started, end, now), style="dim"),
    }


def trigger_label(trigger: str) -> str:
    """AWS's trigger type in fewer letters: `CloudWatchEvent` → `event`, `StartPipelineExecution` → `manual`."""
    return {
        "CloudWatchEvent": "event",
        "StartPipelineExecution": "manual start",
        "Webhook": "webhook",
        "WebhookV2": "webhook",
        "PollForSourceChanges": "poll",
        "CreatePipeline": "pipeline created",
        "PutActionRevision": "revision put",
        "AutomatedRollback": "auto rollback",
        "ManualRollback": "manual rollback",
    }.get(trigger, clean(trigger) or "—")


# --- the detail panel -------------------------------------------------------------------------------------


def _line(label: str, value: Text | str, style: str = "") -> Text:
    text = Text(f"{label}: ", style="dim", end="")
    text.append_text(value if isinstance(value, Text) else literal(value, style=style))
    return text


def _when(moment: datetime | None, now: datetime) -> str:
    return f"{clock_time(moment)} ({age(moment, now)} ago)" if moment is not None else "—"


def stage_detail(pipeline: Pipeline, stage: Stage, now: datetime) -> Text:
    """Everything about a stage: wave, status, execution and revision, inbound transition, who waits."""
    status = stage_look(stage, unread=pipeline.note is not None)
    head = literal(stage.name, style="bold")
    head.append("  ")
    head.append_text(status.text())
    if stage.wave is not None:
        head.append("  ")
        head.append_text(wave_text(stage.wave, 20))
        head.append(f" ({stage.wave.risk.label}" + (f", {stage.wave.description})" if stage.wave.description else ")"))
    else:
        head.append("  no wave (runs before the waves)", style="dim")
    lines = [head]
    execution = pipeline.execution(stage.execution_id)
    if stage.execution_id:
        run = Text(clean(stage.execution_id), end="")
        run.append(f" ({stage.execution_type})", style="yellow" if stage.execution_type == "ROLLBACK" else "dim")
        if execution is not None and execution.revision is not None:
            run.append(" · ")
            run.append_text(revision_text(execution))
        lines.append(_line("Execution", run))
    lines.append(_line("Inbound", inbound_text(pipeline, stage, now)))
    if stage.inbound_executions:
        waiting = Text(end="")
        for index, inbound in enumerate(stage.inbound_executions):
            if index:
                waiting.append(", ")
            waiting.append(clean(inbound.id)[:8])
            waiting.append(f" ({look(inbound.status).word}", style="dim")
            waiting.append(", rollback)" if inbound.execution_type == "ROLLBACK" else ")", style="dim")
        lines.append(_line(f"{WAITING.glyph} Waiting to enter", waiting))
    lines.extend(condition_lines(stage, now))
    return Text("\n", end="").join(lines)


def condition_lines(stage: Stage, now: datetime) -> list[Text]:
    """Each kind of condition (result, status, AWS's summary), then each rule: provider, status, what it
    watches and for how long yet, AWS's summary; and what the override key would do."""
    lines: list[Text] = []
    for condition in stage.conditions:
        head = Text(f"{condition.kind.label.capitalize()} conditions", style="dim", end="")
        results = "/".join(condition.results)
        head.append(f" ({results}): " if results else ": ", style="dim")
        if condition.in_progress and condition.kind.overridable:
            hold = hold_look(condition)
            head.append(hold_label(condition, now), style=hold.tone.style)
        else:
            head.append_text(look(condition.status).text() if condition.status else Text("not evaluated", style="dim"))
        if condition.summary:
            head.append(" — ")
            head.append(clean(condition.summary))
        lines.append(head)
        for rule in condition.rules:
            line = Text("  ", end="")
            line.append(clean(rule.name), style="bold")
            line.append(f" {clean(rule.provider) or '?'} ", style="dim")
            line.append_text(look(rule.status).text() if rule.status else Text("not evaluated", style="dim"))
            watches = rule_watches(rule, now)
            if watches:
                line.append(" · " + clean(watches))
            if rule.summary:
                line.append(" — ")
                line.append(clean(rule.summary))
            if rule.error_code:
                line.append(f" ({clean(rule.error_code)})", style="red")
            lines.append(line)
    held = stage.held_by
    if held is not None:
        why = held.not_overridable
        hint = f"override: {why}" if why else f"O overrides the {held.kind.label} condition (with a reason)"
        lines.append(Text(hint, style=hold_look(held).tone.style, end=""))
    return lines


def inbound_text(pipeline: Pipeline, stage: Stage, now: datetime) -> Text:
    if pipeline.stages and pipeline.stages[0].name == stage.name:
        return Text("none (the first stage)", style="dim", end="")
    inbound = stage.inbound
    if inbound.enabled:
        text = Text("✓ enabled: promotion flows in", end="")
        if inbound.last_changed_at is not None:
            text.append(f" (since {_when(inbound.last_changed_at, now)})", style="dim")
        return text
    text = Text(f"{PAUSED.label}: promotion into {clean(stage.name)} is held", style=PAUSED.tone.style, end="")
    if inbound.last_changed_by:
        text.append(" by ")
        text.append(clean(inbound.last_changed_by))
    if inbound.last_changed_at is not None:
        text.append(f" at {_when(inbound.last_changed_at, now)}")
    text.append(" — ")
    text.append(clean(inbound.disabled_reason) or "no reason given", style="bold")
    return text


def action_detail(stage: Stage, action: Action, now: datetime) -> Text:
    """Everything about an action: kind, status, timings, summary, error, external ids and links."""
    status = action_look(action)
    head = literal(action.name, style="bold")
    head.append("  ")
    head.append_text(status.text())
    kind = " · ".join(clean(p) for p in (action.category, action.provider) if p)
    head.append(f"  {kind}" if kind else "", style="dim")
    head.append(f" · run order {action.run_order} in {clean(stage.name)}", style="dim")
    lines = [head]
    timing = Text(end="")
    if action.status == "InProgress":
        timing.append(f"started {_when(action.last_status_change, now)}")
        timing.append(f" · running for {age(action.last_status_change, now)}")
        if action.percent_complete is not None:
            timing.append(f" · {action.percent_complete}% complete")
    elif action.last_status_change is not None:
        timing.append(f"last change {_when(action.last_status_change, now)}")
    else:
        timing.append("not run in the latest execution", style="dim")
    if action.last_updated_by:
        timing.append(" · by ")
        timing.append(clean(action.last_updated_by))
    lines.append(_line("Timing", timing))
    if action.error_code or action.error_message:
        error = Text(end="")
        if action.error_code:
            error.append(clean(action.error_code) + ": ", style="bold red")
        error.append(clean(action.error_message or ""), style="red")
        lines.append(_line(f"{ERROR.glyph} Error", error))
    if action.summary:
        lines.append(
            _line("Summary", commit_message(action.summary) if action.category == "Source" else action.summary)
        )
    configuration = dict(action.configuration)
    if action.is_approval:
        if configuration.get("CustomData"):
            lines.append(_line("Asks", configuration["CustomData"]))
        if configuration.get("ExternalEntityLink"):
            lines.append(_line("Link", configuration["ExternalEntityLink"]))
        if action.awaiting_approval:
            lines.append(Text("a approves · x rejects (with a reason)", style=APPROVAL.tone.style, end=""))
    if action.external_execution_id:
        external = literal(action.external_execution_id)
        if execution_arn_of(action):
            external.append("  (g opens this execution)", style="bold")
        lines.append(_line("External id", external))
    if action.external_execution_url:
        lines.append(_line("URL", action.external_execution_url))
    if action.entity_url:
        lines.append(_line("Console", action.entity_url))
    if action.current_revision:
        lines.append(_line("Revision", action.current_revision))
    return Text("\n", end="").join(lines)


def execution_detail(pipeline: Pipeline, execution: PipelineExecution, now: datetime) -> Text:
    """One pipeline execution: status, type, trigger, revisions with messages, timings, why it stopped."""
    head = Text(clean(execution.id), style="bold", end="")
    head.append("  ")
    head.append_text(look(execution.status).text())
    head.append(f"  {execution.execution_type}", style="yellow" if execution.is_rollback else "dim")
    lines = [head]
    if execution.is_rollback and execution.rollback_target:
        lines.append(_line("Rolls back to", execution.rollback_target))
    trigger = literal(trigger_label(execution.trigger_type))
    if execution.trigger_detail:
        trigger.append(" — ")
        trigger.append(clean(execution.trigger_detail), style="dim")
    lines.append(_line("Trigger", trigger))
    for revision in execution.source_revisions:
        text = Text(f"{clean(revision.short)} ", end="")
        text.append(commit_message(revision.summary))
        text.append(f"  ({clean(revision.action_name)})", style="dim")
        if revision.url:
            text.append(f"  {clean(revision.url)}", style="dim")
        lines.append(_line("Revision", text))
    running = execution.status in ("InProgress", "Stopping")
    timing = Text(f"started {_when(execution.started, now)}", end="")
    if execution.updated is not None:
        timing.append(f" · last change {_when(execution.updated, now)}")
    timing.append(f" · {'running for' if running else 'took'} ")
    timing.append(duration(execution.started, None if running else execution.updated, now))
    lines.append(_line("Timing", timing))
    if execution.status_summary:
        lines.append(_line("Summary", execution.status_summary))
    if execution.stop_reason:
        lines.append(_line("Stopped because", execution.stop_reason))
    stages = [s.name for s in pipeline.stages if s.execution_id == execution.id]
    if stages:
        lines.append(_line("Latest in", ", ".join(stages)))
    return Text("\n", end="").join(lines)


PARTIAL_MARK = "◐ partial:"


def title_text(pipeline: Pipeline, stale: bool, now: datetime, target_label: str | None = None) -> Text:
    """The line under the header: the pipeline, its mode, its latest execution; stale or failing reads."""
    text = literal(pipeline.name, style="bold")
    target = clean(target_label or pipeline.target)
    text.append(f" · {target} · {pipeline.pipeline_type} {pipeline.execution_mode}", style="dim")
    latest = pipeline.latest_execution
    if latest is not None:
        text.append(" · latest ")
        text.append_text(look(latest.status).text())
        text.append(f" {clean(latest.id)[:8]}", style="dim")
        if latest.is_rollback:
            text.append(" ↩ rollback", style="yellow")
    if pipeline.error:
        text.append(f"\n{ERROR.glyph} could not read it: ", style=ERROR.tone.style)
        text.append(clean(pipeline.error))
    elif pipeline.note:
        # Part of the picture could not be read: said in one line, with what is shown instead.
        text.append(f"\n{PARTIAL_MARK} ", style="bold yellow")
        text.append(clean(pipeline.note))
    if stale:
        text.append(f"\n{STALE.glyph} stale: last read {ago(pipeline.read_at, now)}", style="bold")
        text.append(" (what you see may have changed; ctrl+r reads now)", style="dim")
    return text


def attention_key(pipeline: Pipeline) -> str | None:
    """The row an operator opening the pipeline most likely wants: a waiting approval, a failure, a paused
    stage, what is running; else the first stage."""
    for wanted in (
        lambda s: s.awaiting_approval is not None,
        lambda s: s.status == "Failed",
        lambda s: s.paused,
        lambda s: s.status in ("InProgress", "Stopping"),
    ):
        stage = next((s for s in pipeline.stages if wanted(s)), None)
        if stage is not None:
            action = stage.awaiting_approval or next((a for a in stage.actions if a.status == "Failed"), None)
            return action_key(stage.name, action.name) if action is not None else stage_key(stage.name)
    return stage_key(pipeline.stages[0].name) if pipeline.stages else None
