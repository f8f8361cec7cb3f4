"""One send across processes: two `wavedeck` commands racing for the same rollback or redrive start one.

The in-flight lock of the gate only works inside one process. Across processes, the request itself carries
what makes AWS refuse the second: the rollback execution's name, and RedriveExecution's clientToken, are
derived from what is rolled back or redriven, never made up at random. The sandbox answers slowly here
(`--latency`), as AWS does, so both commands have planned before either has sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.actions import redrive_client_token, rollback_execution_name
from tests.conftest import REGION, SPEED, make_client
from tests.sandbox.test_stepfunctions_support import start, task_token, wait_event, wait_status

ROOT = Path(__file__).resolve().parents[2]
LATENCY_MS = 500


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[SandboxProcess]:
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, latency=LATENCY_MS) as process:
        yield process


def _machine_arn(sfn: object, name: str) -> str:
    machines = sfn.list_state_machines()["stateMachines"]  # type: ignore[attr-defined]
    return next(m["stateMachineArn"] for m in machines if m["name"] == name)


def test_two_processes_racing_for_one_rollback_start_one(slow_sandbox: SandboxProcess, tmp_path: Path) -> None:
    sfn = make_client(slow_sandbox.url, "stepfunctions")
    deployment = _machine_arn(sfn, "wave-deployment")
    rollback = _machine_arn(sfn, "wave-rollback")
    # Seed 1: the canary's alarm stays quiet (without a seed the run draws one, and about one in thirteen fires).
    good = start(sfn, deployment, {"service": "checkout", "revision": "good1111", "seed": 1})
    sfn.send_task_success(taskToken=task_token(wait_event(sfn, good, "TaskScheduled", timeout=90)), output="{}")
    wait_status(sfn, good, "SUCCEEDED", timeout=90)
    bad = start(sfn, deployment, {"service": "checkout", "revision": "bad22222", "seed": 1})
    sfn.stop_execution(executionArn=bad, error="Alarm", cause="5xx")
    wait_status(sfn, bad, "ABORTED", timeout=90)

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    # Reached by its URL, the sandbox is any endpoint: which state machine rolls a wave back is the config's to say.
    config = tmp_path / "config.yaml"
    config.write_text("waves:\n  state_machines:\n    wave-deployment: {wave: prod-canary, rollback: wave-rollback}\n")
    commands = [
        [sys.executable, "-m", "console", "rollback", "wave-deployment", "--reason", "r", "--yes",
         "--config", str(config), "--endpoint-url", slow_sandbox.url, "--region", REGION,
         "--audit-log", str(tmp_path / f"audit-{i}.jsonl")]
        for i in (1, 2)
    ]  # fmt: skip
    processes = [
        subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert any(p.returncode == 0 for p in processes), outputs
    started = sfn.list_executions(stateMachineArn=rollback)["executions"]
    assert len(started) == 1, (started, outputs)
    expected = rollback_execution_name("prod-canary", bad, "good1111")
    assert started[0]["name"] == expected
    assert all("Traceback" not in err for _, err in outputs)


def test_identifiers_are_derived_from_what_is_acted_on() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:wave-deployment:run-1"
    name = rollback_execution_name("prod-canary", arn, "good1111")
    assert name == rollback_execution_name("prod-canary", arn, "good1111")
    assert name != rollback_execution_name("prod-canary", arn, "other")
    assert name != rollback_execution_name("prod-canary", arn + "x", "good1111")
    assert len(name) <= 80
    assert rollback_execution_name("a b/c" * 30, arn, "r").startswith("rollback-a-b-c")
    assert len(rollback_execution_name("a b/c" * 30, arn, "r")) <= 80
    token = redrive_client_token(arn, 0)
    assert token == redrive_client_token(arn, 0)
    assert token != redrive_client_token(arn, 1)
    assert len(token) <= 64
