"""`buckets` in fleet.yaml: S3 buckets with objects, so a Distributed Map in the fleet has something to read.

The loader's errors name file, line and key; a sandbox started on definitions with a bucket and a state
machine whose Distributed Map (with an ItemBatcher, which moto's own grammar refuses) reads a CSV from it
seeds both and runs it to the end.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from console.errors import InputError
from console.sandbox.fleet.definitions import default_definitions_dir, load_fleet
from console.sandbox_process import start_sandbox_process
from tests.conftest import SPEED, make_client
from tests.sandbox.test_stepfunctions_support import BUNDLED, start, wait_status

BUCKETS = """
buckets:
  - name: shipment-data
    objects:
      - {key: shipments/today.csv, file: data/today.csv}
      - key: notes.txt
        body: "kept as written"
"""

MACHINE = """
  - name: shipment-check
    definition: state-machines/shipment-check.asl.yaml
"""

ASL = """Comment: Check today's shipments, two rows per child execution.
StartAt: Rows
States:
  Rows:
    Type: Map
    ItemReader:
      Resource: arn:aws:states:::s3:getObject
      ReaderConfig: {InputType: CSV, CSVHeaderLocation: FIRST_ROW}
      Parameters: {Bucket: shipment-data, Key: shipments/today.csv}
    ItemBatcher: {MaxItemsPerBatch: 2}
    ToleratedFailurePercentage: 10
    ItemProcessor:
      ProcessorConfig: {Mode: DISTRIBUTED, ExecutionType: EXPRESS}
      StartAt: Count
      States:
        Count:
          Type: Pass
          Parameters: {rows.$: States.ArrayLength($.Items)}
          End: true
    End: true
"""


def definitions_with_buckets(
    tmp_path: Path, buckets: str = BUCKETS, csv: str | None = "id,item\n1,a\n2,b\n3,c\n"
) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(default_definitions_dir(), directory)
    fleet = directory / "fleet.yaml"
    text = fleet.read_text()
    text = text.replace("queues: [deploy-approvals]\n", "queues: [deploy-approvals]\n" + buckets, 1)
    text = text.replace("state_machines:\n", "state_machines:\n" + MACHINE, 1)
    fleet.write_text(text)
    (directory / "state-machines" / "shipment-check.asl.yaml").write_text(ASL)
    if csv is not None:
        (directory / "data").mkdir()
        (directory / "data" / "today.csv").write_text(csv)
    return directory


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_loader_reads_buckets_and_their_objects(tmp_path: Path) -> None:
    fleet = load_fleet(definitions_with_buckets(tmp_path))
    (bucket,) = fleet.buckets
    assert (bucket.name, bucket.region) == ("shipment-data", "us-east-1")
    assert [(o.key, o.body) for o in bucket.objects] == [
        ("shipments/today.csv", b"id,item\n1,a\n2,b\n3,c\n"),
        ("notes.txt", b"kept as written"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "line_text", "key", "problem"),
    [
        ("name: shipment-data", "name: Shipment_Data", "Shipment_Data", "buckets[0].name", "a bucket name is 3-63"),
        (
            "file: data/today.csv",
            "file: data/missing.csv",
            "missing.csv",
            "buckets[0].objects[0].file",
            "cannot read 'data/missing.csv'",
        ),
        ("file: data/today.csv", "file: ../../x.csv", "x.csv", "buckets[0].objects[0].file", "outside the definitions"),
        ("file: data/today.csv}", "file: data/today.csv, body: x}", "body: x", "buckets[0].objects[0]", "exactly one"),
        ("    objects:", "    region: eu-west-3\n    objects:", "eu-west-3", "buckets[0].region", "not one of regions"),
        ("    objects:", "    acl: private\n    objects:", "acl: private", "buckets[0].acl", "unknown key"),
        ("key: notes.txt", "key: shipments/today.csv", "- key: shipments", "buckets[0].objects[1].key", "listed twice"),
    ],
)
def test_a_bad_bucket_is_named_with_file_line_and_key(
    tmp_path: Path, old: str, new: str, line_text: str, key: str, problem: str
) -> None:
    directory = definitions_with_buckets(tmp_path, BUCKETS.replace(old, new, 1))
    with pytest.raises(InputError) as raised:
        load_fleet(directory)
    error = raised.value
    line = line_of(directory / "fleet.yaml", line_text)
    assert str(error).startswith(f"definitions/fleet.yaml:{line}: {key}: "), str(error)
    assert problem in error.problem


def test_the_sandbox_seeds_the_buckets_and_a_distributed_map_reads_them(tmp_path: Path) -> None:
    directory = definitions_with_buckets(tmp_path, csv="id,item\n" + "".join(f"{i},item{i}\n" for i in range(1, 6)))
    with start_sandbox_process(speed=SPEED, definitions=directory, traffic=False, warm_up=False) as sandbox:
        s3 = make_client(sandbox.url, "s3")
        sfn = make_client(sandbox.url, "stepfunctions")
        assert s3.get_object(Bucket="shipment-data", Key="notes.txt")["Body"].read() == b"kept as written"
        finished = wait_status(sfn, start(sfn, BUNDLED + "shipment-check"))
        assert finished["status"] == "SUCCEEDED", finished
        assert json.loads(finished["output"]) == [{"rows": 2}, {"rows": 2}, {"rows": 1}]
