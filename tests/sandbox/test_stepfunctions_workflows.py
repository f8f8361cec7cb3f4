"""State machines as people write them, run through the sandbox over HTTP: JSONata and variables, Lambda
functions with Retry and Catch, human approval over SNS, and the definitions CreateStateMachine refuses.

The workflows follow AWS's documented examples (Step Functions developer guide: "Transforming data with
JSONata", "Passing data between states with variables", the callback pattern over SNS, the Catch example
using a Lambda function); the functions and topics they call are declared in tests/sandbox/workflows/.
Every execution's DescribeExecution and GetExecutionHistory is checked, raw, against botocore's shapes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until
from tests.shapes import output_problems, raw_json_call

WORKFLOWS = Path(__file__).parent / "workflows"
ROLE = "arn:aws:iam::123456789012:role/wavedeck-sandbox-states"
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:"


@pytest.fixture(scope="module")
def workflows() -> Iterator[SandboxProcess]:
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=WORKFLOWS) as process:
        yield process


@pytest.fixture
def sfn(workflows: SandboxProcess) -> Any:
    return make_client(workflows.url, "stepfunctions")


def create(sfn: Any, definition: dict[str, Any]) -> str:
    name = f"wf-{uuid.uuid4().hex[:8]}"
    arn: str = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    return arn


def start(sfn: Any, arn: str, data: Any) -> str:
    execution: str = sfn.start_execution(stateMachineArn=arn, input=json.dumps(data))["executionArn"]
    return execution


def finished(sfn: Any, execution: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        return described if described["status"] != "RUNNING" else None

    result: dict[str, Any] = wait_until(done, timeout=30, what=f"{execution} to finish")
    return result


def checked_history(url: str, execution: str) -> list[dict[str, Any]]:
    """The execution's history, after both its raw answers passed botocore's output shapes."""
    status, _, described = raw_json_call(url, "stepfunctions", "DescribeExecution", {"executionArn": execution})
    assert status == 200, described
    assert output_problems("stepfunctions", "DescribeExecution", described) == []
    status, _, page = raw_json_call(
        url, "stepfunctions", "GetExecutionHistory", {"executionArn": execution, "maxResults": 1000}
    )
    assert status == 200, page
    assert output_problems("stepfunctions", "GetExecutionHistory", page) == []
    events: list[dict[str, Any]] = page["events"]
    return events


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


# --- JSONata and variables --------------------------------------------------------------------------------

# After the developer guide's JSONata examples: a Lambda call whose result is kept in variables by Assign, a
# Choice on a Condition, an inline Map over Items with an ItemSelector reading $states.context, an Output.
ORDER_JSONATA: dict[str, Any] = {
    "Comment": "Order processing with JSONata and variables",
    "QueryLanguage": "JSONata",
    "StartAt": "Price Order",
    "States": {
        "Price Order": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "price-order", "Payload": {"items": "{% $states.input.items %}"}},
            "Assign": {"total": "{% $states.result.Payload.total %}", "customer": "{% $states.input.customer %}"},
            "Output": "{% $states.input %}",
            "Next": "Large Order?",
        },
        "Large Order?": {
            "Type": "Choice",
            "Choices": [{"Condition": "{% $total >= 100 %}", "Next": "Label Each Item"}],
            "Default": "Too Small",
        },
        "Label Each Item": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "ItemSelector": {
                "sku": "{% $states.context.Map.Item.Value.sku %}",
                "position": "{% $states.context.Map.Item.Index %}",
                "customer": "{% $customer %}",
            },
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Label",
                "States": {
                    "Label": {
                        "Type": "Pass",
                        "Output": "{% $join([$states.input.customer, ':', $states.input.sku, '#', "
                        "$string($states.input.position)]) %}",
                        "End": True,
                    }
                },
            },
            "Output": {
                "labels": "{% $states.result %}",
                "total": "{% $total %}",
                "execution": "{% $states.context.Execution.Name %}",
            },
            "End": True,
        },
        "Too Small": {
            "Type": "Fail",
            "Error": "OrderTooSmall",
            "Cause": "{% 'The order total ' & $string($total) & ' is below 100' %}",
        },
    },
}


def test_a_jsonata_workflow_with_variables_runs_as_the_developer_guide_describes(
    sfn: Any, workflows: SandboxProcess
) -> None:
    arn = create(sfn, ORDER_JSONATA)
    order = {
        "customer": 'Ann "the" Bee',
        "items": [{"sku": "A-1", "price": 30, "quantity": 2}, {"sku": "B-2", "price": 45.5, "quantity": 1}],
    }
    execution = start(sfn, arn, order)
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output == {
        "labels": ['Ann "the" Bee:A-1#0', 'Ann "the" Bee:B-2#1'],
        "total": 105.5,
        "execution": execution.rsplit(":", 1)[1],
    }
    events = checked_history(workflows.url, execution)
    exited = next(e for e in events if e["type"] == "TaskStateExited")
    # assignedVariables holds each value as JSON text, quotes escaped.
    assigned = exited["stateExitedEventDetails"]["assignedVariables"]
    assert {k: json.loads(v) for k, v in assigned.items()} == {"total": 105.5, "customer": 'Ann "the" Bee'}


def test_a_jsonata_condition_routes_to_the_default_and_a_fail_state_takes_its_cause_from_an_expression(
    sfn: Any, workflows: SandboxProcess
) -> None:
    arn = create(sfn, ORDER_JSONATA)
    execution = start(sfn, arn, {"customer": "Bo", "items": [{"sku": "C-3", "price": 5, "quantity": 1}]})
    described = finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "OrderTooSmall")
    assert described["cause"] == "The order total 5 is below 100"
    checked_history(workflows.url, execution)


def test_variables_assigned_in_jsonata_are_read_by_a_jsonpath_state(sfn: Any, workflows: SandboxProcess) -> None:
    # The developer guide's conversion example: "name.$": "$customerName" reads a variable in a JSONPath state.
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Assign": {"customerName": "{% $states.input.name %}"},
                "Output": {"title": "{% $states.input.title %}"},
                "Next": "Greet",
            },
            "Greet": {
                "Type": "Pass",
                "Parameters": {"static": "Hello", "title.$": "$.title", "name.$": "$customerName"},
                "Assign": {"greeted.$": "$customerName"},
                "Next": "Echo",
            },
            "Echo": {"Type": "Pass", "Parameters": {"again.$": "$greeted", "not-evaluated": "$greeted"}, "End": True},
        },
    }
    arn = create(sfn, definition)
    execution = start(sfn, arn, {"name": "María", "title": "Doctor"})
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"again": "María", "not-evaluated": "$greeted"}
    greet = [e for e in checked_history(workflows.url, execution) if e["type"] == "PassStateExited"][1]
    assert json.loads(greet["stateExitedEventDetails"]["output"]) == {
        "static": "Hello",
        "title": "Doctor",
        "name": "María",
    }


def test_a_failing_expression_is_a_query_evaluation_error_that_retry_and_catch_see(
    sfn: Any, workflows: SandboxProcess
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "price-order", "Payload": {"n": "{% $number($states.input.n) %}"}},
                "Retry": [{"ErrorEquals": ["States.QueryEvaluationError"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [
                    {
                        "ErrorEquals": ["States.QueryEvaluationError"],
                        "Output": "{% $states.errorOutput %}",
                        "Next": "Handled",
                    }
                ],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    arn = create(sfn, definition)
    execution = start(sfn, arn, {"n": "not a number"})
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.QueryEvaluationError"
    assert "$number($states.input.n)" in caught["Cause"]
    events = checked_history(workflows.url, execution)
    failures = [e for e in events if e["type"] == "EvaluationFailed"]
    assert len(failures) == 3  # the first attempt and two retries
    assert failures[0]["evaluationFailedEventDetails"]["state"] == "Call"
    assert "TaskScheduled" not in types(events)  # the arguments never evaluated: nothing was called


def test_an_expression_that_returns_nothing_fails_a_pass_state_with_its_field_named(
    sfn: Any, workflows: SandboxProcess
) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": "{% $states.input.missing %}", "End": True}},
    }
    execution = start(sfn, create(sfn, definition), {"present": 1})
    described = finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert "returned nothing (undefined)" in described["cause"]
    events = checked_history(workflows.url, execution)
    assert types(events)[-2:] == ["EvaluationFailed", "ExecutionFailed"]
    assert events[-2]["evaluationFailedEventDetails"]["location"] == "Output"


def test_the_functions_step_functions_adds_to_jsonata(sfn: Any, workflows: SandboxProcess) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Output": {
                    "partition": "{% $partition([1,2,3,4,5], 2) %}",
                    "range": "{% $range(0, 10, 5) %}",
                    "hash": "{% $hash('abc', 'SHA-256') %}",
                    "parse": "{% $parse('{\"a\": [1, null]}') %}",
                    "seeded": "{% $random(7) = $random(7) %}",
                    "uuid": "{% $length($uuid()) %}",
                },
                "End": True,
            }
        },
    }
    described = finished(sfn, start(sfn, create(sfn, definition), {}))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {
        "partition": [[1, 2], [3, 4], [5]],
        "range": [0, 5, 10],
        "hash": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "parse": {"a": [1, None]},
        "seeded": True,
        "uuid": 36,
    }


# --- Lambda ----------------------------------------------------------------------------------------------


def test_a_lambda_workflow_retries_the_custom_error_then_catches_it(sfn: Any, workflows: SandboxProcess) -> None:
    execution = start(sfn, f"{SM}lambda-retry-catch", {"order": 1})
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["check"] == {"inventory": {"inStock": True, "warehouse": "EU-1"}}
    assert output["error"]["Error"] == "CustomError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "This is a custom error!"
    assert output["fallback"] == "This is a fallback from a custom Lambda function exception"
    events = checked_history(workflows.url, execution)
    assert types(events).count("LambdaFunctionFailed") == 3  # MaxAttempts 2: three calls in all
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")


def test_a_function_with_a_jsonata_expression_answers_from_its_payload(sfn: Any, workflows: SandboxProcess) -> None:
    definition = {
        "StartAt": "Price",
        "States": {
            "Price": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "price-order", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    items = [{"price": 2.5, "quantity": 4}, {"price": 1, "quantity": 3}]
    described = finished(sfn, start(sfn, create(sfn, definition), {"items": items}))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"total": 13, "lines": 2}


def test_a_function_nobody_declared_fails_as_lambda_does_and_the_task_failed_event_is_complete(
    sfn: Any, workflows: SandboxProcess
) -> None:
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "nobody-declared-me", "Payload": {}},
                "End": True,
            }
        },
    }
    execution = start(sfn, create(sfn, definition), {})
    described = finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    events = checked_history(workflows.url, execution)
    failed = next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert (failed["resourceType"], failed["resource"]) == ("lambda", "invoke")


def test_a_jsonpath_error_in_task_parameters_gives_a_task_failed_event_with_its_resource(
    sfn: Any, workflows: SandboxProcess
) -> None:
    # moto reports this TaskFailed without the resource and resourceType botocore requires.
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:order-notifications",
                    "Message.$": "$.no.such.path",
                },
                "End": True,
            }
        },
    }
    execution = start(sfn, create(sfn, definition), {})
    assert finished(sfn, execution)["status"] == "FAILED"
    events = checked_history(workflows.url, execution)
    failed = next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert (failed["resourceType"], failed["resource"]) == ("sns", "publish")


def test_a_lambda_wait_for_task_token_gets_the_token_in_its_payload_and_waits_for_the_answer(
    sfn: Any, workflows: SandboxProcess
) -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "send-approval-email",
                    "Payload": {"ExecutionContext.$": "$$", "token.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
    execution = start(sfn, create(sfn, definition), {"change": "CHG-1"})

    def submitted() -> dict[str, Any] | None:
        events = checked_history(workflows.url, execution)
        return (
            next((e for e in events if e["type"] == "TaskScheduled"), None)
            if "TaskSubmitted" in types(events)
            else None
        )

    scheduled = wait_until(submitted, what="the task to be submitted")
    token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    described = finished(sfn, execution)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"approved": True})
    checked_history(workflows.url, execution)


# --- SNS -------------------------------------------------------------------------------------------------


def _waiting_token(url: str, execution: str) -> str:
    def submitted() -> str | None:
        events = checked_history(url, execution)
        if "TaskSubmitted" not in types(events):
            return None
        scheduled = next(e for e in events if e["type"] == "TaskScheduled")["taskScheduledEventDetails"]
        assert (scheduled["resourceType"], scheduled["resource"]) == ("sns", "publish.waitForTaskToken")
        token: str = json.loads(scheduled["parameters"])["Message"]["TaskToken"]
        return token

    token: str = wait_until(submitted, what="the approval request to be published")
    return token


def test_human_approval_over_sns_waits_and_an_approval_routes_to_success(sfn: Any, workflows: SandboxProcess) -> None:
    execution = start(sfn, f"{SM}human-approval-sns", {"change": "CHG-7"})
    token = _waiting_token(workflows.url, execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output=json.dumps({"result": "Approved", "by": "ops"}))
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    events = checked_history(workflows.url, execution)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered == ["Request Approval", "Approved?", "Notify Approval", "Done"]


def test_human_approval_over_sns_rejected_ends_in_the_fail_state(sfn: Any, workflows: SandboxProcess) -> None:
    execution = start(sfn, f"{SM}human-approval-sns", {"change": "CHG-8"})
    token = _waiting_token(workflows.url, execution)
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="not during the freeze")
    described = finished(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", "Rejected")
    checked_history(workflows.url, execution)


def test_the_topics_of_the_definitions_exist(workflows: SandboxProcess) -> None:
    sns = make_client(workflows.url, "sns")
    arns = {t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]}
    assert {"human-approval-requests", "order-notifications"} <= arns


# --- CreateStateMachine ----------------------------------------------------------------------------------


def _create_raw(url: str, definition: str) -> tuple[int, dict[str, str], Any]:
    params = {"name": f"raw-{uuid.uuid4().hex[:8]}", "definition": definition, "roleArn": ROLE}
    return raw_json_call(url, "stepfunctions", "CreateStateMachine", params)


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}},
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope "
            "at /States/A/Next'",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": True}}},
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'Type' must be "
            "one of Task, Pass, Wait, Choice, Parallel, Map, Succeed, Fail at /States/A/Type'",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": {"Type": "Succeed", "Next": "A"}}},
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Either 'Next' or 'End' is required at "
            "/States/A, SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/B/Next'",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
            },
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: A state cannot be JSONPath when the "
            "state machine's QueryLanguage is JSONata at /States/A/QueryLanguage'",
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "A",
                "States": {"A": {"Type": "Pass", "Parameters": {"a": 1}, "End": True}},
            },
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Parameters' is not supported "
            "for JSONata states at /States/A/Parameters'",
        ),
        ("{not json", None),
    ],
)
def test_definitions_aws_refuses_are_refused_with_invalid_definition_and_aws_message(
    workflows: SandboxProcess, definition: Any, message: str | None
) -> None:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    status, headers, body = _create_raw(workflows.url, text)
    assert status == 400
    assert body["__type"] == "InvalidDefinition"
    assert headers["X-Amzn-ErrorType"].split(":")[0] == "InvalidDefinition"
    if message is None:
        assert body["message"].startswith("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ")
    else:
        assert body["message"] == message


def test_boto3_reads_the_refusal_as_invalid_definition(sfn: Any) -> None:
    with pytest.raises(ClientError) as refused:
        create(sfn, {"StartAt": "Missing", "States": {"A": {"Type": "Succeed"}}})
    assert refused.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "MISSING_TRANSITION_TARGET" in refused.value.response["Error"]["Message"]


DISTRIBUTED_MAP: dict[str, Any] = {
    # After the developer guide's Distributed Map examples: a CSV in S3, batches, EXPRESS child executions.
    "StartAt": "Process CSV",
    "States": {
        "Process CSV": {
            "Type": "Map",
            "ItemReader": {
                "Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "amzn-s3-demo-bucket", "Key": "ratings.csv"},
            },
            "ItemBatcher": {"MaxItemsPerBatch": 100, "BatchInput": {"source": "ratings"}},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "Count",
                "States": {"Count": {"Type": "Pass", "End": True}},
            },
            "MaxConcurrency": 1000,
            "ToleratedFailurePercentage": 5,
            "Label": "ProcessCSV",
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "amzn-s3-demo-destination-bucket", "Prefix": "csvProcessJobs"},
            },
            "End": True,
        }
    },
}


def test_a_distributed_map_with_express_children_and_an_item_batcher_is_accepted(sfn: Any) -> None:
    arn = create(sfn, DISTRIBUTED_MAP)
    # The definition is kept as it was sent, ItemBatcher and EXPRESS included.
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == DISTRIBUTED_MAP


def test_an_item_batcher_on_an_inline_map_is_refused(workflows: SandboxProcess) -> None:
    definition = json.loads(json.dumps(DISTRIBUTED_MAP))
    state = definition["States"]["Process CSV"]
    del state["ItemReader"], state["ResultWriter"]
    state["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    status, _, body = _create_raw(workflows.url, json.dumps(definition))
    assert (status, body["__type"]) == (400, "InvalidDefinition")
    assert (
        "The field 'ItemBatcher' is only supported in DISTRIBUTED mode at /States/Process CSV/ItemBatcher"
        in (body["message"])
    )
