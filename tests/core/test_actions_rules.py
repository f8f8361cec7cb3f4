"""The gate's rules that need no AWS: reasons, resource names, and availability from a FleetState."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.actions.audit import AuditLog
from console.actions.executor import check_confirmation, lock_key
from console.actions.gate import ActionGate, ActionKind, ActionPlan, Availability, Selection
from console.actions.preconditions import changed
from console.actions.reasons import check_reason
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Action, InboundTransition, Pipeline, PipelineExecution, Stage
from console.errors import Refused, UsageError
from console.model import Approval, FleetState, Target
from console.resources import Catalog, UnknownResource, catalog_from_state, parse_parts, resolve
from console.services import NAMES
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import Execution, StateMachine
from console.waves import default_wave_model
from tests.selections import sel

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:wave-deployment"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:wave-deployment:run-1"

# --- reasons ---------------------------------------------------------------------------------------------


def test_a_reason_is_required() -> None:
    for empty in ("", "   ", None):
        with pytest.raises(Refused, match="a reason is required"):
            check_reason(empty)


def test_pause_reasons_name_each_character_aws_refuses() -> None:
    with pytest.raises(Refused) as caught:
        check_reason("hold_on, release window", transition=True)
    message = str(caught.value)
    assert "'_' at character 5" in message
    assert "',' at character 8" in message
    assert "! @ ( ) . * ? -" in message


def test_pause_reasons_within_aws_characters_pass_unchanged() -> None:
    reason = "Hold for the release window (CHG-42) - ask @oncall?"
    assert check_reason(f"  {reason} ", transition=True) == reason


def test_pause_reason_length_is_checked_before_sending() -> None:
    assert check_reason("x" * 300, transition=True) == "x" * 300
    with pytest.raises(Refused, match="301 characters long; at most 300"):
        check_reason("x" * 301, transition=True)


def test_other_reasons_may_hold_any_printable_text_but_no_control_characters() -> None:
    assert check_reason("ok_to_ship, checked: 100%") == "ok_to_ship, checked: 100%"
    with pytest.raises(Refused, match="line break"):
        check_reason("two\nlines")
    with pytest.raises(Refused, match="U\\+001B"):
        check_reason("colour \x1b[31m")
    with pytest.raises(Refused, match="at most 200"):
        check_reason("y" * 201, max_length=200)


# --- resource names --------------------------------------------------------------------------------------


def catalog() -> Catalog:
    pipelines = {"east": ("checkout-api", "shared"), "west": ("edge-router", "shared")}
    return Catalog(
        NAMES,
        {
            CODEPIPELINE: {target: {name: name for name in names} for target, names in pipelines.items()},
            STEPFUNCTIONS: {"east": {"wave-deployment": MACHINE_ARN}},
        },
        regions={"east": "us-east-1", "west": "us-west-2"},
    )


def test_resource_names_resolve_to_selections() -> None:
    assert resolve("checkout-api", catalog()) == sel(target="east", pipeline="checkout-api")
    assert resolve("checkout-api/Prod-Canary/Approve", catalog()) == sel(
        target="east", pipeline="checkout-api", stage="Prod-Canary", action="Approve"
    )
    assert resolve("wave-deployment/run-1", catalog()) == sel(
        target="east", state_machine_arn=MACHINE_ARN, execution_arn=EXECUTION_ARN
    )
    assert resolve(EXECUTION_ARN, catalog()) == sel(
        target="east", state_machine_arn=MACHINE_ARN, execution_arn=EXECUTION_ARN
    )
    assert resolve("shared/Beta", catalog(), target="west") == sel(target="west", pipeline="shared", stage="Beta")


def test_selection_names_itself_as_watch_prints_it() -> None:
    assert resolve("checkout-api/Prod-Canary/Approve", catalog()).resource == "checkout-api/Prod-Canary/Approve"
    selection = resolve("wave-deployment/run-1", catalog())
    assert selection.resource == "wave-deployment/run-1"
    assert selection.key == "east:wave-deployment"


def test_a_name_in_several_targets_asks_for_target_and_lists_them() -> None:
    with pytest.raises(UsageError, match=r"exists in several targets \(east, west\): pick one with --target"):
        resolve("shared", catalog())


def test_bad_resource_names_are_usage_errors() -> None:
    for bad in ("", "a//b", "a/b/c/d", "/a", "with space", "arn:aws:states:us-east-1:1:stateMachine:x"):
        with pytest.raises(UsageError):
            parse_parts(bad, list(NAMES.values()))


def test_unknown_names_and_targets_are_said_plainly() -> None:
    with pytest.raises(UnknownResource, match="no pipeline or state machine named 'nope' in any target"):
        resolve("nope", catalog())
    with pytest.raises(UsageError, match=r"no target named 'north' \(targets: east, west\)"):
        resolve("checkout-api", catalog(), target="north")
    with pytest.raises(UnknownResource, match="no pipeline named 'wave-deployment'"):
        resolve("wave-deployment/a/b", catalog())


# --- availability --------------------------------------------------------------------------------------------


def gate(tmp_path: Path, *, read_only: bool = False, target_read_only: bool = False) -> ActionGate:
    class Stub:
        def __init__(self, target: Target) -> None:
            self.target = target
            self.read_only = False

    targets = {"east": Target("east", "us-east-1", read_only=target_read_only)}
    gateways: dict[str, Any] = {name: Stub(t) for name, t in targets.items()}
    return ActionGate(
        gateways,
        default_wave_model(),
        AuditLog(tmp_path / "audit.jsonl"),
        read_only=read_only,
        rollback_machines={"wave-deployment": "wave-rollback"},
    )


def fleet() -> FleetState:
    waves = default_wave_model()
    approve = Action("Approve", "Approval", "Manual", status="InProgress", token="t0ken")
    pipeline = Pipeline(
        target="east",
        name="checkout-api",
        stages=(
            Stage("Source", status="Succeeded", execution_id="e1"),
            Stage("Beta", wave=waves.wave("beta"), status="Failed", execution_id="e1"),
            Stage(
                "Prod-Canary",
                wave=waves.wave("prod-canary"),
                status="InProgress",
                execution_id="e2",
                inbound=InboundTransition(enabled=False, disabled_reason="freeze"),
                actions=(approve,),
            ),
        ),
        executions=(PipelineExecution("e2", "InProgress"), PipelineExecution("e1", "Failed")),
        read_at=NOW,
    )
    machine = StateMachine(
        target="east",
        arn=MACHINE_ARN,
        name="wave-deployment",
        executions=(
            Execution(EXECUTION_ARN, "run-1", MACHINE_ARN, "RUNNING"),
            Execution(EXECUTION_ARN[:-1] + "0", "run-0", MACHINE_ARN, "FAILED"),
            Execution(EXECUTION_ARN[:-1] + "9", "run-9", MACHINE_ARN, "SUCCEEDED"),
        ),
        read_at=NOW,
    )
    approval = Approval(
        STEPFUNCTIONS, "east", "wave-deployment/run-1", None, NOW, execution=EXECUTION_ARN, state_name="Approve"
    )
    return FleetState(
        resources={CODEPIPELINE: {pipeline.key: pipeline}, STEPFUNCTIONS: {machine.key: machine}},
        approvals=(approval,),
    )


def test_availability_follows_the_picture(tmp_path: Path) -> None:
    g, state = gate(tmp_path), fleet()
    pipe = sel(target="east", pipeline="checkout-api")

    def avail(kind: ActionKind, **kw: str) -> Availability:
        return g.availability(kind, sel(target="east", pipeline="checkout-api", **kw), state)

    assert g.availability(ActionKind.APPROVE, pipe, state) == Availability(True, "")
    assert avail(ActionKind.APPROVE, stage="Beta") == Availability(False, "nothing is waiting for approval")
    assert avail(ActionKind.STOP).enabled
    assert avail(ActionKind.STOP, stage="Beta") == Availability(False, "nothing is running")
    assert avail(ActionKind.RETRY, stage="Beta").enabled
    assert avail(ActionKind.RETRY, stage="Prod-Canary") == Availability(False, "only a failed stage can be retried")
    assert avail(ActionKind.ROLLBACK, stage="Prod-Canary") == Availability(False, "the stage is still running")
    assert avail(ActionKind.ROLLBACK, stage="Source") == Availability(False, "a source stage cannot be rolled back")
    assert avail(ActionKind.PAUSE, stage="Beta").enabled
    assert avail(ActionKind.PAUSE, stage="Prod-Canary") == Availability(False, "promotion is already paused")
    assert avail(ActionKind.RESUME, stage="Prod-Canary").enabled
    assert avail(ActionKind.PAUSE, stage="Source") == Availability(False, "the first stage has no inbound transition")
    assert avail(ActionKind.RETRY) == Availability(False, "select a stage")


def test_availability_of_state_machine_actions(tmp_path: Path) -> None:
    g, state = gate(tmp_path), fleet()

    def avail(kind: ActionKind, execution: str | None = EXECUTION_ARN) -> Availability:
        return g.availability(kind, sel(target="east", state_machine_arn=MACHINE_ARN, execution_arn=execution), state)

    assert avail(ActionKind.APPROVE).enabled
    assert avail(ActionKind.STOP).enabled
    assert avail(ActionKind.RETRY) == Availability(False, "only a failed execution is redriven (running)")
    assert avail(ActionKind.RETRY, EXECUTION_ARN[:-1] + "0").enabled
    assert avail(ActionKind.STOP, EXECUTION_ARN[:-1] + "0") == Availability(False, "nothing to stop (failed)")
    assert avail(ActionKind.ROLLBACK, None).enabled
    assert avail(ActionKind.PAUSE) == Availability(False, "pausing promotion is for pipeline stages")
    assert avail(ActionKind.STOP, None) == Availability(False, "select an execution")


def test_read_only_greys_out_everything_with_the_reason(tmp_path: Path) -> None:
    state = fleet()
    selection = sel(target="east", pipeline="checkout-api")
    flagged = gate(tmp_path, read_only=True).availability(ActionKind.APPROVE, selection, state)
    assert not flagged.enabled
    assert flagged.reason.startswith("read-only: wavedeck was started read-only")
    configured = gate(tmp_path, target_read_only=True).availability(ActionKind.APPROVE, selection, state)
    assert configured == Availability(False, "read-only: target east is read-only in the config; nothing is sent")


def test_something_not_in_the_picture_is_not_available(tmp_path: Path) -> None:
    unknown = sel(target="east", pipeline="nope")
    assert gate(tmp_path).availability(ActionKind.STOP, unknown, fleet()) == Availability(False, "not loaded yet")


def test_catalog_from_the_watchers_picture() -> None:
    found = catalog_from_state(fleet(), NAMES)
    assert found.of(CODEPIPELINE) == {"east": {"checkout-api": "checkout-api"}}
    assert found.of(STEPFUNCTIONS) == {"east": {"wave-deployment": MACHINE_ARN}}


# --- the executor's rules --------------------------------------------------------------------------------------


def plan_for(kind: ActionKind, selection: Selection, *, wave: str | None = None, **expect: str) -> ActionPlan:
    waves = default_wave_model()
    found = waves.wave(wave) if wave else None
    production = bool(found and found.is_production)
    return ActionPlan(
        kind=kind,
        selection=selection,
        title=f"{kind.label} {selection.resource}",
        lines=(),
        wave=found,
        production=production,
        confirm_word=found.name if production and found else None,
        expect=expect,
    )


def test_one_thing_named_several_ways_takes_one_lock() -> None:
    def key(kind: ActionKind, **names: str) -> str:
        return lock_key(plan_for(kind, sel(target="east", **names)))

    stage = {"pipeline": "checkout-api", "stage": "Beta"}
    assert key(ActionKind.ROLLBACK, **stage) == key(ActionKind.ROLLBACK, **stage, action="Deploy")
    assert key(ActionKind.PAUSE, **stage) == key(ActionKind.RESUME, **stage, action="Deploy")
    assert key(ActionKind.STOP, pipeline="checkout-api", execution_id="e2") == key(
        ActionKind.STOP_ABANDON, pipeline="checkout-api", stage="Prod-Canary", execution_id="e2"
    )
    assert key(ActionKind.ROLLBACK, state_machine_arn=MACHINE_ARN) == key(
        ActionKind.ROLLBACK, state_machine_arn=MACHINE_ARN, execution_arn=EXECUTION_ARN
    )
    # Different things, or different families, do not wait for each other.
    assert key(ActionKind.APPROVE, **stage, action="A") != key(ActionKind.APPROVE, **stage, action="B")
    assert key(ActionKind.STOP, pipeline="checkout-api", execution_id="e1") != key(
        ActionKind.STOP, pipeline="checkout-api", execution_id="e2"
    )
    assert key(ActionKind.RETRY, **stage) != key(ActionKind.ROLLBACK, **stage)


def test_a_production_plan_is_confirmed_only_by_its_wave_name() -> None:
    plan = plan_for(ActionKind.APPROVE, sel("east", "checkout-api", "Prod-Canary"), wave="prod-canary")
    for typed in (None, "", "  ", "prod-az1", "PROD-CANARY"):
        with pytest.raises(Refused, match="acts on production: type 'prod-canary' to confirm"):
            check_confirmation(plan, typed)
    check_confirmation(plan, " prod-canary ")
    check_confirmation(plan_for(ActionKind.APPROVE, sel("east", "checkout-api", "Beta"), wave="beta"), None)
    forged = replace(plan, confirm_word=None)
    with pytest.raises(Refused):
        check_confirmation(forged, "")


async def test_execute_refuses_an_unconfirmed_production_plan_before_any_io(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    plan = plan_for(ActionKind.APPROVE, sel("east", "checkout-api", "Prod-Canary"), wave="prod-canary")
    with pytest.raises(Refused, match="type 'prod-canary' to confirm; nothing was sent"):
        await gate(tmp_path).execute(plan, "ship it")
    assert not log.exists()


def test_a_plan_that_now_reaches_production_has_changed() -> None:
    selection = sel("east", "checkout-api", execution_id="e2")
    planned = plan_for(ActionKind.STOP, selection, wave="gamma", execution="e2")
    assert changed(planned, plan_for(ActionKind.STOP, selection, wave="gamma", execution="e2")) is None
    now = changed(planned, plan_for(ActionKind.STOP, selection, wave="prod-canary", execution="e2"))
    assert now == (
        "Stop checkout-api: it now acts on production (prod-canary), which was not confirmed when it was "
        "planned; look again"
    )
    production = plan_for(ActionKind.STOP, selection, wave="prod-az1", execution="e2")
    assert changed(production, plan_for(ActionKind.STOP, selection, wave="prod-az2", execution="e2")) is not None
    assert changed(production, plan_for(ActionKind.STOP, selection, wave="gamma", execution="e2")) is None
