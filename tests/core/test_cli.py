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
from tests.conftest import REGION, unique, wait_until
from tests.sandbox.test_codepipeline_conditions import alarm_rule, conditioned, make_alarm
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
@pytest.mark.parametrize(
    "config_text",
    [
        "targets:\n  - name: sandbox\n    region: {region}\n    endpoint_url: {url}\n    read_only: true\n",
        "targets:\n  - name: ops\n    profile: ops\n    region: {region}\n    read_only: true\n",
        "read_only: true\n",
    ],
    ids=["same-endpoint", "same-profile", "top-level"],
)
def test_flags_never_drop_the_configs_read_only(
    aws: Any,
    sandbox: SandboxProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    config_text: str,
) -> None:
    """`--profile/--region/--endpoint-url` choose where to act; they cannot make a read-only target writable."""
    cp = aws("codepipeline")
    name, execution_id = waiting_approval(cp)
    config = tmp_path / "config.yaml"
    config.write_text(config_text.format(region=REGION, url=sandbox.url))
    flags = ["--profile", "ops"] if "profile: ops" in config_text else []
    (tmp_path / "aws-config").write_text("[profile ops]\naws_access_key_id = testing\naws_secret_access_key = t\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))

    code = main(["approve", name, "--reason", "ok", "--yes", "--config", str(config), *flags,
                 "--region", REGION, "--endpoint-url", sandbox.url])  # fmt: skip

    _, err = capsys.readouterr()
    assert code == 1, err
    assert "wavedeck: refused: read-only" in err
    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "InProgress"
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


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("unix:///var/run/aws.sock", "must start with http:// or https://"),
        ("localhost:4566", "must start with http:// or https://"),
        ("http://", "names no host"),
        ("http://127.0.0.1:port", "has a port that is not a number"),
    ],
)
def test_a_bad_endpoint_url_is_exit_2_and_one_sentence(
    url: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["watch", "--endpoint-url", url, "--region", REGION])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"wavedeck: --endpoint-url {url!r} {problem}\n"


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


# --- override ------------------------------------------------------------------------------------------------


def held_before_entry(aws: Any, stage_name: str = "Beta") -> tuple[str, str, str]:
    """A pipeline whose execution waits before `stage_name` for an alarm in ALARM: (pipeline, execution, alarm)."""
    cp = aws("codepipeline")
    alarm = make_alarm(aws, "ALARM")
    entry = {"conditions": [{"result": "FAIL", "rules": [alarm_rule("QuietProduction", alarm, wait="60")]}]}
    held = conditioned(stage_name, action("Deploy", SandboxDuration="1"), beforeEntry=entry)
    name = create(cp, source(), held, prefix="cli-override")
    execution_id = start(cp, name)

    def waiting() -> bool:
        found = next(s for s in cp.get_pipeline_state(name=name)["stageStates"] if s["stageName"] == stage_name)
        return found.get("beforeEntryConditionState", {}).get("latestExecution", {}).get("status") == "InProgress"

    wait_until(waiting, what="the entry condition waiting on the alarm")
    return name, execution_id, alarm


@pytest.mark.usefixtures("credentials")
def test_override_ends_the_entry_condition_and_both_records_are_written(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cp = aws("codepipeline")
    name, execution_id, alarm = held_before_entry(aws, "Prod-Canary")
    log = tmp_path / "audit.jsonl"

    code = wavedeck(sandbox, "override", f"{name}/Prod-Canary", "--condition", "before-entry",
                    "--reason", "alarm is a known false positive", "--yes", "--audit-log", str(log))  # fmt: skip

    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Override the before entry condition of {name} / Prod-Canary" in out
    assert f"QuietProduction (CloudWatchAlarm) · InProgress · alarm {alarm}" in out
    assert "This acts on production: confirm with the wave's name, prod-canary." in out
    assert f"Overrode the before entry condition of {name}/Prod-Canary in execution {execution_id}" in out
    records = list(AuditLog(log).records())
    assert [(r["phase"], r["action"], r["operation"]) for r in records] == [
        ("intent", "override", "OverrideStageCondition"),
        ("result", "override", "OverrideStageCondition"),
    ]
    assert wait_status(cp, name, execution_id) == "Succeeded"


@pytest.mark.usefixtures("credentials")
def test_override_refusals_exit_1_and_send_nothing(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, execution_id, _ = held_before_entry(aws)
    log = tmp_path / "audit.jsonl"
    common = ("--reason", "go", "--yes", "--audit-log", str(log))

    # A bake that is not running: nothing to override, in a plain sentence.
    assert wavedeck(sandbox, "override", f"{name}/Beta", "--condition", "on-success", *common) == 1
    assert f"wavedeck: refused: {name}/Beta has no on success conditions" in capsys.readouterr().err
    assert wavedeck(sandbox, "override", f"{name}/Source", "--condition", "before-entry", *common) == 1
    assert f"wavedeck: refused: {name}/Source has no before entry conditions" in capsys.readouterr().err
    # Read-only: refused before anything is read or written.
    assert wavedeck(sandbox, "override", f"{name}/Beta", "--condition", "before-entry", "--read-only", *common) == 1
    assert "wavedeck: refused: read-only" in capsys.readouterr().err
    assert not log.exists()
    stage_state = next(
        s for s in aws("codepipeline").get_pipeline_state(name=name)["stageStates"] if s["stageName"] == "Beta"
    )
    assert stage_state["beforeEntryConditionState"]["latestExecution"]["status"] == "InProgress"
    aws("codepipeline").stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True)


@pytest.mark.usefixtures("credentials")
def test_override_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["override", "checkout-api/Prod-AZ1", "--reason", "x", "--yes"]) == 2
    assert "--condition" in capsys.readouterr().err
    assert main(["override", "checkout-api/Prod-AZ1", "--condition", "on-failure", "--reason", "x"]) == 2
    assert "invalid choice: 'on-failure'" in capsys.readouterr().err


def test_watch_json_tells_a_bake_as_condition_transitions(aws: Any, sandbox: SandboxProcess, tmp_path: Path) -> None:
    # A region of its own: this watcher reads only this test's pipeline.
    region = "ca-central-1"
    cp = aws("codepipeline", region)
    cloudwatch = aws("cloudwatch", region)
    alarm = unique("Bake-5xx")
    cloudwatch.put_metric_alarm(AlarmName=alarm, MetricName="5XXError", Namespace="AWS/ApiGateway",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test")
    rule = {
        "name": "ZoneBake",
        "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "configuration": {"AlarmName": alarm, "WaitTime": "4"},  # 6 s at the session's speed
    }
    bake = {"conditions": [{"result": "FAIL", "rules": [rule]}]}
    name = create(cp, source(), conditioned("Prod-AZ1", action("Deploy", SandboxDuration="1"), onSuccess=bake))
    config = tmp_path / "config.yaml"
    config.write_text("intervals: {focused: 0.5s, background: 1s, lists: 5s}\n")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONUNBUFFERED": "1"}
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
    seen: list[dict[str, Any]] = []

    def conditions() -> list[dict[str, Any]]:
        try:
            while True:
                seen.append(json.loads(lines.get_nowait()))
        except Empty:
            pass
        return [d for d in seen if d["kind"] == "condition" and d["resource"] == f"{name}/Prod-AZ1"]

    try:
        wait_until(lambda: any("wavedeck: watching 1 pipeline and" in n for n in notes), timeout=30, what="watching")
        execution_id = start(cp, name)
        wait_until(lambda: len(conditions()) >= 2, timeout=30, what="the bake starting and ending")
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    for reader in readers:
        reader.join(5)
    assert code == 0, "".join(notes)
    started, ended = conditions()[:2]
    assert (started["from"], started["to"], ended["from"], ended["to"]) == (
        None,
        "InProgress",
        "InProgress",
        "Succeeded",
    )
    assert started["execution"] == execution_id
    assert started["wave"] == "prod-az1"
    assert started["detail"].startswith("on success (FAIL) · Baking until ")
    assert alarm in started["detail"]
    assert ended["detail"] == "on success (FAIL) · All conditions met"
    # In order: the bake starts after the stage's action succeeded and ends before the stage does.
    ours = [(d["kind"], d["to"]) for d in seen if str(d["resource"]).startswith(f"{name}/Prod-AZ1")]
    assert ours.index(("action", "Succeeded")) < ours.index(("condition", "InProgress"))
    assert ours.index(("condition", "Succeeded")) < ours.index(("stage", "Succeeded"))


def test_an_intent_record_that_does_not_fit_on_disk_sends_nothing(
    aws: Any, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """A file-size limit (as a nearly full disk) cuts the intent record short: the action is refused, nothing
    reaches AWS, and the log still holds only whole records."""
    import resource

    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="cli-fsize")
    log = tmp_path / "audit.jsonl"
    log.write_text('{"phase":"intent","id":"earlier"}\n')
    log.chmod(0o600)
    limit = log.stat().st_size + 120

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-m", "console", "pause", f"{name}/Build", "--reason", "Hold", "--yes"]
    command += ["--audit-log", str(log), "--endpoint-url", sandbox.url, "--region", REGION]

    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False, preexec_fn=limited
    )

    assert done.returncode == 1, done.stderr
    assert "cannot write the audit log" in done.stderr
    assert cp.get_pipeline_state(name=name)["stageStates"][1]["inboundTransitionState"]["enabled"] is True
    assert [r["id"] for r in AuditLog(log).records()] == ["earlier"]
    assert log.read_text() == '{"phase":"intent","id":"earlier"}\n'
