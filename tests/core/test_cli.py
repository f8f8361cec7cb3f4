"""The headless CLI against the sandbox: `wavedeck approve …`, its refusals and exit codes, and `watch --json`.

Action commands run in-process through `main()` (as the `wavedeck` script does) with dummy credentials in
the environment, so the real credential chain is what finds them. `watch` runs as a child process and is
stopped with SIGINT, as an operator's Ctrl-C would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

from console.__main__ import main
from console.actions.audit import AuditLog
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION, wait_until
from tests.sandbox.test_codepipeline_support import (
    action,
    action_state,
    approval,
    create,
    source,
    stage,
    start,
    wait_status,
    wait_token,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy keys where botocore's chain looks first (the sandbox accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def wavedeck(sandbox: SandboxProcess, *args: str, regions: tuple[str, ...] = (REGION,)) -> int:
    flags = ["--endpoint-url", sandbox.url]
    for region in regions:
        flags += ["--region", region]
    return main([*args, *flags])


def waiting_approval(cp: Any, stage_name: str = "Beta") -> tuple[str, str]:
    deploy = action("Deploy", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
    name = create(cp, source(), stage(stage_name, approval("Approve"), deploy), prefix="cli-approve")
    execution_id = start(cp, name)
    wait_token(cp, name, stage_name)
    return name, execution_id


@pytest.mark.usefixtures("credentials")
def test_approve_answers_a_waiting_approval_and_both_records_are_written(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name, execution_id = waiting_approval(cp, "Prod-Canary")
    log = tmp_path / "audit.jsonl"

    code = wavedeck(
        sandbox,
        "approve",
        f"{name}/Prod-Canary/Approve",
        "--reason",
        "Canary is healthy",
        "--yes",
        "--audit-log",
        str(log),
    )

    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Approve {name} / Prod-Canary / Approve" in out
    assert "This acts on production: confirm with the wave's name, prod-canary." in out
    assert f"Approved {name}/Prod-Canary/Approve (request id " in out
    assert action_state(cp, name, "Prod-Canary", "Approve")["latestExecution"]["summary"] == "Canary is healthy"
    assert [r["phase"] for r in AuditLog(log).records()] == ["intent", "result"]
    assert wait_status(cp, name, execution_id) == "Succeeded"


def test_without_region_the_profile_region_from_the_aws_config_is_used(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline", "us-west-2")
    name, _ = waiting_approval(cp)
    config_file = Path(os.environ["AWS_CONFIG_FILE"])
    config_file.write_text(
        "[profile ops]\nregion = us-west-2\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    log = tmp_path / "audit.jsonl"

    code = main(["approve", name, "--reason", "ok", "--yes", "--profile", "ops", "--endpoint-url", sandbox.url,
                 "--audit-log", str(log)])  # fmt: skip

    _, err = capsys.readouterr()
    assert code == 0, err
    assert {r["target"] for r in AuditLog(log).records()} == {"ops/us-west-2"}
    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["summary"] == "ok"


@pytest.mark.usefixtures("credentials")
def test_read_only_refuses_with_exit_1(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name, execution_id = waiting_approval(cp)
    log = tmp_path / "audit.jsonl"

    code = wavedeck(sandbox, "approve", name, "--reason", "ok", "--yes", "--read-only", "--audit-log", str(log))

    _, err = capsys.readouterr()
    assert code == 1
    assert "wavedeck: refused: read-only" in err
    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "InProgress"
    assert not log.exists()
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True)


@pytest.mark.usefixtures("credentials")
def test_a_read_only_target_in_the_config_refuses(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name, execution_id = waiting_approval(cp)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"targets:\n  - name: sandbox\n    region: {REGION}\n    endpoint_url: {sandbox.url}\n    read_only: true\n"
    )

    code = main(["approve", name, "--reason", "ok", "--yes", "--config", str(config)])

    _, err = capsys.readouterr()
    assert code == 1
    assert "wavedeck: refused: read-only: target sandbox is read-only in the config" in err
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True)


@pytest.mark.usefixtures("credentials")
def test_bad_and_unknown_resources(sandbox: SandboxProcess, capsys: pytest.CaptureFixture[str]) -> None:
    assert wavedeck(sandbox, "approve", "a//b", "--reason", "x", "--yes") == 2
    assert "not a resource name: 'a//b'" in capsys.readouterr().err

    assert wavedeck(sandbox, "approve", "no-such-pipeline/Beta", "--reason", "x", "--yes") == 1
    err = capsys.readouterr().err
    assert f"no pipeline or state machine named 'no-such-pipeline' in any target (default/{REGION})" in err

    assert wavedeck(sandbox, "approve", "checkout-api", "--reason", "x", "--yes", "--target", "elsewhere") == 2
    assert f"--target: no target named 'elsewhere' (targets: default/{REGION})" in capsys.readouterr().err


@pytest.mark.usefixtures("credentials")
def test_a_name_in_two_regions_needs_target(
    aws: Any, sandbox: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    east = aws("codepipeline")
    name = create(east, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="cli-twice")
    aws("codepipeline", "us-west-2").create_pipeline(pipeline=east.get_pipeline(name=name)["pipeline"])
    regions = (REGION, "us-west-2")

    assert wavedeck(sandbox, "stop", name, "--reason", "x", "--yes", regions=regions) == 2
    err = capsys.readouterr().err
    assert f"'{name}' exists in several targets (default/us-east-1, default/us-west-2)" in err
    assert "pick one with --target NAME" in err

    code = wavedeck(sandbox, "stop", name, "--reason", "x", "--yes", "--target", "default/us-west-2", regions=regions)
    assert code == 1
    assert f"wavedeck: refused: nothing is running in {name}" in capsys.readouterr().err


@pytest.mark.usefixtures("credentials")
def test_confirmation_is_needed_off_a_terminal_and_bad_reasons_refused(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="cli-pause")
    log = ["--audit-log", str(tmp_path / "audit.jsonl")]

    assert wavedeck(sandbox, "pause", f"{name}/Build", "--reason", "Release window", *log) == 2
    assert "not on a terminal: pass --yes" in capsys.readouterr().err
    assert wavedeck(sandbox, "pause", f"{name}/Build", *log) == 2
    assert "--reason TEXT is required" in capsys.readouterr().err
    assert wavedeck(sandbox, "pause", f"{name}/Build", "--reason", "hold, please", "--yes", *log) == 1
    assert "contains ',' at character 5, which AWS does not allow" in capsys.readouterr().err

    assert wavedeck(sandbox, "pause", f"{name}/Build", "--reason", "Release window", "--yes", *log) == 0
    inbound = cp.get_pipeline_state(name=name)["stageStates"][1]["inboundTransitionState"]
    assert inbound["enabled"] is False
    assert inbound["disabledReason"] == "Release window"
    assert wavedeck(sandbox, "resume", f"{name}/Build", "--reason", "Window open", "--yes", *log) == 0
    assert cp.get_pipeline_state(name=name)["stageStates"][1]["inboundTransitionState"]["enabled"] is True


def test_no_credentials_points_to_the_sandbox(sandbox: SandboxProcess, capsys: pytest.CaptureFixture[str]) -> None:
    assert wavedeck(sandbox, "approve", "checkout-api", "--reason", "x", "--yes") == 1
    err = capsys.readouterr().err
    assert "no AWS credentials were found" in err
    assert "--sandbox" in err
    assert "Traceback" not in err


def test_bad_config_is_exit_2_naming_file_line_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("read_only: false\nintervalz: {focused: 1s}\n")
    assert main(["approve", "checkout-api", "--reason", "x", "--yes", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{config}:2" in err
    assert "intervalz" in err


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["approve"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--region", "mars-1", "watch"]) == 2
    assert "not an AWS region: 'mars-1'" in capsys.readouterr().err


def test_watch_json_prints_json_lines_until_ctrl_c(aws: Any, sandbox: SandboxProcess, tmp_path: Path) -> None:
    # A region of its own: this watcher reads only this test's pipeline, however many other tests made.
    region = "eu-central-1"
    cp = aws("codepipeline", region)
    steps = [stage(f"Step{n}", action("Work", SandboxDuration="20")) for n in range(8)]  # 0.5 s each
    name = create(cp, source(), *steps, prefix="cli-watch")
    config = tmp_path / "config.yaml"
    config.write_text("intervals: {focused: 0.5s, background: 1s, lists: 5s}\n")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "console", "watch", "--json", "--config", str(config)]
    command += ["--endpoint-url", sandbox.url, "--region", region]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: Queue[str] = Queue()
    notes: list[str] = []
    readers = [
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True),
        threading.Thread(target=lambda: [notes.append(line) for line in process.stderr or ()], daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        # It says so once it has its first full picture: what changes after that is a transition.
        wait_until(lambda: any("wavedeck: watching 1 pipeline and" in n for n in notes), timeout=30, what="watching")
        start(cp, name)
        seen: list[dict[str, Any]] = []

        def a_transition_of_ours() -> bool:
            try:
                while True:
                    seen.append(json.loads(lines.get_nowait()))
            except Empty:
                pass
            return any(str(d["resource"]).startswith(f"{name}/") for d in seen)

        wait_until(a_transition_of_ours, timeout=30, what=f"a JSON line about {name}")
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join(5)
    stderr = "".join(notes)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    # What it knew is in the warm-start cache for the next start (written when Ctrl-C stopped it).
    cached = list((Path(os.environ["XDG_CACHE_HOME"]) / "wavedeck").glob("target-*.json"))
    assert len(cached) == 1
    assert name in cached[0].read_text(encoding="utf-8")
    ours = next(d for d in seen if str(d["resource"]).startswith(f"{name}/"))
    assert {"time", "target", "kind", "resource", "execution", "wave", "from", "to", "detail"} <= set(ours)
    assert ours["target"] == f"default/{region}"
    assert ours["time"].endswith("Z")
    assert ours["kind"] in ("pipeline-execution", "stage", "action")


@pytest.mark.usefixtures("credentials")
def test_a_refusal_quoting_aws_text_shows_its_control_characters(
    aws: Any, sandbox: SandboxProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name, _ = waiting_approval(cp)
    token = wait_token(cp, name, "Beta")
    hostile = "ok\x1b[2J\x1b]0;pwned\x07 done"
    cp.put_approval_result(
        pipelineName=name,
        stageName="Beta",
        actionName="Approve",
        result={"summary": hostile, "status": "Approved"},
        token=token,
    )

    assert wavedeck(sandbox, "approve", f"{name}/Beta/Approve", "--reason", "x", "--yes") == 1

    err = capsys.readouterr().err
    assert f"wavedeck: refused: {name}/Beta/Approve was already approved by " in err
    assert "ok\\x1b[2J\\x1b]0;pwned\\x07 done" in err
    assert "\x1b" not in err
    assert "\x07" not in err


# Runs `wavedeck pause` with the call replaced by the operator's Ctrl-C arriving while it is on its way.
INTERRUPTED_DRIVER = """
import asyncio, os, signal, sys
from console.__main__ import main
from console.aws.gateway import Gateway

async def interrupted(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(30)

Gateway.disable_stage_transition = interrupted
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_sending_says_aws_may_have_it_and_the_log_says_unknown(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="cli-interrupt")
    log = tmp_path / "audit.jsonl"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-c", INTERRUPTED_DRIVER, "pause", f"{name}/Build", "--reason", "Hold", "--yes"]
    command += ["--audit-log", str(log), "--endpoint-url", sandbox.url, "--region", REGION]

    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 1, done.stderr
    assert "wavedeck: interrupted while sending; AWS may have carried it out: look at " in done.stderr
    assert str(log) in done.stderr
    assert "Traceback" not in done.stderr
    intent, result = AuditLog(log).records()
    assert intent["phase"] == "intent"
    assert result["outcome"] == "unknown"


@pytest.mark.usefixtures("credentials")
def test_an_aws_error_is_one_line_with_its_control_characters_shown(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.aws.gateway import Gateway
    from console.errors import AccessDenied

    async def denied(self: Gateway) -> None:
        raise AccessDenied("User arn:aws:iam::1:user/\x1b[31mred\x1b[0m\nis not authorized", request_id="req-1")

    monkeypatch.setattr(Gateway, "list_pipelines", denied)

    assert wavedeck(sandbox, "approve", "checkout-api", "--reason", "x", "--yes") == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "wavedeck: User arn:aws:iam::1:user/\\x1b[31mred\\x1b[0m\\nis not authorized (request id req-1)" in err
    assert "\x1b" not in err
    assert "Traceback" not in err
