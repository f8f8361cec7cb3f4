"""Bad definitions stop `wavedeck sandbox` with one message naming file, line and key, exit code 2.

Each case copies the bundled definitions into a temporary `definitions/` directory, breaks one thing, and
runs the real command in a subprocess (`python -m console sandbox --definitions ... --port 0`).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FLEET = "fleet.yaml"
WAVE_DEPLOYMENT = "state-machines/wave-deployment.asl.yaml"
LOAD_TEST = "state-machines/distributed-load-test.asl.yaml"


@dataclass(frozen=True)
class Case:
    file: str  # relative to the definitions directory
    old: str  # the first occurrence is replaced...
    new: str  # ...by this; the expected line is where `new` begins (or `line_of`, when given)
    key: str | None  # the dotted key the message must name (None: a YAML syntax error has none)
    problem: str  # a phrase of the problem
    line_of: str | None = None  # text whose line the error must name, when not `new`'s
    error_file: str | None = None  # the file the error must name, when not the one broken


CASES: dict[str, Case] = {
    "invalid YAML": Case(
        FLEET,
        "regions: [us-east-1, us-west-2]",
        "regions: [us-east-1, us-west-2",
        None,
        "invalid YAML: expected ',' or ']', but got '?' (while parsing a flow sequence that starts on line 6)",
        line_of="queues:",
    ),
    "duplicate key": Case(
        FLEET,
        "    execution_mode: QUEUED\n    repository: shop/checkout-api",
        "    execution_mode: QUEUED\n    execution_mode: SUPERSEDED\n    repository: shop/checkout-api",
        None,
        "duplicate key 'execution_mode'",
        line_of="    execution_mode: SUPERSEDED",
    ),
    "unknown key in a pipeline": Case(
        FLEET,
        "    execution_mode: QUEUED",
        "    executon_mode: QUEUED",
        "pipelines[0].executon_mode",
        "did you mean 'execution_mode'",
    ),
    "unknown top-level key": Case(
        FLEET, "queues: [deploy-approvals]", "queue: [deploy-approvals]", "queue", "unknown key"
    ),
    "unknown key in an action": Case(
        FLEET,
        "{name: Source, category: Source, provider: CodeStarSourceConnection, owner: AWS, duration: 4s}",
        "{name: Source, category: Source, provider: CodeStarSourceConnection, owner: AWS, durration: 4s}",
        "stages.source.actions[0].durration",
        "did you mean 'duration'",
    ),
    "stage shape not defined": Case(
        FLEET,
        "{name: Gamma, use: gamma}",
        "{name: Gamma, use: gama}",
        "pipelines[0].stages[4].use",
        "stage shape 'gama' is not defined",
    ),
    "state machine not defined": Case(
        FLEET,
        "state_machine: distributed-load-test,",
        "state_machine: distributed-load-tests,",
        "stages.beta-load.actions[1].state_machine",
        "state machine 'distributed-load-tests' is not defined",
        line_of="{name: LoadTest,",
    ),
    "wave not defined": Case(
        FLEET,
        "{name: Prod-AZ1, use: prod-az, wave: prod-az1}",
        "{name: Prod-AZ1, use: prod-az, wave: prod-az7}",
        "pipelines[1].stages[6].wave",  # checkout-api's Prod-AZ1 line also carries onFailure
        "wave 'prod-az7' is not defined in waves.yaml",
    ),
    "queue not declared": Case(
        FLEET,
        "queues: [deploy-approvals]",
        "queues: [release-approvals]",
        "States.ApprovePromotion.Parameters.QueueUrl",
        "queue 'deploy-approvals' is not declared",
        line_of="      QueueUrl:",
        error_file=WAVE_DEPLOYMENT,
    ),
    "rollback state machine not defined": Case(
        FLEET,
        "    rollback: wave-rollback",
        "    rollback: wave-rollbck",
        "state_machines[0].rollback",
        "'wave-rollbck' is not defined",
    ),
    "scheduled run of an unknown state machine": Case(
        FLEET,
        "{state_machine: wave-deployment, interval: 7m",
        "{state_machine: wave-deploy, interval: 7m",
        "traffic.runs[1].state_machine",
        "'wave-deploy' is not defined",
    ),
    "duplicate pipeline": Case(
        FLEET,
        "  - name: payments-api",
        "  - name: checkout-api  # again",
        "pipelines[1].name",
        "defined twice (first on line",
    ),
    "bad duration": Case(FLEET, "  warm_up: 30m", "  warm_up: half an hour", "traffic.warm_up", "expected a duration"),
    "Source action after the first stage": Case(
        FLEET,
        "      - {name: Build, use: build}\n      - {name: Alpha, use: alpha}",
        "      - {name: Build, use: source}\n      - {name: Alpha, use: alpha}",
        "pipelines[0].stages[1].use",
        "Source actions belong in the first stage only",
    ),
    "definition file missing": Case(
        FLEET,
        "definition: state-machines/wave-rollback.asl.yaml",
        "definition: state-machines/wave-rolback.asl.yaml",
        "state_machines[2].definition",
        "no such file",
    ),
    "unknown risk in waves.yaml": Case(
        "waves.yaml", "    risk: medium", "    risk: moderate", "waves[1].risk", "expected one of"
    ),
    "ASL: Next names no state": Case(
        WAVE_DEPLOYMENT,
        "    Next: ReadCanaryAlarms",
        "    Next: ReadCanaryAlarm",
        "States.BakeCanary.Next",
        "not a state",
    ),
    "ASL: key of another state type": Case(
        WAVE_DEPLOYMENT,
        "    Type: Pass\n",
        "    Type: Pass\n    Seconds: 3\n",
        "States.ReadCanaryAlarms.Seconds",
        "a Pass state does not take 'Seconds'",
        line_of="    Seconds: 3",
    ),
    "ASL: state without Type": Case(
        LOAD_TEST,
        "  Passed:\n    Type: Succeed",
        "  Passed:\n    Comment: done",
        "States.Passed",
        "has no 'Type'",
    ),
    "ASL: only moto's parser refuses a Wait of words": Case(
        WAVE_DEPLOYMENT,
        "    Seconds: 15",
        "    Seconds: fifteen",
        "States.BakeCanary.Seconds",
        "moto's ASL parser refuses it",
    ),
    "ASL: only moto's parser refuses an intrinsic function": Case(
        WAVE_DEPLOYMENT,
        "States.MathRandom(1, 100, $.seed)",
        "States.MathRandom($.seed)",
        "States.ReadCanaryAlarms.Parameters.alarm.$",
        "moto's ASL parser refuses it",
    ),
    "stage condition result AWS refuses": Case(
        FLEET,
        "onFailure: {result: ROLLBACK}}",
        "onFailure: {result: FAIL}}",
        "onFailure",
        "result FAIL is not allowed; use ROLLBACK or RETRY",
    ),
    "region moto does not know": Case(
        FLEET,
        "regions: [us-east-1, us-west-2]",
        "regions: [us-east-1, us-west-2, xx-nowhere-1]",
        "regions[2]",
        "'xx-nowhere-1' is not a region where CodePipeline runs",
    ),
}


def _line_of(text: str, needle: str) -> int:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def _broken_definitions(tmp_path: Path, repo_root: Path, case: Case) -> tuple[Path, int]:
    directory = tmp_path / "definitions"
    shutil.copytree(repo_root / "definitions", directory)
    path = directory / case.file
    text = path.read_text(encoding="utf-8")
    assert case.old in text, f"the bundled {case.file} changed: {case.old!r} is gone; update this case"
    text = text.replace(case.old, case.new, 1)
    path.write_text(text, encoding="utf-8")
    if case.error_file is not None:
        text = (directory / case.error_file).read_text(encoding="utf-8")
    return directory, _line_of(text, case.line_of or case.new)


def run_sandbox_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "sandbox", "--port", "0", "--no-traffic", "--no-warm-up", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_definition_stops_the_sandbox_with_one_precise_message(
    name: str, tmp_path: Path, repo_root: Path
) -> None:
    case = CASES[name]
    directory, line = _broken_definitions(tmp_path, repo_root, case)
    result = run_sandbox_command("--definitions", str(directory))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == "", "nothing on stdout: it carries only the URL of a sandbox that is ready"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"one message, got: {result.stderr}"
    where = f"definitions/{case.error_file or case.file}:{line}: "
    assert where in lines[0], f"expected {where!r} in {lines[0]!r}"
    if case.key is not None:
        assert f"{where}{case.key}: " in lines[0], lines[0]
    assert case.problem in lines[0]


def test_the_bundled_definitions_pass_every_check(repo_root: Path) -> None:
    """The positive control of the cases above: the unbroken copy loads and passes moto's parser."""
    from console.sandbox.fleet.definitions import load_fleet
    from console.sandbox.seed import check_definitions

    fleet = load_fleet(repo_root / "definitions")
    check_definitions(fleet)
    assert len(fleet.pipelines) >= 6
    assert {m.name for m in fleet.state_machines} >= {"wave-deployment", "distributed-load-test", "wave-rollback"}


def test_an_empty_fleet_file_is_named(tmp_path: Path, repo_root: Path) -> None:
    directory = tmp_path / "definitions"
    shutil.copytree(repo_root / "definitions", directory)
    (directory / "fleet.yaml").write_text("# nothing yet\n")
    result = run_sandbox_command("--definitions", str(directory))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "definitions/fleet.yaml: the file is empty" in result.stderr


def test_a_missing_definitions_directory_is_named(tmp_path: Path) -> None:
    result = run_sandbox_command("--definitions", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'nowhere'}: no such definitions directory" in result.stderr
