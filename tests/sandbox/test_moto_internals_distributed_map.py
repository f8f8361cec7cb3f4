"""The moto internals of Distributed Map that exist only on built objects: checked on real ones.

console/sandbox/stepfunctions/internals.py lists the classes, methods and parameters; what a parsed Map
state and a MapRunRecord carry as instance attributes is checked here, by parsing a Distributed Map with
the sandbox's wrap of moto's parser (map_definitions.py) and building a MapRunRecord.
"""

from __future__ import annotations

import json

from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (
    MapRunRecord,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from console.sandbox.stepfunctions import map_definitions

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Rows",
                    "States": {
                        "Rows": {
                            "Type": "Map",
                            "ItemBatcher": {"MaxItemsPerBatch": 3},
                            "ToleratedFailurePercentage": 10,
                            "ResultWriter": {
                                "Resource": "arn:aws:states:::s3:putObject",
                                "Parameters": {"Bucket": "b", "Prefix": "p"},
                            },
                            "ItemProcessor": {
                                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                                "StartAt": "P",
                                "States": {"P": {"Type": "Pass", "End": True}},
                            },
                            "End": True,
                        }
                    },
                }
            ],
            "End": True,
        }
    },
}


def parse_with_extras() -> object:
    stripped, found = map_definitions.strip(DEFINITION)
    program, _ = AmazonStateLanguageParser.parse(json.dumps(stripped))
    map_definitions.annotate(program, found)
    return program


def test_a_distributed_map_in_a_parallel_branch_gets_its_extras_on_its_parsed_component() -> None:
    program = parse_with_extras()
    state_map = program.states.states["Fan"].branches.programs[0].states.states["Rows"]  # type: ignore[attr-defined]
    component = state_map.iteration_component
    extras = getattr(component, map_definitions.EXTRAS)
    assert extras.express
    assert extras.batcher == {"MaxItemsPerBatch": 3}
    assert (extras.percentage_declared, extras.count_declared) == (True, False)
    assert getattr(component, map_definitions.RESULT_WRITER) is state_map.result_writer
    assert "P" in component._states.states
    assert state_map.item_reader is None
    assert state_map.item_selector is None


def test_the_grammar_still_refuses_what_map_definitions_takes_out() -> None:
    # When moto's grammar learns these fields, the strip can go: this test says so by failing.
    for field in ({"ItemBatcher": {"MaxItemsPerBatch": 3}}, {"ToleratedFailurePercentage": 10}):
        document = json.loads(json.dumps(DEFINITION))
        rows = document["States"]["Fan"]["Branches"][0]["States"]["Rows"]
        rows.pop("ItemBatcher")
        rows.pop("ToleratedFailurePercentage")
        rows["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "STANDARD"
        rows.update(field)
        try:
            map_definitions.moto_parse(json.dumps(document))
        except Exception:  # noqa: BLE001 - moto's parser raises its own exception types
            continue
        raise AssertionError(f"moto's grammar accepts {field} now: map_definitions.py may stop taking it out")


def test_a_map_run_record_has_what_the_map_run_reads_and_counts() -> None:
    record = MapRunRecord(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
        max_concurrency=2,
        tolerated_failure_count=1,
        tolerated_failure_percentage=0.0,
        label="Rows",
    )
    assert record.map_run_arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:m/Rows:")
    assert record.map_state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:m/Rows"
    for counter in (record.item_counter, record.execution_counter):
        for name in ("pending", "running", "succeeded", "failed", "timed_out", "aborted", "total", "results_written"):
            getattr(counter, name).count(1)
    described = record.describe()
    assert described["itemCounts"]["timedOut"] == 1
    assert described["executionCounts"]["resultsWritten"] == 1
    assert (record.status, record.max_concurrency, record.tolerated_failure_count) == ("RUNNING", 2, 1)
