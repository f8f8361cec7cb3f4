"""`functions:` and `topics:` in fleet.yaml: every key checked, each problem named `file:line: key: problem`.

Each case copies tests/sandbox/workflows/ (the workflow tests' definitions), breaks one thing in it and
loads it as the sandbox would (the loader, then the sandbox's own checks).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.errors import InputError
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.seed import check_definitions

WORKFLOWS = Path(__file__).parent / "workflows"
FLEET = "fleet.yaml"
SNS_ASL = "state-machines/human-approval-sns.asl.json"
LAMBDA_ASL = "state-machines/lambda-retry-catch.asl.json"

CASES = {
    "unknown key of a function": (
        FLEET,
        "{name: FailFunction, fail: 1.0,",
        "{name: FailFunction, fial: 1.0,",
        "fleet.yaml:{line}: functions[1].fial: unknown key",
    ),
    "a chance above 1": (
        FLEET,
        "{name: FailFunction, fail: 1.0,",
        "{name: FailFunction, fail: 1.5,",
        "fleet.yaml:{line}: functions[1].fail: must be at most 1, got 1.5",
    ),
    "result and expression both": (
        FLEET,
        "{name: send-approval-email, result: {sent: true}}",
        "{name: send-approval-email, result: {sent: true}, expression: '$'}",
        "fleet.yaml:{line}: functions[3].expression: a function has either 'result' or 'expression', not both",
    ),
    "a function name Lambda refuses": (
        FLEET,
        "{name: price-order,",
        "{name: price order,",
        "fleet.yaml:{line}: functions[2].name: a Lambda function name is 1-64 of A-Z a-z 0-9 - _, got 'price order'",
    ),
    "a function defined twice": (
        FLEET,
        "{name: send-approval-email,",
        "{name:  check-inventory,",
        "fleet.yaml:{line}: functions[3].name: function 'check-inventory' is defined twice (first on line 9)",
    ),
    "an error name with spaces": (
        FLEET,
        "error: CustomError,",
        "error: Custom Error,",
        "fleet.yaml:{line}: functions[1].error: an error name is 1-256 of A-Z a-z 0-9 . - _, got 'Custom Error'",
    ),
    "a topic name SNS refuses": (
        FLEET,
        "topics: [human-approval-requests, order-notifications]",
        "topics: [human-approval-requests, order notifications]",
        "fleet.yaml:{line}: topics[1]: an SNS topic name is 1-256 of A-Z a-z 0-9 - _, got 'order notifications'",
    ),
    "a topic the ASL names is not declared": (
        FLEET,
        "topics: [human-approval-requests, order-notifications]",
        "topics: [order-notifications]",
        "state-machines/human-approval-sns.asl.json:{asl_line}: States.Request Approval.Parameters.TopicArn: "
        "topic 'human-approval-requests' is not declared under topics in fleet.yaml (declared: order-notifications)",
    ),
    "a function the ASL names is not declared": (
        LAMBDA_ASL,
        "function:FailFunction",
        "function:FailFunctoin",
        "state-machines/lambda-retry-catch.asl.json:{line}: States.CreateAccount.Resource: function 'FailFunctoin' "
        "is not declared under functions in fleet.yaml (declared: FailFunction, broken-expression, check-inventory, "
        "price-order, send-approval-email)",
    ),
}


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(WORKFLOWS, directory)
    return directory


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_function_or_topic_is_named_with_file_line_and_key(tmp_path: Path, case: str) -> None:
    file, old, new, expected = CASES[case]
    directory = _copy(tmp_path)
    path = directory / file
    text = path.read_text()
    assert old in text, f"the case no longer matches {file}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    line = text[: text.index(new)].count("\n") + 1
    asl = (directory / SNS_ASL).read_text()
    asl_line = asl[: asl.index('"TopicArn"')].count("\n") + 1
    with pytest.raises(InputError) as refused:
        load_fleet(directory)
    message = str(refused.value)
    expected = "definitions/" + expected.format(line=line, asl_line=asl_line)
    assert message.startswith(expected), message


def test_a_function_expression_that_is_not_jsonata_is_named_before_the_sandbox_opens(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    path = directory / FLEET
    text = path.read_text().replace("expression: '$number(notANumber)'", "expression: '$number(('")
    path.write_text(text)
    fleet = load_fleet(directory)
    with pytest.raises(InputError) as refused:
        check_definitions(fleet)
    line = text[: text.index("$number((")].count("\n") + 1
    expected = f"definitions/fleet.yaml:{line}: functions[4].expression: not a JSONata expression: "
    assert str(refused.value).startswith(expected)


def test_the_workflow_definitions_load_with_their_functions_and_topics() -> None:
    fleet = load_fleet(WORKFLOWS)
    check_definitions(fleet)
    assert fleet.topics == ("human-approval-requests", "order-notifications")
    failing = next(f for f in fleet.functions if f.name == "FailFunction")
    assert (failing.fail, failing.error, failing.message) == (1.0, "CustomError", "This is a custom error!")
    inventory = next(f for f in fleet.functions if f.name == "check-inventory")
    assert (inventory.result, inventory.duration, inventory.region) == (
        {"inStock": True, "warehouse": "EU-1"},
        2.0,
        "us-east-1",
    )
