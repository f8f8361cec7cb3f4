"""Pipelines written as AWS declares them are definitions input, and run in the sandbox as declared.

`aws_declarations/definitions/` holds nine declarations written after AWS's documented examples: get-pipeline
output (the user guide's pipeline structure reference), create-pipeline --cli-input-json and -yaml input (a V2
pipeline with variables and triggers, a manual approval with `timeoutInMinutes`), CloudFormation (the user
guide's walkthrough with parameters and DisableInboundStageTransitions, a Step Functions invoke action, a CDK
synthesised cross-region pipeline, bare Properties with a Commands action), a bare PipelineDeclaration with
an ECR source, and one inline in fleet.yaml. They are loaded, run in a sandbox of their own, read back with
raw HTTP and checked against botocore's shapes, and created once more with boto3 against the session sandbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from console.errors import InputError
from console.sandbox.fleet.declarations import SANDBOX_ACCOUNT, SHAPES
from console.sandbox.fleet.definitions import Fleet, load_fleet
from console.sandbox.seed import condition_alarms
from console.sandbox.server_constants import ACCOUNT_ID, SFN_ROLE
from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until
from tests.sandbox.test_codepipeline_shapes import read_everything
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    TERMINAL,
    action_runs,
    created,
    delete_created_pipelines,
    execution,
)
from tests.shapes import assert_output

DEFINITIONS = Path(__file__).parent / "aws_declarations" / "definitions"


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load_fleet(DEFINITIONS)


@pytest.fixture(scope="module")
def declared_sandbox() -> Iterator[SandboxProcess]:
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=DEFINITIONS) as process:
        yield process


# --- the key table ------------------------------------------------------------------------------------


def test_the_key_table_is_botocores_pipeline_declaration() -> None:
    """declarations.py checks keys without botocore (the fleet loader imports none): same tree, same rules."""
    model = botocore.session.get_session().get_service_model("codepipeline")
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        shape = model.shape_for(name)
        assert name in SHAPES, f"botocore's {name} is not in console.sandbox.fleet.declarations.SHAPES"
        assert set(SHAPES[name]) == set(shape.members), f"{name}: members differ from botocore's"
        for member_name, member in shape.members.items():
            ours = SHAPES[name][member_name]
            assert ours.required == (member_name in shape.required_members), f"{name}.{member_name}: required"
            kind = member.type_name
            if kind == "structure":
                assert (ours.kind, ours.shape) == ("struct", member.name), f"{name}.{member_name}"
                walk(member.name)
            elif kind == "list" and member.member.type_name == "structure":
                assert (ours.kind, ours.shape) == ("list", member.member.name), f"{name}.{member_name}"
                walk(member.member.name)
            elif kind == "list":
                assert ours.kind == "strings", f"{name}.{member_name}"
                assert ours.enum == tuple(getattr(member.member, "enum", []) or ()), f"{name}.{member_name} enum"
            elif kind == "map" and member.value.type_name == "structure":
                assert (ours.kind, ours.shape) == ("stores", member.value.name), f"{name}.{member_name}"
                walk(member.value.name)
            elif kind == "map":
                assert ours.kind == "map", f"{name}.{member_name}"
            else:
                assert ours.kind == kind, f"{name}.{member_name}: {ours.kind} != {kind}"
                assert ours.enum == tuple(getattr(member, "enum", []) or ()), f"{name}.{member_name} enum"
                assert ours.low == member.metadata.get("min"), f"{name}.{member_name} min"
                assert ours.high == member.metadata.get("max"), f"{name}.{member_name} max"
                assert ours.pattern == member.metadata.get("pattern"), f"{name}.{member_name} pattern"

    walk("PipelineDeclaration")
    assert seen == set(SHAPES), f"SHAPES has structures botocore does not: {set(SHAPES) - seen}"
    assert SANDBOX_ACCOUNT == ACCOUNT_ID  # declarations are made in the account the sandbox plays


# --- loading --------------------------------------------------------------------------------------------


def test_every_form_loads_with_waves_from_match_and_behaviour_from_declared(fleet: Fleet) -> None:
    by_name = {p.name: p for p in fleet.pipelines}
    assert set(by_name) == {
        "inline-declaration",
        "MyFirstPipeline",
        "orders-api",
        "payments-gamma-approval",
        "04-cloudformation-basic-app",
        "notifications-sfn",
        "edge-router-cross-region",
        "edge-gateway",
        "image-promoter",
    }
    # Regions: metadata.pipelineArn, `declared.pipelines`, or the first region.
    assert by_name["MyFirstPipeline"].region == "us-east-1"
    assert by_name["edge-gateway"].region == "us-west-2"
    assert by_name["edge-router-cross-region"].commit_interval == 600.0
    # Waves from waves.yaml's match patterns; Source has none.
    waves = {(p.name, s.name): s.wave for p in fleet.pipelines for s in p.stages}
    assert waves[("MyFirstPipeline", "Beta")] == "beta"
    assert waves[("payments-gamma-approval", "Prod-Canary")] == "prod-canary"
    assert waves[("edge-router-cross-region", "Prod-AZ1")] == "prod-az1"
    assert waves[("edge-gateway", "Gamma")] == "gamma"
    assert waves[("MyFirstPipeline", "Source")] is None
    assert fleet.wave_model().for_stage("edge-gateway", "Gamma").name == "gamma"  # type: ignore[union-attr]
    # Behaviour: per category defaults, then the `declared.actions` rules in order.
    orders = by_name["orders-api"]
    assert [(a.name, a.duration, a.fail) for s in orders.stages for a in s.actions] == [
        ("Source", 1.0, 0.0),
        ("Build", 3.0, 0.0),
        ("IntegrationTests", 2.0, 1.0),
    ]
    assert orders.stages[2].actions[0].error == "IntegrationTests: 2 of 40 failed"
    assert orders.stages[1].actions[0].variables == {"IMAGE_TAG": "v-#{SourceVariables.CommitId}"}
    approval = by_name["payments-gamma-approval"].stages[1].actions[0]
    assert (approval.category, approval.timeout) == ("Approval", 300.0)
    assert by_name["MyFirstPipeline"].repository == "MyDemoRepo"
    assert by_name["orders-api"].tags == (("team", "orders"),)
    gamma = by_name["edge-gateway"].stages[1]
    assert gamma.conditions["beforeEntry"]["conditions"][0]["rules"][0]["configuration"] == {
        "AlarmName": "edge-gateway-5xx"
    }


def test_cloudformation_is_resolved_and_spelled_as_the_api_spells_it(fleet: Fleet) -> None:
    basic = fleet.pipeline("04-cloudformation-basic-app")
    assert basic is not None
    assert basic.declaration is not None
    declaration = basic.declaration
    assert declaration["roleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/CodePipelineServiceRole"
    assert declaration["artifactStore"] == {"type": "S3", "location": "codepipelineartifactstorebucket"}
    source = declaration["stages"][0]["actions"][0]
    assert source["actionTypeId"] == {"category": "Source", "owner": "AWS", "version": "1", "provider": "S3"}
    assert source["configuration"] == {
        "S3Bucket": "walkthrough-source",
        "S3ObjectKey": "SampleApp_Linux.zip",
        "PollForSourceChanges": "false",
    }
    assert declaration["stages"][2]["actions"][0]["configuration"]["DeploymentGroupName"] == "DemoFleet-release"
    assert set(declaration) == {"name", "roleArn", "artifactStore", "stages"}  # CloudFormation-only keys gone
    assert basic.disabled_transitions == (
        ("Release", "Disabling the transition until integration tests are completed"),
    )
    assert basic.tags == (("Project", "ProjectA"),)

    cross = fleet.pipeline("edge-router-cross-region")
    assert cross is not None
    assert cross.declaration is not None
    assert cross.declaration["artifactStores"] == {
        "us-east-1": {"location": "pipelineartifactsbucket22248f97", "type": "S3"},
        "us-west-2": {"location": "edge-router-replication-us-west-2", "type": "S3"},
    }
    assert cross.declaration["stages"][2]["actions"][0]["region"] == "us-west-2"
    sfn = fleet.pipeline("notifications-sfn")
    assert sfn is not None
    assert sfn.declaration is not None
    invoke = sfn.declaration["stages"][1]["actions"][0]["configuration"]
    assert invoke["StateMachineArn"] == f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:deploy-service"
    # get-pipeline output of another account: the sandbox is one account, so the role becomes its own.
    first = fleet.pipeline("MyFirstPipeline")
    assert first is not None
    assert first.declaration is not None
    assert first.declaration["roleArn"].startswith(f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/")


# --- running them --------------------------------------------------------------------------------------


def _start_all(url: str, fleet: Fleet) -> dict[str, tuple[Any, str]]:
    started = {}
    for pipeline in fleet.pipelines:
        cp = make_client(url, "codepipeline", pipeline.region)
        started[pipeline.name] = (cp, cp.start_pipeline_execution(name=pipeline.name)["pipelineExecutionId"])
    return started


def _status(cp: Any, name: str, execution_id: str) -> str:
    return str(execution(cp, name, execution_id)["status"])


def test_declared_pipelines_run_as_declared(declared_sandbox: SandboxProcess, fleet: Fleet) -> None:
    url = declared_sandbox.url
    sfn = make_client(url, "stepfunctions")
    began = time.monotonic()
    started = _start_all(url, fleet)

    def state(name: str) -> str:
        cp, execution_id = started[name]
        return _status(cp, name, execution_id)

    # The Release stage's inbound transition is disabled (CloudFormation's DisableInboundStageTransitions).
    basic_cp, _ = started["04-cloudformation-basic-app"]
    wait_until(
        lambda: any(
            s["stageName"] == "Release" and "inboundExecution" in s
            for s in basic_cp.get_pipeline_state(name="04-cloudformation-basic-app")["stageStates"]
        ),
        what="04-cloudformation-basic-app to wait at its disabled Release transition",
    )
    expected = {name: "Succeeded" for name in started if name != "04-cloudformation-basic-app"}
    expected["orders-api"] = "Failed"
    expected["payments-gamma-approval"] = "Failed"
    wait_until(
        lambda: {name: state(name) for name in expected} == expected or None,
        timeout=60,
        what=f"the declared pipelines to end as {expected}",
    )
    assert time.monotonic() - began >= 7.0  # the approval waited its 5 minutes (7.5 s at the test speed)

    def runs(name: str) -> dict[str, dict[str, Any]]:
        cp, execution_id = started[name]
        return {run["actionName"]: run for run in action_runs(cp, name, execution_id)}

    # The approval failed at its timeoutInMinutes, as AWS fails it.
    approval = runs("payments-gamma-approval")["ApproveProduction"]
    assert approval["output"]["executionResult"]["errorDetails"]["code"] == "ApprovalExpired"
    # The declared failure, and variables: pipeline-level, source, exported by CodeBuild (from `declared`).
    orders = runs("orders-api")
    assert orders["IntegrationTests"]["output"]["executionResult"]["errorDetails"]["message"] == (
        "IntegrationTests: 2 of 40 failed"
    )
    cp, orders_id = started["orders-api"]
    commit = execution(cp, "orders-api", orders_id)["artifactRevisions"][0]["revisionId"]
    assert orders["IntegrationTests"]["input"]["resolvedConfiguration"]["ProjectName"] == f"orders-api-integ-v-{commit}"
    environment = json.loads(orders["Build"]["input"]["resolvedConfiguration"]["EnvironmentVariables"])
    assert [v["value"] for v in environment] == ["beta", commit]
    assert execution(cp, "orders-api", orders_id)["variables"] == [{"name": "DeployEnv", "resolvedValue": "beta"}]
    # CodeCommit's output variables.
    first = runs("MyFirstPipeline")["Source"]["output"]["outputVariables"]
    assert set(first) == {"AuthorDate", "BranchName", "CommitId", "CommitMessage", "CommitterDate", "RepositoryName"}
    assert first["RepositoryName"] == "MyDemoRepo"
    # A Commands action exports what it declares; ECR's ImageURI reaches a Lambda's UserParameters.
    gateway = runs("edge-gateway")
    assert gateway["Smoke"]["output"]["outputVariables"] == {"VERDICT": "green"}
    deploy = gateway["Deploy"]["input"]["resolvedConfiguration"]
    assert (deploy["StackName"], json.loads(deploy["ParameterOverrides"])) == (
        "edge-gateway-gamma",
        {"Verdict": "green"},
    )
    image = runs("image-promoter")
    uri = image["Image"]["output"]["outputVariables"]["ImageURI"]
    assert uri.startswith(f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/image-promoter@sha256:")
    assert image["Notify"]["input"]["resolvedConfiguration"]["UserParameters"] == uri
    # The Step Functions action sent exactly its declared input, in the state machine's own region.
    invoke = runs("notifications-sfn")["Invoke"]
    described = sfn.describe_execution(executionArn=invoke["output"]["outputVariables"]["ExecutionArn"])
    cp, sfn_id = started["notifications-sfn"]
    revision = execution(cp, "notifications-sfn", sfn_id)["artifactRevisions"][0]["revisionId"]
    assert json.loads(described["input"]) == {"service": "notifications", "revision": revision, "wave": "prod-canary"}
    # The stage condition declared in CloudFormation's spelling ran: its alarm (created quiet) let it in.
    gateway_cp, gateway_id = started["edge-gateway"]
    rules = gateway_cp.list_rule_executions(pipelineName="edge-gateway", filter={"pipelineExecutionId": gateway_id})
    assert [(r["ruleName"], r["status"]) for r in rules["ruleExecutionDetails"]] == [("EdgeAlarmsQuiet", "Succeeded")]
    west = runs("edge-router-cross-region")["DeployWest"]
    assert west["input"]["region"] == "us-west-2"
    assert ":states:us-west-2:" in west["output"]["outputVariables"]["ExecutionArn"]
    # GetPipeline gives the declaration back as declared (moto adds version and empty defaults only).
    for pipeline in fleet.pipelines:
        cp = make_client(url, "codepipeline", pipeline.region)
        got = cp.get_pipeline(name=pipeline.name)["pipeline"]
        assert pipeline.declaration is not None
        assert got["roleArn"] == pipeline.declaration["roleArn"]
        assert [s["name"] for s in got["stages"]] == [s["name"] for s in pipeline.declaration["stages"]]
        for key in ("variables", "triggers", "artifactStores", "executionMode", "pipelineType"):
            assert got.get(key) == pipeline.declaration.get(key), f"{pipeline.name}: {key}"


def test_every_answer_about_declared_pipelines_fits_botocore(declared_sandbox: SandboxProcess, fleet: Fleet) -> None:
    started = _start_all(declared_sandbox.url, fleet)
    wait_until(
        lambda: all(_status(cp, name, eid) != "InProgress" for name, (cp, eid) in started.items()
                    if name not in ("payments-gamma-approval", "04-cloudformation-basic-app")),
        timeout=60,
        what="the declared pipelines to end",
    )  # fmt: skip
    for region in ("us-east-1", "us-west-2"):
        answers = read_everything(declared_sandbox.url, region)
        for operation, documents in answers.items():
            assert documents, f"no {operation} answer to check in {region}"
            for document in documents:
                assert_output("codepipeline", operation, document)


def test_the_same_declarations_created_with_boto3_run(aws: Any, fleet: Fleet) -> None:
    """What the definitions take is what CreatePipeline takes: each declaration, sent with boto3, runs."""
    iam, suffix = aws("iam"), uuid.uuid4().hex[:6]
    for region, name in (("us-east-1", "deploy-service"), ("us-west-2", "deploy-service-west")):
        machine = fleet.state_machine(name)
        assert machine is not None
        try:
            aws("stepfunctions", region).create_state_machine(
                name=name,
                definition=json.dumps(machine.definition),
                roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "StateMachineAlreadyExists":
                raise
    # The alarms stage conditions watch exist, quiet, as in the account the declarations came from.
    for region, alarm in sorted({a for pipeline in fleet.pipelines for a in condition_alarms(pipeline)}):
        cloudwatch = aws("cloudwatch", region)
        cloudwatch.put_metric_alarm(
            AlarmName=alarm,
            Namespace="Tests",
            MetricName=alarm,
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="quiet")
    started = {}
    for pipeline in fleet.pipelines:
        assert pipeline.declaration is not None
        path, _, role = pipeline.declaration["roleArn"].split(":role", 1)[1].rpartition("/")
        try:
            iam.create_role(RoleName=role, Path=path + "/", AssumeRolePolicyDocument=json.dumps(TRUST))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
        structure = {**pipeline.declaration, "name": f"{pipeline.name[:80]}-{suffix}"}
        cp = aws("codepipeline", pipeline.region)
        cp.create_pipeline(pipeline=structure)
        created(cp, structure["name"])
        started[structure["name"]] = (cp, cp.start_pipeline_execution(name=structure["name"])["pipelineExecutionId"])
    # No `declared` behaviour here: every action takes the sandbox's default and succeeds; the approval
    # still fails at its declared 5 minutes.
    wait_until(
        lambda: all(_status(cp, name, eid) in TERMINAL for name, (cp, eid) in started.items()),
        timeout=60,
        what="the pipelines created with boto3 to end",
    )
    outcomes = {name.rsplit("-", 1)[0]: _status(cp, name, eid) for name, (cp, eid) in started.items()}
    assert outcomes == {
        p.name[:80]: "Failed" if p.name == "payments-gamma-approval" else "Succeeded" for p in fleet.pipelines
    }


TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


# --- bad input ------------------------------------------------------------------------------------------


def _definitions(tmp_path: Path, fleet_yaml: str, pipelines: dict[str, str] | None = None) -> Path:
    directory = tmp_path / "definitions"
    (directory / "state-machines").mkdir(parents=True)
    shutil.copy(DEFINITIONS / "waves.yaml", directory / "waves.yaml")
    shutil.copy(
        DEFINITIONS / "state-machines" / "deploy-service.asl.yaml",
        directory / "state-machines" / "deploy-service.asl.yaml",
    )
    (directory / "fleet.yaml").write_text(fleet_yaml)
    if pipelines:
        (directory / "pipelines").mkdir()
        for name, text in pipelines.items():
            (directory / "pipelines" / name).write_text(text)
    return directory


_INLINE = """regions: [us-east-1]
pipelines:
  - name: inline
    roleArn: arn:aws:iam::123456789012:role/r
    artifactStor: {type: S3, location: bucket}
    stages: []
"""
_SOURCE = """{name: Source, actionTypeId: {category: Source, owner: AWS, provider: S3, version: "1"},
               outputArtifacts: [{name: Out}], configuration: {S3Bucket: b, S3ObjectKey: k}}"""
_API_YAML = f"""pipeline:
  name: p
  roleArn: arn:aws:iam::123456789012:role/r
  stages:
    - name: Source
      actions:
        - {_SOURCE}
    - name: Beta
      actions:
        - name: Deploy
          actionTypeId: {{category: Deployment, owner: AWS, provider: CodeDeploy, version: "1"}}
"""
_CFN_YAML = """Resources:
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/r
      Stages:
        - Name: Source
          Actions:
            - Name: Source
              ActionTypeId: {Category: Source, Owner: AWS, Provider: S3, Version: 1}
              Configuration:
                S3Bucket: !If [UseProd, prod-bucket, test-bucket]
        - Name: Beta
          actions: []
"""

BAD = {
    "an unknown key inline in fleet.yaml": (
        _INLINE,
        {},
        "definitions/fleet.yaml:5: pipelines[0].artifactStor: unknown key (did you mean 'artifactStore'?)",
    ),
    "a wrong enum in create-pipeline input": (
        "regions: [us-east-1]\n",
        {"p.yaml": _API_YAML},
        "definitions/pipelines/p.yaml:12: pipeline.stages[1].actions[0].actionTypeId.category: expected one of "
        "Source, Build, Deploy, Test, Invoke, Approval, Compute, got 'Deployment'",
    ),
    "a boolean where CodePipeline takes a string": (
        "regions: [us-east-1]\n",
        {"p.yaml": _API_YAML.replace("S3ObjectKey: k}", "S3ObjectKey: k, PollForSourceChanges: false}")},
        'pipeline.stages[0].actions[0].configuration.PollForSourceChanges: expected a string, got false (a boolean) '
        '(CodePipeline takes strings: write "false")',
    ),
    "a condition CloudFormation would need a stack for": (
        "regions: [us-east-1]\n",
        {"t.yaml": _CFN_YAML},
        "definitions/pipelines/t.yaml:12: Resources.Pipeline.Properties.Stages[0].Actions[0].Configuration.S3Bucket: "
        "CloudFormation's Fn::If cannot be resolved without a stack",
    ),
    "the API's spelling inside CloudFormation's": (
        "regions: [us-east-1]\n",
        {"t.yaml": _CFN_YAML.replace("!If [UseProd, prod-bucket, test-bucket]", "bucket")},
        "definitions/pipelines/t.yaml:14: Resources.Pipeline.Properties.Stages[1].actions: unknown key "
        "(did you mean 'Actions'?)",
    ),
    "a parameter without a default": (
        "regions: [us-east-1]\n",
        {"t.yaml": "Parameters: {Bucket: {Type: String}}\n" + _CFN_YAML.replace(
            "!If [UseProd, prod-bucket, test-bucket]", "!Ref Bucket")},
        "definitions/pipelines/t.yaml:13: Resources.Pipeline.Properties.Stages[0].Actions[0].Configuration.S3Bucket: "
        "Ref names parameter 'Bucket', which has no Default to take",
    ),
    "a state machine the fleet does not declare": (
        "regions: [us-east-1]\n",
        {"p.yaml": _API_YAML.replace("category: Deployment, owner: AWS, provider: CodeDeploy",
                                     "category: Invoke, owner: AWS, provider: StepFunctions")
         + "          configuration: {StateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:x'}\n"},
        "definitions/pipelines/p.yaml:13: pipeline.stages[1].actions[0].configuration.StateMachineArn: "
        "'arn:aws:states:us-east-1:111122223333:stateMachine:x' is not a state machine of the sandbox's account",
    ),
    "a region the fleet does not run": (
        "regions: [us-east-1]\n",
        {"p.yaml": _API_YAML.replace("Deployment", "Deploy")
         + "metadata: {pipelineArn: 'arn:aws:codepipeline:eu-west-1:123456789012:p'}\n"},
        "definitions/pipelines/p.yaml:2: pipeline.name: the pipeline's region eu-west-1 (from its pipelineArn) "
        "is not one of regions: us-east-1",
    ),
    "an unknown key in declared": (
        "regions: [us-east-1]\ndeclared:\n  actions:\n    - {provider: CodeBuild, durration: 3s}\n",
        {"p.yaml": _API_YAML.replace("Deployment", "Deploy")},
        "definitions/fleet.yaml:4: declared.actions[0].durration: unknown key (did you mean 'duration'?)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_declarations_stop_at_file_line_and_key(tmp_path: Path, case: str) -> None:
    fleet_yaml, pipelines, message = BAD[case]
    directory = _definitions(tmp_path, fleet_yaml, pipelines)
    with pytest.raises(InputError) as raised:
        load_fleet(directory)
    assert message in str(raised.value)


def test_the_sandbox_refuses_a_bad_declaration_with_exit_code_2(tmp_path: Path) -> None:
    directory = _definitions(tmp_path, *BAD["an unknown key inline in fleet.yaml"][:2])
    command = [sys.executable, "-m", "console", "sandbox", "--definitions", str(directory), "--port", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().endswith(BAD["an unknown key inline in fleet.yaml"][2])
