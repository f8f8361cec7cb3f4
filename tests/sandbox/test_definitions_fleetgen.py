"""A generated large fleet (benchmarks, scale tests) loads, and a sandbox of it starts and moves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.fleetgen import main, write_fleet
from console.sandbox_process import start_sandbox_process
from tests.conftest import SPEED, make_client


def test_the_generated_fleet_loads_with_the_sizes_asked_for(tmp_path: Path) -> None:
    directory = write_fleet(tmp_path / "definitions", pipelines=500, state_machines=50)
    fleet = load_fleet(directory)
    assert len(fleet.pipelines) == 500
    assert len(fleet.state_machines) == 50
    assert len({p.name for p in fleet.pipelines}) == 500
    assert fleet.pipeline("checkout-api-000") is not None
    assert fleet.pipeline("edge-router-006") is not None
    assert fleet.pipeline("edge-router-006").region == "us-west-2"  # type: ignore[union-attr]
    assert fleet.state_machine("wave-deployment-000") is not None
    assert fleet.traffic.warm_up == 600


def test_fleetgen_refuses_fewer_state_machines_than_the_pipelines_use(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least that many"):
        write_fleet(tmp_path, pipelines=10, state_machines=2)
    assert main([str(tmp_path / "x"), "--pipelines", "0"]) == 2


def test_a_sandbox_of_200_generated_pipelines_starts_warmed_up(tmp_path: Path) -> None:
    directory = write_fleet(tmp_path / "definitions", pipelines=200, state_machines=50)
    with start_sandbox_process(speed=SPEED, definitions=directory, traffic=False, timeout=120) as sandbox:
        names = [
            p["name"]
            for region in ("us-east-1", "us-west-2")
            for page in make_client(sandbox.url, "codepipeline", region).get_paginator("list_pipelines").paginate()
            for p in page["pipelines"]
        ]
        assert len(names) == 200
        sfn = make_client(sandbox.url, "stepfunctions")
        machines = [m for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]]
        assert len(machines) == 50
        history = make_client(sandbox.url, "codepipeline").list_pipeline_executions(pipelineName="catalog-service-002")
        assert history["pipelineExecutionSummaries"], "the warm-up played history for generated pipelines too"
        ready = re.search(r"ready in ([\d.]+)s", sandbox.stderr_tail())
        assert ready is not None, sandbox.stderr_tail()
        # Benchmarks start such sandboxes: time to ready stays modest (a few seconds; generous for slow CI).
        assert float(ready.group(1)) < 60
