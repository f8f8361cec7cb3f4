"""The runtime on a real account: the config's `waves.state_machines` does what the sandbox's fleet does with
`--sandbox` (the rollback a wave gets, the wave an approval state asks for, the wave a state machine's approvals
show), and opening it never reads the fleet file nor imports the sandbox.

"A real account" here is the session sandbox reached with `--endpoint-url`, as any AWS-compatible endpoint is:
nothing of its fleet is known to the console but what the config says.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import console.sandbox.fleet.definitions as fleet_definitions
from console.actions.gate import ActionKind
from console.model import Approval
from console.runtime import Runtime, RuntimeOptions
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION, make_client
from tests.core.test_actions_stepfunctions import deployment, waiting
from tests.sandbox.test_stepfunctions_support import create_machine, make_queue, wait_status
from tests.selections import sel
from tests.ui.test_pipeline_support import quiet_sandbox

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET = f"default/{REGION}"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy keys where botocore's chain looks first (the sandbox accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox with only what these tests make: a console on the session's would first read every state
    machine the suite made before (ListExecutions refills at 1/s), and the inbox would wait on them."""
    with quiet_sandbox(tmp_path_factory.mktemp("runtime-fleet")) as process:
        yield process


def real_account(tmp_path: Path, url: str, config_text: str) -> RuntimeOptions:
    config = tmp_path / "config.yaml"
    config.write_text(config_text)
    return RuntimeOptions(
        endpoint_url=url,
        regions=(REGION,),
        config=config,
        audit_log=tmp_path / "audit.jsonl",
        warm_cache=False,
        # A fleet directory that does not exist: reading it would fail.
        definitions=tmp_path / "no-such-definitions",
    )


def test_opening_for_a_real_account_never_reads_the_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fleet(directory: Path | None = None) -> Any:
        raise AssertionError(f"the fleet was read ({directory}) for a real account")

    monkeypatch.setattr(fleet_definitions, "load_fleet", no_fleet)
    options = real_account(
        tmp_path,
        "http://127.0.0.1:9",
        "waves:\n  state_machines:\n    deploy: {wave: gamma, states: {Bake: prod-az1}, rollback: undo}\n",
    )
    runtime = Runtime.open(options)
    try:
        assert runtime.sandbox is None
        assert [t.name for t in runtime.targets] == [TARGET]
        assert runtime.gate.rollback_machine("deploy") == "undo"
        assert runtime.mappings.state_waves == {"deploy": {"Bake": "prod-az1"}}
        assert runtime.mappings.stages == {}  # no stage of the bundled fleet is placed by name
        wave = runtime.waves.for_state_machine("deploy")
        assert wave is not None
        assert wave.name == "gamma"
        # The bundled fleet's rollback is the fleet's, not the console's, on a real account.
        assert runtime.gate.rollback_machine("wave-deployment") is None
    finally:
        runtime.close()


def test_sandbox_without_the_fleets_facts_is_a_wiring_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="RuntimeOptions.sandbox_fleet"):
        Runtime.open(RuntimeOptions(sandbox=True, config=tmp_path / "none.yaml"))


def test_the_sandbox_fleets_facts_are_what_it_says() -> None:
    fleet = load_fleet()
    facts = fleet.console_view()
    assert facts.regions == fleet.regions
    assert facts.mappings.rollback_machines == {"wave-deployment": "wave-rollback"}
    assert facts.mappings.state_waves["wave-deployment"]["DeployAZ1"] == "prod-az1"
    assert facts.mappings.stages[("checkout-api", "Prod-AZ1")] == "prod-az1"


@pytest.mark.usefixtures("credentials")
async def test_the_configs_rollback_and_state_waves_drive_the_gate_and_the_inbox(
    own_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sfn = make_client(own_sandbox.url, "stepfunctions")
    queue_url, _ = make_queue(make_client(own_sandbox.url, "sqs"), "runtime-approvals")
    deploy_arn = create_machine(sfn, deployment(queue_url), prefix="runtime-deploy")
    rollback = load_fleet().state_machine("wave-rollback")
    assert rollback is not None
    rollback_arn = create_machine(sfn, dict(rollback.definition), prefix="runtime-rollback")
    deploy, undo = deploy_arn.rsplit(":", 1)[-1], rollback_arn.rsplit(":", 1)[-1]
    options = real_account(
        tmp_path,
        own_sandbox.url,
        "intervals: {focused: 0.5s, background: 1s, lists: 5s}\n"
        f"waves:\n  state_machines:\n    {deploy}:\n      wave: gamma\n"
        f"      states: {{ApprovePromotion: prod-az2}}\n      rollback: {undo}\n",
    )
    good, good_token = waiting(sfn, deploy_arn, revision="goodrev1")
    sfn.send_task_success(taskToken=good_token, output="{}")
    wait_status(sfn, good, "SUCCEEDED")
    bad, _ = waiting(sfn, deploy_arn, revision="badrev2")

    runtime = Runtime.open(options)
    try:
        gate = runtime.gate
        # Approving the waiting state asks for that state's configured wave, not the machine's.
        approve = await gate.plan(ActionKind.APPROVE, sel(TARGET, state_machine_arn=deploy_arn, execution_arn=bad))
        assert approve.confirm_word == "prod-az2"
        # The rollback plan starts the configured state machine.
        plan = await gate.plan(ActionKind.ROLLBACK, sel(TARGET, state_machine_arn=deploy_arn))
        assert dict(plan.lines)["Starts"].startswith(f"{undo} ")
        assert dict(plan.lines)["Rolls back to"] == f"{good.rsplit(':', 1)[-1]} revision goodrev1"

        # The inbox shows the waiting state under its state's configured wave: the one the gate asks to be typed.
        watcher = runtime.make_watcher()
        await watcher.start()
        try:
            watcher.focus([f"{TARGET}:{deploy}"])
            approval = await _approval_of(watcher, f"{deploy}/{bad.rsplit(':', 1)[-1]}")
            assert approval.state_name == "ApprovePromotion"
            assert approval.wave is not None
            assert approval.wave.name == "prod-az2"
            assert runtime.waves.for_state_machine(deploy).name == "gamma"  # the machine's own, for the rest
        finally:
            await watcher.stop()
        await runtime.aclose()
    finally:
        runtime.close()
        sfn.stop_execution(executionArn=bad)


async def _approval_of(watcher: Any, resource: str) -> Approval:
    """The approval waiting at `resource` once the watcher has read it (within a minute)."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        found = next((a for a in watcher.state.approvals if a.resource == resource), None)
        if found is not None:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{resource} never waited in the inbox")


def test_waves_on_a_real_account_places_states_from_the_config_without_the_sandbox(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """`wavedeck waves` in a process where nothing of console.sandbox can be imported: the config's state waves
    are printed (why `config`); the bundled fleet's own `state_waves:` are not (that is the sandbox's file)."""
    config = tmp_path / "config.yaml"
    config.write_text("waves:\n  state_machines:\n    wave-deployment:\n      states: {DeployCanary: prod-az1}\n")
    code = (
        "import sys\nsys.modules['console.sandbox'] = None\n"
        "from console.__main__ import main\n"
        f"code = main(['--endpoint-url', {sandbox.url!r}, '--region', {REGION!r}, '--config', {str(config)!r}, "
        f"'--audit-log', {str(tmp_path / 'audit.jsonl')!r}, 'waves', '--json'])\n"
        "assert not [m for m in sys.modules if m.startswith('console.sandbox.')], 'the sandbox was imported'\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode in (0, 1), done.stderr  # 1: some test-made pipeline could not be read
    assert "Traceback" not in done.stderr
    rows = {row["resource"]: row for row in map(json.loads, done.stdout.splitlines())}
    assert rows["wave-deployment/DeployCanary"]["wave"] == "prod-az1"
    assert rows["wave-deployment/DeployCanary"]["why"] == "config"
    # States the config does not name take the machine's wave (by its name's pattern: none here).
    assert rows["wave-deployment/BakeCanary"]["why"].startswith("state machine: ")


def test_a_bad_state_machine_key_is_exit_2_naming_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.__main__ import main

    config = tmp_path / "config.yaml"
    config.write_text("waves:\n  state_machines:\n    deploy:\n      wave: gamma\n      rolback: undo\n")
    code = main(["waves", "--config", str(config), "--endpoint-url", "http://127.0.0.1:9", "--region", REGION])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"wavedeck: {config}:5: waves.state_machines.deploy.rolback: unknown key (did you mean 'rollback'?)\n"
    )


def test_with_sandbox_the_entry_point_passes_the_fleets_facts_and_only_then() -> None:
    from console.__main__ import build_parser, runtime_options

    sandboxed = runtime_options(build_parser().parse_args(["--sandbox", "waves"]))
    assert sandboxed.sandbox_fleet == load_fleet().console_view()
    real = runtime_options(build_parser().parse_args(["--region", REGION, "waves"]))
    assert real.sandbox_fleet is None
