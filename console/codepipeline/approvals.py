"""What waits for a person on CodePipeline: manual approvals, and stages held before entry by alarms, which only
an override (or the alarms clearing) ends.

Pure functions over model objects; the pipeline poller calls them after every read, and the warm start on the
cached pictures. The tokens themselves stay out of the Approval: the action gate reads them fresh, so an approval
whose token is not known (from the cache, or told by an event) is listed all the same.
"""

from __future__ import annotations

from datetime import timedelta

from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import ConditionKind, Pipeline
from console.model import Approval

__all__ = ["condition_holds", "pipeline_approvals"]

# AWS: "If you do not approve or reject within seven days, the action times out" (per-action override:
# ActionDeclaration.timeoutInMinutes).
DEFAULT_APPROVAL_TIMEOUT = timedelta(days=7)


def pipeline_approvals(pipeline: Pipeline) -> list[Approval]:
    """Every manual approval of `pipeline` waiting for a person (`Action.awaiting_approval`), in stage order."""
    out: list[Approval] = []
    for stage in pipeline.stages:
        for action in stage.actions:
            if not action.awaiting_approval:
                continue
            since = action.last_status_change
            timeout = timedelta(minutes=action.timeout_minutes) if action.timeout_minutes else DEFAULT_APPROVAL_TIMEOUT
            configuration = dict(action.configuration)
            execution = pipeline.execution(stage.execution_id)
            out.append(
                Approval(
                    kind=CODEPIPELINE,
                    target=pipeline.target,
                    resource=f"{pipeline.name}/{stage.name}/{action.name}",
                    wave=stage.wave,
                    since=since,
                    expires=since + timeout if since is not None else None,
                    revision=execution.revision if execution is not None else None,
                    custom_data=configuration.get("CustomData", ""),
                    url=configuration.get("ExternalEntityLink") or None,
                    execution=stage.execution_id,
                )
            )
    return out


def condition_holds(pipeline: Pipeline) -> list[Approval]:
    """Every stage held by entry conditions waiting on alarms that an override would pass, in stage order.

    A closed deployment window or a bake ends by itself when its time comes; entry conditions waiting for
    alarms to clear fail the stage when their WaitTime runs out, unless a person decides to go in anyway.
    """
    out: list[Approval] = []
    for stage in pipeline.stages:
        held = stage.held_by
        if held is None or held.kind is not ConditionKind.BEFORE_ENTRY or held.not_overridable is not None:
            continue
        waiting = [r for r in held.rules if r.status == "InProgress"]
        alarms = [name for rule in waiting for name in rule.alarms]
        if not alarms:
            continue
        starts = [r.last_status_change for r in waiting if r.last_status_change is not None]
        summary = "; ".join(r.summary for r in waiting if r.summary)
        execution = pipeline.execution(stage.execution_id)
        out.append(
            Approval(
                kind=CODEPIPELINE,
                target=pipeline.target,
                resource=f"{pipeline.name}/{stage.name}",
                wave=stage.wave,
                since=min(starts, default=None),
                expires=held.ends(),
                revision=execution.revision if execution is not None else None,
                custom_data=f"entry held by alarm {', '.join(alarms)}" + (f": {summary}" if summary else ""),
                url=next((r.url for r in waiting if r.url), None),
                execution=stage.execution_id,
                condition=held.kind,
            )
        )
    return out
