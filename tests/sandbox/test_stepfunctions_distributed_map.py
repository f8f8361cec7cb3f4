"""Distributed Map in the sandbox, from AWS's documented examples, over HTTP with boto3.

A CSV in the sandbox's S3 read in batches with a tolerated failure percentage (and a count), an EXPRESS child
workflow over a JSON array with ItemSelector, a ResultWriter's manifest and result files, a listing of
objects, the Map Run API (ListMapRuns, DescribeMapRun, UpdateMapRun), child executions through
ListExecutions(mapRunArn) / DescribeExecution / GetExecutionHistory, and StopExecution of a parent. Every
Map Run and child execution answer is checked, raw, against botocore's output shape (tests/shapes.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore import xform_name

from tests.conftest import unique, wait_until
from tests.sandbox.test_stepfunctions_support import (
    create_machine,
    error_code,
    history,
    start,
    wait_event,
    wait_status,
)
from tests.shapes import output_problems, raw_json_call


def checked(sfn: Any, operation: str, **params: Any) -> dict[str, Any]:
    """The answer to `operation`, after its raw body was checked against botocore's output shape."""
    status, _, body = raw_json_call(sfn.meta.endpoint_url, "stepfunctions", operation, params)
    assert status == 200, body
    problems = output_problems("stepfunctions", operation, body)
    assert not problems, f"{operation}: " + "; ".join(problems)
    return dict(getattr(sfn, xform_name(operation))(**params))


# --- the state machines -----------------------------------------------------------------------------------


def rows(count: int, bad_every: int) -> bytes:
    lines = ["id,name,quality"]
    lines += [f"{i},item{i},{'bad' if i % bad_every == 0 else 'ok'}" for i in range(1, count + 1)]
    return ("\n".join(lines) + "\n").encode()


def csv_machine(bucket: str, key: str, tolerance: dict[str, Any], max_concurrency: int = 0) -> dict[str, Any]:
    """AWS's "Distributed Map over a CSV": batches of two, each checked item by item by an inline Map."""
    check_items = {
        "Type": "Map",
        "ItemsPath": "$.Items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "Quality",
            "States": {
                "Quality": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.quality", "StringEquals": "bad", "Next": "Reject"}],
                    "Default": "Accept",
                },
                "Reject": {"Type": "Fail", "Error": "Shipment.BadQuality", "Cause": "a row failed its check"},
                "Accept": {"Type": "Pass", "End": True},
            },
        },
        "ResultPath": "$.checked",
        "End": True,
    }
    return {
        "Comment": "Process a CSV of shipments in batches",
        "StartAt": "Shipments",
        "States": {
            "Shipments": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                    "Parameters": {"Bucket": bucket, "Key": key},
                },
                "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"campaign.$": "$.campaign"}},
                "MaxConcurrency": max_concurrency,
                **tolerance,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "CheckBatch",
                    "States": {"CheckBatch": check_items},
                },
                "Label": "Shipments",
                "End": True,
            }
        },
    }


def make_bucket(s3: Any, objects: dict[str, bytes]) -> str:
    bucket = unique("dmap")
    s3.create_bucket(Bucket=bucket)
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


def only_map_run(sfn: Any, execution_arn: str) -> dict[str, Any]:
    runs = checked(sfn, "ListMapRuns", executionArn=execution_arn)["mapRuns"]
    assert len(runs) == 1
    return checked(sfn, "DescribeMapRun", mapRunArn=runs[0]["mapRunArn"])


def counts(map_run: dict[str, Any], kind: str) -> dict[str, int]:
    return {k: v for k, v in map_run[kind].items() if v}


# --- the tests ----------------------------------------------------------------------------------------------


def test_a_csv_in_s3_in_batches_within_the_tolerated_failure_percentage(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"shipments.csv": rows(20, 5)})  # rows 5, 10, 15, 20 are bad
    machine = create_machine(sfn, csv_machine(bucket, "shipments.csv", {"ToleratedFailurePercentage": 50}), "dmap")
    arn = start(sfn, machine, {"campaign": "spring"})
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED", finished

    map_run = only_map_run(sfn, arn)
    assert map_run["status"] == "SUCCEEDED"
    assert map_run["toleratedFailurePercentage"] == 50
    # Ten batches of two; the four that hold a bad row fail, with both their items.
    assert counts(map_run, "itemCounts") == {"total": 20, "succeeded": 12, "failed": 8}
    assert counts(map_run, "executionCounts") == {"total": 10, "succeeded": 6, "failed": 4}
    assert ":mapRun:" in map_run["mapRunArn"]
    assert "/Shipments:" in map_run["mapRunArn"]

    output = json.loads(finished["output"])
    assert len(output) == 10
    failed = [entry for entry in output if isinstance(entry, dict) and entry.get("Status") == "FAILED"]
    assert [entry["Error"] for entry in failed] == ["Shipment.BadQuality"] * 4
    first = output[0]
    assert first["Items"] == [
        {"id": "1", "name": "item1", "quality": "ok"},
        {"id": "2", "name": "item2", "quality": "ok"},
    ]
    assert first["BatchInput"] == {"campaign": "spring"}

    events = history(sfn, arn)
    types = [e["type"] for e in events]
    assert types.index("MapRunStarted") < types.index("MapRunSucceeded") < types.index("MapStateSucceeded")
    started = next(e for e in events if e["type"] == "MapRunStarted")
    assert started["mapRunStartedEventDetails"]["mapRunArn"] == map_run["mapRunArn"]
    checked(sfn, "GetExecutionHistory", executionArn=arn, maxResults=1000)


def test_the_child_executions_of_a_map_run_are_listed_described_and_have_a_history(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"shipments.csv": rows(6, 3)})  # rows 3 and 6 are bad
    machine = create_machine(sfn, csv_machine(bucket, "shipments.csv", {"ToleratedFailureCount": 4}), "dmap")
    arn = start(sfn, machine, {"campaign": "summer"})
    assert wait_status(sfn, arn)["status"] == "SUCCEEDED"
    map_run_arn = only_map_run(sfn, arn)["mapRunArn"]

    children = checked(sfn, "ListExecutions", mapRunArn=map_run_arn)["executions"]
    assert len(children) == 3
    assert {c["itemCount"] for c in children} == {2}
    assert {c["mapRunArn"] for c in children} == {map_run_arn}
    machine_name = machine.split(":")[-1]
    assert all(f":execution:{machine_name}/Shipments:" in c["executionArn"] for c in children)
    failed = checked(sfn, "ListExecutions", mapRunArn=map_run_arn, statusFilter="FAILED")
    assert len(failed["executions"]) == 2
    paged = sfn.list_executions(mapRunArn=map_run_arn, maxResults=2)
    assert len(paged["executions"]) == 2
    assert paged["nextToken"]
    assert len(sfn.list_executions(mapRunArn=map_run_arn, nextToken=paged["nextToken"])["executions"]) == 1

    child = checked(sfn, "DescribeExecution", executionArn=failed["executions"][0]["executionArn"])
    assert (child["status"], child["error"], child["mapRunArn"]) == ("FAILED", "Shipment.BadQuality", map_run_arn)
    assert json.loads(child["input"])["BatchInput"] == {"campaign": "summer"}
    events = history(sfn, child["executionArn"])
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionFailed"
    checked(sfn, "GetExecutionHistory", executionArn=child["executionArn"], maxResults=1000)

    # ListExecutions needs one of the two ARNs; a finished Map Run cannot be updated.
    assert error_code(lambda: sfn.list_executions())[0] == "ValidationException"
    code, message = error_code(lambda: sfn.update_map_run(mapRunArn=map_run_arn, maxConcurrency=5))
    assert code == "ValidationException"
    assert "completed" in message


def test_failures_beyond_the_tolerated_percentage_fail_the_map_run(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"shipments.csv": rows(20, 5)})
    definition = csv_machine(bucket, "shipments.csv", {"ToleratedFailurePercentage": 30})
    arn = start(sfn, create_machine(sfn, definition, "dmap"), {"campaign": "autumn"})
    finished = wait_status(sfn, arn)
    assert (finished["status"], finished["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    map_run = only_map_run(sfn, arn)
    assert map_run["status"] == "FAILED"
    failed_event = wait_event(sfn, arn, "MapRunFailed")
    assert failed_event["mapRunFailedEventDetails"]["error"] == "States.ExceedToleratedFailureThreshold"
    types = [e["type"] for e in history(sfn, arn)]
    assert types[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]

    # A redrive runs the Map state again: a second Map Run, and both stay listed and described.
    sfn.redrive_execution(executionArn=arn)
    wait_event(sfn, arn, "MapRunFailed", count=2)
    runs = checked(sfn, "ListMapRuns", executionArn=arn)["mapRuns"]
    assert len(runs) == 2
    assert runs[0]["mapRunArn"] == map_run["mapRunArn"]
    assert sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["status"] == "FAILED"
    missing = map_run["mapRunArn"][:-4] + "0000"
    assert error_code(lambda: sfn.describe_map_run(mapRunArn=missing))[0] == "ResourceNotFound"


def test_a_tolerated_failure_count_stops_launching_once_exceeded(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"shipments.csv": rows(20, 5)})
    # One batch at a time: (5,6) fails (2 items, tolerated), (9,10) fails (4 > 3): nothing after it starts.
    definition = csv_machine(bucket, "shipments.csv", {"ToleratedFailureCount": 3}, max_concurrency=1)
    arn = start(sfn, create_machine(sfn, definition, "dmap"), {"campaign": "winter"})
    assert wait_status(sfn, arn)["error"] == "States.ExceedToleratedFailureThreshold"
    map_run = only_map_run(sfn, arn)
    assert map_run["maxConcurrency"] == 1
    assert counts(map_run, "executionCounts") == {"total": 10, "succeeded": 3, "failed": 2, "pending": 5}
    assert counts(map_run, "itemCounts") == {"total": 20, "succeeded": 6, "failed": 4, "pending": 10}


def test_an_express_child_workflow_over_a_json_array_with_item_selector(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    orders = [{"order": f"o-{i}", "amount": i * 10} for i in range(5)]
    bucket = make_bucket(s3, {"orders.json": json.dumps(orders).encode()})
    definition = {
        "StartAt": "Orders",
        "States": {
            "Orders": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON", "MaxItems": 4},
                    "Parameters": {"Bucket": bucket, "Key": "orders.json"},
                },
                "ItemSelector": {
                    "position.$": "$$.Map.Item.Index",
                    "order.$": "$$.Map.Item.Value.order",
                    "region.$": "$.region",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "Parameters": {"priced.$": "$.order", "at.$": "$.position", "in.$": "$.region"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    arn = start(sfn, create_machine(sfn, definition, "dmap-express"), {"region": "eu-west-1"})
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED", finished
    assert json.loads(finished["output"]) == [{"priced": f"o-{i}", "at": i, "in": "eu-west-1"} for i in range(4)]
    map_run = only_map_run(sfn, arn)
    assert counts(map_run, "executionCounts") == {"total": 4, "succeeded": 4}
    # EXPRESS children are counted in the Map Run, not listed.
    assert sfn.list_executions(mapRunArn=map_run["mapRunArn"])["executions"] == []


def test_a_result_writer_writes_the_manifest_and_the_results_to_s3(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"shipments.csv": rows(4, 4)})  # row 4 is bad
    definition = csv_machine(bucket, "shipments.csv", {"ToleratedFailureCount": 2})
    definition["States"]["Shipments"]["ResultWriter"] = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": bucket, "Prefix": "results"},
    }
    arn = start(sfn, create_machine(sfn, definition, "dmap-writer"), {"campaign": "x"})
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED", finished
    output = json.loads(finished["output"])
    map_run = only_map_run(sfn, arn)
    run_id = map_run["mapRunArn"].split(":")[-1]
    assert output == {
        "MapRunArn": map_run["mapRunArn"],
        "ResultWriterDetails": {"Bucket": bucket, "Key": f"results/{run_id}/manifest.json"},
    }
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"results/{run_id}/manifest.json")["Body"].read())
    assert manifest["DestinationBucket"] == bucket
    assert manifest["MapRunArn"] == map_run["mapRunArn"]
    assert manifest["ResultFiles"]["PENDING"] == []
    (succeeded_file,) = manifest["ResultFiles"]["SUCCEEDED"]
    (failed_file,) = manifest["ResultFiles"]["FAILED"]
    assert succeeded_file["Key"] == f"results/{run_id}/SUCCEEDED_0.json"
    succeeded = json.loads(s3.get_object(Bucket=bucket, Key=succeeded_file["Key"])["Body"].read())
    failed = json.loads(s3.get_object(Bucket=bucket, Key=failed_file["Key"])["Body"].read())
    assert failed_file["Size"] == s3.head_object(Bucket=bucket, Key=failed_file["Key"])["ContentLength"]
    assert [entry["Status"] for entry in succeeded] == ["SUCCEEDED"]
    assert json.loads(succeeded[0]["Output"])["Items"][0]["id"] == "1"
    assert (failed[0]["Status"], failed[0]["Error"]) == ("FAILED", "Shipment.BadQuality")
    assert failed[0]["ExecutionArn"].startswith(map_run["mapRunArn"].split(":mapRun:")[0])
    assert counts(map_run, "itemCounts")["resultsWritten"] == 4


def test_an_item_reader_listing_objects(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {f"images/{i}.jpg": b"x" * (i + 1) for i in range(5)} | {"other/readme": b"no"})
    definition = {
        "StartAt": "Images",
        "States": {
            "Images": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "ReaderConfig": {"MaxItems": 3},
                    "Parameters": {"Bucket": bucket, "Prefix": "images/"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Look",
                    "States": {"Look": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    finished = wait_status(sfn, start(sfn, create_machine(sfn, definition, "dmap-list")))
    assert finished["status"] == "SUCCEEDED", finished
    listed = json.loads(finished["output"])
    assert [item["Key"] for item in listed] == ["images/0.jpg", "images/1.jpg", "images/2.jpg"]
    assert [item["Size"] for item in listed] == [1, 2, 3]
    assert set(listed[0]) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert isinstance(listed[0]["LastModified"], int)


def test_stopping_the_parent_aborts_its_map_run(aws: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"items.json": json.dumps(list(range(6))).encode()})
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "items.json"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Bake",
                    "States": {"Bake": {"Type": "Wait", "Seconds": 3600, "End": True}},
                },
                "End": True,
            }
        },
    }
    arn = start(sfn, create_machine(sfn, definition, "dmap-stop"))
    map_run_arn = wait_event(sfn, arn, "MapRunStarted")["mapRunStartedEventDetails"]["mapRunArn"]

    def two_running() -> bool:
        return sfn.describe_map_run(mapRunArn=map_run_arn)["executionCounts"]["running"] == 2

    wait_until(two_running, what="two children running")
    sfn.stop_execution(executionArn=arn, error="Operator.Stop", cause="wrong batch")
    assert wait_status(sfn, arn)["status"] == "ABORTED"
    types = [e["type"] for e in history(sfn, arn)]
    assert types[-2:] == ["MapRunAborted", "ExecutionAborted"]

    def settled() -> dict[str, Any] | None:
        found = sfn.describe_map_run(mapRunArn=map_run_arn)
        return found if found["executionCounts"]["running"] == 0 else None

    map_run = wait_until(settled, what="the children to stop")
    assert map_run["status"] == "ABORTED"
    assert counts(map_run, "executionCounts") == {"total": 6, "aborted": 2, "pending": 4}


@pytest.mark.parametrize(
    "extra",
    [
        {"ItemBatcher": {"MaxInputBytesPerBatch": 1024}},
        {"ToleratedFailurePercentage": 5},
    ],
)
def test_definitions_aws_accepts_are_accepted(aws: Any, extra: dict[str, Any]) -> None:
    sfn = aws("stepfunctions")
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                **extra,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    arn = start(sfn, create_machine(sfn, definition, "dmap-accept"), {"items": [1, 2, 3]})
    assert wait_status(sfn, arn)["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("body", "reader_config", "expected"),
    [
        (b'{"n": 1}\n{"n": 2}\n\n{"n": 3}\n', {"InputType": "JSONL", "MaxItems": 2}, [{"n": 1}, {"n": 2}]),
        (
            b"a;b\n1;x\n2\n",
            {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "CSVDelimiter": "SEMICOLON"},
            [{"a": "1", "b": "x"}, {"a": "2", "b": ""}],
        ),
        (
            b"1|x\n",
            {"InputType": "CSV", "CSVHeaderLocation": "GIVEN", "CSVHeaders": ["a", "b"], "CSVDelimiter": "PIPE"},
            [{"a": "1", "b": "x"}],
        ),
    ],
    ids=["JSONL", "CSV ;", "CSV | given headers"],
)
def test_item_readers_moto_does_not_know(aws: Any, body: bytes, reader_config: dict[str, Any], expected: Any) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"items": body})
    definition = {
        "StartAt": "Read",
        "States": {
            "Read": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": reader_config,
                    "Parameters": {"Bucket": bucket, "Key": "items"},
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
    finished = wait_status(sfn, start(sfn, create_machine(sfn, definition, "dmap-reader")))
    assert finished["status"] == "SUCCEEDED", finished
    assert json.loads(finished["output"]) == expected


def test_a_distributed_map_inside_a_child_execution_has_a_map_run_of_its_own(aws: Any) -> None:
    sfn = aws("stepfunctions")

    def distributed(name: str, items_path: str, inner: dict[str, Any]) -> dict[str, Any]:
        return {
            "Type": "Map",
            "ItemsPath": items_path,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": name,
                "States": {name: inner},
            },
            "End": True,
        }

    inner = distributed("Leaf", "$.leaves", {"Type": "Pass", "End": True})
    definition = {"StartAt": "Outer", "States": {"Outer": distributed("Inner", "$.groups", inner)}}
    arn = start(sfn, create_machine(sfn, definition, "dmap-nested"), {"groups": [{"leaves": [1, 2]}, {"leaves": [3]}]})
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED", finished
    assert json.loads(finished["output"]) == [[1, 2], [3]]
    outer = only_map_run(sfn, arn)
    children = sfn.list_executions(mapRunArn=outer["mapRunArn"])["executions"]
    assert len(children) == 2
    inner_runs = [only_map_run(sfn, child["executionArn"]) for child in children]
    assert sorted(run["itemCounts"]["succeeded"] for run in inner_runs) == [1, 2]
    assert {run["executionArn"] for run in inner_runs} == {child["executionArn"] for child in children}


@pytest.mark.parametrize(
    ("field", "error"),
    [("ItemReader", "States.ItemReaderFailed"), ("ResultWriter", "States.ResultWriterFailed")],
)
def test_s3_refusing_a_read_or_a_write_fails_the_map_run_with_its_error(aws: Any, field: str, error: str) -> None:
    sfn, s3 = aws("stepfunctions"), aws("s3")
    bucket = make_bucket(s3, {"items.json": b"[1, 2]"})
    missing = unique("no-such-bucket")
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": bucket, "Key": "items.json" if field == "ResultWriter" else "gone.json"},
                },
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": missing if field == "ResultWriter" else bucket, "Prefix": "out"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "Catch": [{"ErrorEquals": [error], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = start(sfn, create_machine(sfn, definition, "dmap-s3-error"))
    finished = wait_status(sfn, arn)
    assert finished["status"] == "SUCCEEDED", finished
    caught = json.loads(finished["output"])
    assert caught["Error"] == error
    assert ("NoSuchKey" if field == "ItemReader" else "NoSuchBucket") in caught["Cause"]
    failed = wait_event(sfn, arn, "MapRunFailed")["mapRunFailedEventDetails"]
    assert failed["error"] == error
