"""A Distributed Map's S3 reads and writes: listing objects for ItemReader, and ResultWriter's files.

Both go to the sandbox's own S3 (moto's, on the same endpoint) through moto's `boto_client_for`, as moto's
own ItemReader does.

- `s3:listObjectsV2`: every object under the prefix, all pages, each item shaped as AWS documents it
  (`Etag`, `Key`, `LastModified` in epoch seconds, `Size`, `StorageClass`); moto handed on boto3's first
  page with datetimes in it, which no state could serialise.
- ResultWriter: AWS writes `<Prefix>/<map run id>/manifest.json` and, per outcome, `SUCCEEDED_0.json`,
  `FAILED_0.json`, `PENDING_0.json`: JSON arrays of one object per child execution (ExecutionArn, Name,
  Input, Output or Error and Cause, Status, dates). moto wrote an empty manifest only.
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from console.sandbox.stepfunctions.map_runs import ChildExecution


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def _list_objects_v2(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    client: Any = boto_client_for(
        region=resource_runtime_part.region, service="s3", state_credentials=state_credentials
    )
    parameters = dict(env.stack.pop())
    items: list[dict[str, Any]] = []
    while True:
        response = client.list_objects_v2(**parameters)
        for found in response.get("Contents", []):
            items.append(
                {
                    "Etag": found.get("ETag"),
                    "Key": found["Key"],
                    "LastModified": int(found["LastModified"].timestamp()),
                    "Size": found.get("Size", 0),
                    "StorageClass": found.get("StorageClass", "STANDARD"),
                }
            )
        token = response.get("NextContinuationToken")
        if not response.get("IsTruncated") or not token:
            break
        parameters["ContinuationToken"] = token
    env.stack.append(items)


def _iso(moment: Any) -> str | None:
    if moment is None:
        return None
    return str(moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def result_entry(child: ChildExecution) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ExecutionArn": child.execution_arn,
        "Input": child.input,
        "InputDetails": {"Included": True},
        "Name": child.name,
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StartDate": _iso(child.start_date),
        "StateMachineArn": child.state_machine_arn,
        "Status": child.status,
        "StopDate": _iso(child.stop_date),
    }
    if child.status == "SUCCEEDED":
        entry["Output"] = child.output
        entry["OutputDetails"] = {"Included": True}
    else:
        if child.error is not None:
            entry["Error"] = child.error
        if child.cause is not None:
            entry["Cause"] = child.cause
    return entry


def write_results(
    env: Any, result_writer: Any, map_run_arn: str, children: list[ChildExecution], pending: list[str]
) -> dict[str, Any]:
    """Write the Map Run's results where the ResultWriter says; the Map state's output that points at them."""
    result_writer.parargs.eval(env=env)
    parameters = env.stack.pop()
    bucket = parameters["Bucket"]
    prefix = str(parameters.get("Prefix") or "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = f"{prefix}{map_run_arn.split(':')[-1]}/"
    client: Any = boto_client_for(region=_region_of(map_run_arn), service="s3")
    groups: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for child in children:
        groups["SUCCEEDED" if child.status == "SUCCEEDED" else "FAILED"].append(result_entry(child))
    groups["PENDING"] = [{"Input": item_input} for item_input in pending]
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for outcome, entries in groups.items():
        if not entries:
            continue
        key = f"{folder}{outcome}_0.json"
        body = json.dumps(entries).encode()
        client.put_object(Bucket=bucket, Key=key, Body=body)
        files[outcome].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    manifest_key = f"{folder}manifest.json"
    client.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def install() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3

    setattr(resource_eval_s3.ResourceEvalS3, "_handle_list_objects_v2", staticmethod(_list_objects_v2))  # noqa: B010
