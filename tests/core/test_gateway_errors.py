"""Errors translated at the edge: crafted AWS error responses and lost connections, injected with a botocore
`before-send` hook on the gateway's real clients, come out as the project's errors; throttles slow the budget;
read-only gateways send nothing."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from console.aws import Gateway, GatewayOptions
from console.aws.errors import error_class
from console.aws.faults import Fault
from console.budget import Budget, Rate
from console.errors import (
    AccessDenied,
    AlreadyDone,
    AwsError,
    Conflict,
    ExpiredCredentials,
    InvalidInput,
    NotFound,
    Refused,
    Throttled,
    Unavailable,
)
from console.model import Target
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION
from tests.core.test_gateway_codepipeline import fast_budget
from tests.sandbox.test_codepipeline_support import action, create, source, stage


def sandbox_target(sandbox: SandboxProcess, **overrides: object) -> Target:
    return Target(
        name="sandbox",
        region=REGION,
        endpoint_url=sandbox.url,
        sandbox=True,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
async def gateway(sandbox: SandboxProcess) -> AsyncIterator[Gateway]:
    async with Gateway(
        sandbox_target(sandbox), budget=fast_budget(), options=GatewayOptions(max_attempts=1)
    ) as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, Throttled),
        ("TooManyRequestsException", 429, Throttled),
        ("ExpiredTokenException", 400, ExpiredCredentials),
        ("UnrecognizedClientException", 400, ExpiredCredentials),
        ("AccessDeniedException", 400, AccessDenied),
        ("StateMachineDoesNotExist", 400, NotFound),
        ("ExecutionDoesNotExist", 400, NotFound),
        ("TaskTimedOut", 400, AlreadyDone),
        ("ExecutionAlreadyExists", 400, AlreadyDone),
        ("ValidationException", 400, InvalidInput),
        ("InvalidArn", 400, InvalidInput),
        ("ConflictException", 400, Conflict),
        ("ExecutionNotRedrivable", 400, Conflict),
        ("InternalServerError", 500, Unavailable),
        ("ServiceUnavailable", 503, Unavailable),
        ("SomethingAwsInventsNextYear", 400, AwsError),
    ],
)
async def test_each_aws_error_becomes_the_projects_own(
    gateway: Gateway, code: str, status: int, expected: type[AwsError]
) -> None:
    fault = Fault.aws_error(code, f"{code} said so", status=status, request_id="req-1234", services={"sfn"})
    gateway.add_hook("before-send", fault)
    with pytest.raises(AwsError) as caught:
        await gateway.list_state_machines()
    error = caught.value
    assert type(error) is expected
    assert error.code == code
    assert error.operation == "ListStateMachines"
    assert error.request_id == "req-1234"
    assert error.target == "sandbox"
    assert f"{code} said so" in error.message
    assert "req-1234" in str(error)
    assert fault.injected == 1
    assert error.__cause__ is not None  # botocore's exception is kept as the cause, never raised itself


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ApprovalAlreadyCompletedException", AlreadyDone),
        ("InvalidApprovalTokenException", AlreadyDone),
        ("DuplicatedStopRequestException", AlreadyDone),
        ("TaskDoesNotExist", AlreadyDone),
        ("PipelineNotFoundException", NotFound),
        ("StageNotFoundException", NotFound),
        ("ActionExecutionNotFoundException", NotFound),
        ("QueueDoesNotExist", NotFound),
        ("StageNotRetryableException", InvalidInput),
        ("InvalidToken", InvalidInput),
        ("UnableToRollbackStageException", Conflict),
        ("NotLatestPipelineExecutionException", Conflict),
        ("PipelineExecutionNotStoppableException", Conflict),
        ("ConcurrentPipelineExecutionsLimitExceededException", Conflict),
        ("RequestLimitExceeded", Throttled),
        ("RequestThrottled", Throttled),
        ("ExpiredToken", ExpiredCredentials),
        ("UnauthorizedOperation", AccessDenied),
        ("RequestFailedException", Unavailable),
    ],
)
def test_codes_of_every_service_are_classified(code: str, expected: type[AwsError]) -> None:
    assert error_class(code, 400) is expected


def test_unknown_codes_fall_back_on_their_shape_then_the_http_status() -> None:
    assert error_class("WidgetNotFoundException", 400) is NotFound
    assert error_class("InvalidWidgetShape", 400) is InvalidInput
    assert error_class("Mystery", 403) is AccessDenied
    assert error_class("Mystery", 404) is NotFound
    assert error_class("Mystery", 429) is Throttled
    assert error_class("Mystery", 502) is Unavailable
    assert error_class("Mystery", 400) is AwsError


async def test_an_sts_error_in_xml_is_translated_too(gateway: Gateway) -> None:
    gateway.add_hook("before-send", Fault.aws_error("ExpiredToken", "The security token is expired", services={"sts"}))
    with pytest.raises(ExpiredCredentials) as caught:
        await gateway.caller_identity()
    assert caught.value.code == "ExpiredToken"
    assert caught.value.request_id == "wavedeck-fault-0000"
    assert "The security token is expired" in caught.value.message


async def test_a_throttle_slows_that_api_in_the_budget(sandbox: SandboxProcess) -> None:
    budget = Budget({"GetPipelineState": Rate(100, 10)})
    async with Gateway(sandbox_target(sandbox), budget=budget, options=GatewayOptions(max_attempts=1)) as gateway:
        gateway.add_hook("before-send", Fault.aws_error("ThrottlingException", "Rate exceeded", times=1))
        with pytest.raises(Throttled) as caught:
            await gateway.get_pipeline_state("checkout-api")
        assert caught.value.message == "Rate exceeded"
        assert gateway.stats.throttles["GetPipelineState"] == 1
        state = budget.state("GetPipelineState")
        assert state.slowed
        assert state.per_second == 5.0
        assert budget.state("GetPipeline").per_second == budget.base_rate("GetPipeline").per_second
        # The fault is spent: the next call goes through (after waiting for the slower refill).
        state_now = await gateway.get_pipeline_state("checkout-api")
        assert state_now.name == "checkout-api"
        assert gateway.stats.requests["GetPipelineState"] == 2
        assert gateway.stats.waited > 0


async def test_botocore_retries_a_throttle_and_every_attempt_is_counted(sandbox: SandboxProcess) -> None:
    async with Gateway(sandbox_target(sandbox), budget=fast_budget(), options=GatewayOptions(max_attempts=2)) as gw:
        gw.add_hook("before-send", Fault.aws_error("ThrottlingException", "Rate exceeded", times=1))
        machines = await gw.list_state_machines()
        assert machines
        assert gw.stats.requests["ListStateMachines"] == 2
        assert gw.stats.throttles["ListStateMachines"] == 1


@pytest.mark.parametrize("kind", ["connection", "connect-timeout", "read-timeout"])
async def test_lost_connections_are_unavailable_and_the_gateway_carries_on(gateway: Gateway, kind: str) -> None:
    fault = Fault.connection_error(kind, operations={"ListPipelines"})
    gateway.add_hook("before-send", fault)
    with pytest.raises(Unavailable) as caught:
        await gateway.list_pipelines()
    assert caught.value.operation == "ListPipelines"
    assert "sandbox" in caught.value.message
    gateway.remove_hook("before-send", fault)
    assert await gateway.list_pipelines()


async def test_an_endpoint_that_is_down_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = Target(name="down", region=REGION, endpoint_url=f"http://127.0.0.1:{port}", sandbox=True)
    async with Gateway(target, options=GatewayOptions(max_attempts=1, connect_timeout=2)) as gateway:
        with pytest.raises(Unavailable) as caught:
            await gateway.list_state_machines()
    assert caught.value.code == "EndpointConnectionError"
    assert caught.value.target == "down"


async def test_untrusted_text_passes_through_unchanged(gateway: Gateway) -> None:
    hostile = "[bold red]fake[/] \x1b[31mred\x1b[0m " + "x" * 10_000 + " ${jndi:ldap://x} {0} %s"
    gateway.add_hook("before-send", Fault.aws_error("AccessDeniedException", hostile))
    with pytest.raises(AccessDenied) as caught:
        await gateway.list_pipelines()
    assert caught.value.message == hostile


async def test_a_read_only_gateway_refuses_every_write_and_sends_nothing(sandbox: SandboxProcess) -> None:
    for gateway in (
        Gateway(sandbox_target(sandbox), read_only=True),
        Gateway(sandbox_target(sandbox, read_only=True)),
    ):
        async with gateway:
            assert gateway.read_only
            writes = [
                gateway.put_approval_result("p", "s", "a", "token", True, "ok"),
                gateway.stop_pipeline_execution("p", "e", abandon=True, reason="r"),
                gateway.retry_stage_execution("p", "s", "e"),
                gateway.rollback_stage("p", "s", "e"),
                gateway.disable_stage_transition("p", "s", "reason"),
                gateway.enable_stage_transition("p", "s"),
                gateway.override_stage_condition("p", "s", "e", "BEFORE_ENTRY"),
                gateway.stop_execution("arn", "E", "C"),
                gateway.redrive_execution("arn"),
                gateway.send_task_success("token", "{}"),
                gateway.send_task_failure("token", "E", "C"),
                gateway.start_execution("arn", "{}"),
            ]
            for write in writes:
                with pytest.raises(Refused, match="read-only"):
                    await write
            assert gateway.stats.total == 0
            # Reading goes on as usual.
            assert await gateway.list_pipelines()


async def test_a_read_only_gateway_sends_only_allow_listed_reads_whatever_method_asks(
    sandbox: SandboxProcess,
) -> None:
    """Read-only is an allow-list in `_call` itself: an operation nobody listed as a read is never sent, even
    through a method that forgot to check (here: the private `_call` used directly)."""
    async with Gateway(sandbox_target(sandbox), read_only=True) as gateway:
        for operation, params in (
            ("CreatePipeline", {"pipeline": {}}),
            ("DeleteStateMachine", {"stateMachineArn": "arn"}),
            ("StartPipelineExecution", {"name": "p"}),
            ("SendTaskHeartbeat", {"taskToken": "t"}),
        ):
            service = "codepipeline" if "Pipeline" in operation else "stepfunctions"
            with pytest.raises(Refused, match=f"read-only: {operation} was not sent"):
                await gateway._call(service, operation, **params)
        assert gateway.stats.total == 0
        assert await gateway._call("codepipeline", "ListPipelines")


async def test_a_write_that_may_have_reached_aws_is_never_sent_twice(aws: Any, sandbox: SandboxProcess) -> None:
    cp = aws("codepipeline")
    name = create(
        cp, source(duration="0"), stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="0"))
    )
    async with Gateway(sandbox_target(sandbox), budget=fast_budget(), options=GatewayOptions(max_attempts=3)) as gw:
        # The answer was lost: AWS may have acted, so botocore must not send the write again.
        lost = Fault.connection_error("read-timeout", operations={"DisableStageTransition"}, times=1)
        gw.add_hook("before-send", lost)
        with pytest.raises(Unavailable):
            await gw.disable_stage_transition(name, "Prod", "Paused for incident 7")
        assert gw.stats.requests["DisableStageTransition"] == 1
        # Throttled, or never connected: AWS did nothing, and botocore's retry goes ahead.
        gw.add_hook("before-send", Fault.aws_error("ThrottlingException", "Rate exceeded", times=1))
        await gw.disable_stage_transition(name, "Prod", "Paused for incident 7")
        gw.add_hook("before-send", Fault.connection_error("connection", operations={"EnableStageTransition"}, times=1))
        await gw.enable_stage_transition(name, "Prod")
        assert gw.stats.requests["DisableStageTransition"] == 3
        assert gw.stats.requests["EnableStageTransition"] == 2
        # Reads are retried after a lost answer as usual.
        gw.add_hook("before-send", Fault.connection_error("read-timeout", operations={"GetPipelineState"}, times=1))
        state = await gw.get_pipeline_state(name)
        assert not state.stages[-1].paused
        assert gw.stats.requests["GetPipelineState"] == 2


def test_an_error_said_on_its_targets_own_line_does_not_name_the_target_again() -> None:
    error = AwsError(
        "Target prod/us-east-1: cannot reach AWS for ListPipelines: timed out",
        code="EndpointConnectionError",
        request_id="r-1",
        target="prod/us-east-1",
    )
    assert str(error) == (
        "EndpointConnectionError: Target prod/us-east-1: cannot reach AWS for ListPipelines: timed out (request id r-1)"
    )
    assert (
        error.without_target()
        == "EndpointConnectionError: cannot reach AWS for ListPipelines: timed out (request id r-1)"
    )
    # Only its own target's name, and only where the message starts with it.
    other = AwsError("Target prod/us-west-2: GetPipeline failed", target="prod/us-east-1")
    assert other.without_target() == str(other)
