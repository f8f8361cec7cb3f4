"""A pipeline's state as a team shares it (`console/shared_reads.py`): never with an approval's token.

A manual approval's token (and a parallel approval's external execution id, which is its token) is what
PutApprovalResult needs: like the warm-start cache, a shared read leaves it out. A console that receives one
keeps the token it read itself for the same approval; an approval it has not read yet it reads itself (as an
approval's event makes it do), since the gate needs that token and says "waiting for approval" only with it.
GetPipelineState names no action's category: which actions are approvals comes from the structure, so a read is
shared only when the structure of its version is known, and every token of it is left out whatever the action.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from console import cache_codec
from console.codepipeline.model import Action, Pipeline, PipelineState, Stage

Approvals = frozenset[tuple[str, str]]  # (stage, action) of a pipeline's manual approvals


def approvals_of(structure: Pipeline | None, state: PipelineState) -> Approvals | None:
    """The manual approvals of `state`'s pipeline, from its structure (GetPipelineState names no action's
    category); None when the structure is not known, or is of another version than the state."""
    if structure is None or (state.version is not None and structure.version != state.version):
        return None
    return frozenset((s.name, a.name) for s in structure.stages for a in s.actions if a.is_approval)


def shared_payload(state: PipelineState, approvals: Approvals) -> dict[str, Any]:
    """What is published of a read: the state without any token, nor an approval's external execution id."""
    return cache_codec.encode(without_tokens(state, approvals))


def without_tokens(state: PipelineState, approvals: Approvals) -> PipelineState:
    def clean(stage: Stage) -> Stage:
        actions = tuple(
            replace(
                a,
                token=None,
                external_execution_id=None if (stage.name, a.name) in approvals else a.external_execution_id,
            )
            for a in stage.actions
        )
        return stage if actions == stage.actions else replace(stage, actions=actions)

    return replace(state, stages=tuple(clean(s) for s in state.stages))


def with_own_tokens(
    own: PipelineState | None, shared: PipelineState, approvals: Approvals | None
) -> tuple[PipelineState, bool]:
    """`shared` with the tokens `own` holds for the same approvals (the same stage execution, still running),
    and whether it shows a running approval this console has not read (its token is then to be read). With
    `approvals` unknown (no structure yet) every running action may be one."""
    own_stages = {s.name: s for s in own.stages} if own is not None else {}
    unknown = False
    stages = []
    for stage in shared.stages:
        mine = own_stages.get(stage.name)
        actions = []
        for action in stage.actions:
            approval = approvals is None or (stage.name, action.name) in approvals
            if not (approval and action.status == "InProgress"):
                actions.append(action)
                continue
            same = _same_approval(mine, stage, action)
            if same is None:
                unknown = True
                actions.append(action)
            else:
                actions.append(replace(action, token=same.token, external_execution_id=same.external_execution_id))
        stages.append(replace(stage, actions=tuple(actions)) if actions != list(stage.actions) else stage)
    return replace(shared, stages=tuple(stages)), unknown


def _same_approval(mine: Stage | None, stage: Stage, action: Action) -> Action | None:
    """This console's own read of the approval `action` of `stage`, if it shows the same one running."""
    if mine is None or mine.execution_id != stage.execution_id:
        return None
    found = next((a for a in mine.actions if a.name == action.name), None)
    if found is None or found.status != "InProgress":
        return None
    ids = (found.action_execution_id, action.action_execution_id)
    return None if all(ids) and ids[0] != ids[1] else found
