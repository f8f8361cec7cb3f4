"""Creates the fleet of the definitions in the running sandbox, through its own HTTP API.

Seeding goes through the endpoint like any client would, so what a console later reads is exactly what
moto (and the engine plugged into it) made of these requests.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.config import Config

from console.definitions import ActionDef, Fleet, PipelineDef, StateMachineDef
from console.sandbox.codepipeline_engine import PipelineEngine
from console.sandbox.server_constants import ACCOUNT_ID, PIPELINE_ROLE, SFN_ROLE

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        for service in ("codepipeline.amazonaws.com", "states.amazonaws.com")
    ],
}


def client(url: str, service: str, region: str) -> Any:
    """A boto3 client for the sandbox itself (any credentials do)."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )


def state_machine_arn(region: str, name: str) -> str:
    return f"arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{name}"


def queue_url(url: str, name: str) -> str:
    return f"{url}/{ACCOUNT_ID}/{name}"


def seed_fleet(url: str, fleet: Fleet, engine: PipelineEngine, seed: int = 0) -> None:
    """Create roles, queues, state machines and pipelines of `fleet` in the sandbox at `url`."""
    iam = client(url, "iam", fleet.regions[0])
    for role in (PIPELINE_ROLE, SFN_ROLE):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(_TRUST))
    for region in fleet.regions:
        sqs = client(url, "sqs", region)
        for queue in fleet.queues:
            sqs.create_queue(QueueName=queue)
    for machine in fleet.state_machines:
        _create_state_machine(url, machine)
    for pipeline in fleet.pipelines:
        _create_pipeline(url, pipeline, fleet)


def _create_state_machine(url: str, machine: StateMachineDef) -> None:
    sfn = client(url, "stepfunctions", machine.region)
    sfn.create_state_machine(
        name=machine.name,
        definition=json.dumps(machine.definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}",
        type=machine.type,
    )


def pipeline_structure(pipeline: PipelineDef, fleet: Fleet) -> dict[str, Any]:
    """The CreatePipeline document of a pipeline definition."""
    stages = []
    artifact = "SourceOutput"
    for index, stage in enumerate(pipeline.stages):
        actions = [_action_structure(action, index, artifact, pipeline, fleet) for action in stage.actions]
        stages.append({"name": stage.name, "actions": actions})
    return {
        "name": pipeline.name,
        "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{PIPELINE_ROLE}",
        "artifactStore": {"type": "S3", "location": f"wavedeck-artifacts-{pipeline.region}"},
        "stages": stages,
        "version": 1,
        "executionMode": pipeline.execution_mode,
        "pipelineType": "V2",
    }


def _action_structure(
    action: ActionDef, stage_index: int, artifact: str, pipeline: PipelineDef, fleet: Fleet
) -> dict[str, Any]:
    configuration = dict(action.configuration)
    if action.category == "Source":
        configuration.setdefault("FullRepositoryId", pipeline.repository)
        configuration.setdefault("BranchName", "main")
        configuration.setdefault(
            "ConnectionArn", f"arn:aws:codeconnections:{pipeline.region}:{ACCOUNT_ID}:connection/sandbox"
        )
    if action.provider == "StepFunctions" and action.state_machine:
        machine = fleet.state_machine(action.state_machine)
        region = machine.region if machine else pipeline.region
        configuration.setdefault("StateMachineArn", state_machine_arn(region, action.state_machine))
        configuration.setdefault("InputType", "Literal")
        if action.input:
            configuration.setdefault("Input", action.input)
    if action.category == "Approval":
        if action.custom_data:
            configuration.setdefault("CustomData", action.custom_data)
        if action.url:
            configuration.setdefault("ExternalEntityLink", action.url)
    structure: dict[str, Any] = {
        "name": action.name,
        "actionTypeId": {
            "category": action.category,
            "owner": action.owner,
            "provider": action.provider,
            "version": "1",
        },
        "runOrder": action.run_order,
        "configuration": configuration,
    }
    if action.category == "Source":
        structure["outputArtifacts"] = [{"name": artifact}]
    elif action.category not in ("Approval",):
        structure["inputArtifacts"] = [{"name": artifact}]
    return structure


def _create_pipeline(url: str, pipeline: PipelineDef, fleet: Fleet) -> None:
    cp = client(url, "codepipeline", pipeline.region)
    cp.create_pipeline(pipeline=pipeline_structure(pipeline, fleet))
