"""A pipeline's new picture reuses the objects of the picture before wherever they are equal (`reusing`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from console.codepipeline.model import Action, Pipeline, PipelineExecution, Stage, reusing

READ = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def picture(deploy: str = "Succeeded", runs: tuple[str, ...] = ("e2", "e1")) -> Pipeline:
    # Built anew, as every read builds it: equal values, new objects.
    stages = (
        Stage("Source", status="Succeeded", actions=(Action("Source", status="Succeeded"),)),
        Stage("Deploy", status=deploy, actions=(Action("Deploy", status=deploy),)),
    )
    executions = tuple(PipelineExecution(id=run, status="Succeeded") for run in runs)
    return Pipeline(target="t", name="p", stages=stages, executions=executions, read_at=READ)


def test_nothing_changed_shares_the_stages_and_executions_whole() -> None:
    before = picture()
    after = reusing(before, replace(picture(), read_at=READ.replace(minute=1)))
    assert after == replace(before, read_at=READ.replace(minute=1))
    assert after.stages is before.stages
    assert after.executions is before.executions


def test_what_changed_is_new_and_the_rest_is_shared() -> None:
    before = picture()
    after = reusing(before, picture(deploy="InProgress", runs=("e3", "e2", "e1")))
    assert after == picture(deploy="InProgress", runs=("e3", "e2", "e1"))
    assert after.stages[0] is before.stages[0]
    assert after.stages[1] is not before.stages[1]
    assert after.executions[0] not in before.executions
    assert after.executions[1] is before.executions[0]  # by id, wherever it moved
    assert after.executions[2] is before.executions[1]


def test_a_first_picture_is_itself() -> None:
    first = picture()
    assert reusing(None, first) is first
