"""benchmarks/picture_transfer.py measures a watcher process's crossing: what it sends must be the whole change.

The benchmark times pickling what changed between two pictures and laying it over the UI's copy; these check
that what it times is complete: the UI's copy after the crossing is the watcher's picture, resource for resource.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

from benchmarks.picture_transfer import changes, lay_over, plain
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.model import FleetUpdate
from tests.ui.conftest import ago, fleet_picture


def test_what_crosses_is_the_whole_change_and_only_it() -> None:
    before = fleet_picture()
    pipelines = dict(before.of(CODEPIPELINE))
    moved = next(iter(pipelines))
    pipelines[moved] = replace(pipelines[moved], read_at=ago(1))  # read again: a new object
    gone = list(pipelines)[-1]
    del pipelines[gone]
    after = replace(before.with_resources(CODEPIPELINE, pipelines), cached=frozenset({moved}))

    sent = changes(before, after, FleetUpdate(after))
    assert {key for new in sent["changed"].values() for key in new} == {moved}  # the unchanged stay behind
    assert sent["gone"] == {CODEPIPELINE: [gone]}
    assert sent["cached"] == frozenset({moved})
    assert "approvals" not in sent

    mine = lay_over(plain(before), pickle.loads(pickle.dumps(sent, pickle.HIGHEST_PROTOCOL)))
    assert mine == plain(after)
    assert mine["resources"][CODEPIPELINE][moved].read_at == ago(1)
