"""Creates the fleet of the definitions in the running sandbox, through its own HTTP API.

Seeding goes through the endpoint like any client would, so what a console later reads is exactly what
moto (and the engine plugged into it) made of these requests. Before anything is created, every ASL
definition goes through moto's own parser (`check_definitions`), so a definition moto would refuse stops
the sandbox with the file, line and key rather than a 400 halfway through seeding.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from console.errors import InputError
from console.sandbox.codepipeline.engine import PipelineEngine
from console.sandbox.fleet.definitions import DEFAULT_APPROVAL_TIMEOUT, ActionDef, Fleet, PipelineDef, StateMachineDef
from console.sandbox.server_constants import (
    ACCOUNT_ID,
    EVENT_SOURCES,
    EVENTS_QUEUE,
    EVENTS_RETENTION_SECONDS,
    EVENTS_RULE,
    EVENTS_TOPIC,
    PIPELINE_ROLE,
    SFN_ROLE,
)

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        for service in ("codepipeline.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com")
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


def events_queue_arn(region: str) -> str:
    return f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{EVENTS_QUEUE}"


def connection_arn(region: str) -> str:
    """The CodeConnections connection every sandbox Source action reads its repository through."""
    return f"arn:aws:codeconnections:{region}:{ACCOUNT_ID}:connection/wavedeck-sandbox"


# --- Checks before anything is created -------------------------------------------------------------------


def check_definitions(fleet: Fleet) -> None:
    """Refuse, with file, line and key, what the definitions loader lets through but moto would not take."""
    from console.sandbox.stepfunctions import map_definitions

    # What moto's grammar lacks for a Distributed Map (ItemBatcher, EXPRESS children) AWS accepts.
    map_definitions.install()
    _check_regions(fleet)
    _check_conditions(fleet)
    _check_functions(fleet)
    checked: dict[str, None] = {}  # a generated fleet reuses a few definitions many times: parse each once
    from console.sandbox.stepfunctions.asl_checks import parseable

    for machine in fleet.state_machines:
        # What moto's grammar lacks (ItemBatcher, EXPRESS child executions…) is AWS's ASL all the same.
        text, paths = json_with_paths(parseable(dict(machine.definition)))
        if text in checked:
            continue
        _parse_with_moto(machine, text, paths)
        checked[text] = None


def _check_functions(fleet: Fleet) -> None:
    """A function's JSONata expression must parse (the loader does not import the sandbox's JSONata)."""
    import jsonata

    for index, function in enumerate(fleet.functions):
        if function.expression is None:
            continue
        try:
            jsonata.Jsonata(function.expression)
        except Exception as exc:  # noqa: BLE001 - jsonata-python raises its own JException and plain errors
            key = f"functions[{index}].expression"
            raise InputError(fleet.file, function.line, key, f"not a JSONata expression: {exc}") from None


def _declare_functions(fleet: Fleet, seed: int) -> None:
    """Hand the declared functions to the Step Functions interpreter (it runs in this process)."""
    from console.sandbox.stepfunctions.lambdas import FUNCTIONS, SimulatedFunction

    FUNCTIONS.declare(
        (
            SimulatedFunction(
                name=f.name,
                region=f.region,
                result=f.result,
                expression=f.expression,
                duration=f.duration,
                fail=f.fail,
                error=f.error,
                message=f.message,
            )
            for f in fleet.functions
        ),
        seed=seed,
    )


def _check_conditions(fleet: Fleet) -> None:
    """Stage conditions in AWS's shape, refused with the file and line of their key as CreatePipeline would."""
    from console.sandbox.codepipeline.condition_shapes import ConditionDeclarationError, check_stage

    for stage in {id(s): s for p in fleet.pipelines for s in p.stages}.values():
        if not stage.conditions:
            continue
        for key, declared in stage.conditions.items():
            try:
                check_stage({"name": stage.name, key: declared})
            except ConditionDeclarationError as exc:
                raise InputError(stage.file, stage.condition_lines.get(key, stage.line), key, str(exc)) from None


def condition_alarms(pipeline: PipelineDef) -> set[tuple[str, str]]:
    """(region, alarm name) of every CloudWatchAlarm rule of a pipeline: the sandbox creates them, quiet."""
    found: set[tuple[str, str]] = set()
    for stage in pipeline.stages:
        for declared in stage.conditions.values():
            for condition in declared.get("conditions") or []:
                for rule in condition.get("rules") or []:
                    if (rule.get("ruleTypeId") or {}).get("provider") != "CloudWatchAlarm":
                        continue
                    region = rule.get("region") or pipeline.region
                    for name in str((rule.get("configuration") or {}).get("AlarmName", "")).split(","):
                        if name.strip():
                            found.add((region, name.strip()))
    return found


def _create_alarms(url: str, fleet: Fleet) -> None:
    alarms = {alarm for pipeline in fleet.pipelines for alarm in condition_alarms(pipeline)}
    for region, name in sorted(alarms):
        client(url, "cloudwatch", region).put_metric_alarm(
            AlarmName=name,
            AlarmDescription="Watched by a stage condition of the sandbox fleet",
            Namespace="Wavedeck/Sandbox",
            MetricName=name,
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        client(url, "cloudwatch", region).set_alarm_state(
            AlarmName=name, StateValue="OK", StateReason="Created quiet by the sandbox"
        )


def _check_regions(fleet: Fleet) -> None:
    from moto.codepipeline.models import codepipeline_backends
    from moto.stepfunctions.models import stepfunctions_backends

    known = set(codepipeline_backends[ACCOUNT_ID].regions) & set(stepfunctions_backends[ACCOUNT_ID].regions)
    for index, region in enumerate(fleet.regions):
        if region not in known:
            key = f"regions[{index}]"
            raise InputError(
                fleet.file, fleet.lines.get(key), key, f"'{region}' is not a region where CodePipeline runs"
            )


def _parse_with_moto(machine: StateMachineDef, text: str, paths: list[str]) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    noise = io.StringIO()  # ANTLR prints its own complaints; the operator gets one message, ours
    try:
        with contextlib.redirect_stderr(noise), contextlib.redirect_stdout(noise):
            AmazonStateLanguageParser.parse(text)
    except ASLParserException as exc:
        first = exc.errors[0] if exc.errors else "no detail"
        match = re.match(r"line (\d+):(\d+),?\s*(.*)", first, re.S)
        path = paths[int(match.group(1)) - 1] if match and 0 < int(match.group(1)) <= len(paths) else ""
        detail = match.group(3) if match else first
        raise _definition_error(machine, path, f"moto's ASL parser refuses it: {_tidy(detail)}") from None
    except Exception as exc:  # noqa: BLE001 - the parser's preprocessor raises plain ValueError/TypeError
        path, detail = _find_intrinsic_error(machine.definition)
        if not path:
            detail = f"{type(exc).__name__}: {exc}"
        raise _definition_error(machine, path, f"moto's ASL parser refuses it: {_tidy(detail)}") from None


def _definition_error(machine: StateMachineDef, path: str, problem: str) -> InputError:
    line = machine.definition_lines.get(path) if path else None
    return InputError(machine.source, line, path or None, problem)


def _find_intrinsic_error(definition: Any, path: str = "") -> tuple[str, str]:
    """The first intrinsic function (`States.MathRandom(...)`) that moto's parser refuses, and why."""
    from moto.stepfunctions.parser.asl.parse.intrinsic.intrinsic_parser import IntrinsicParser

    if isinstance(definition, dict):
        for key, value in definition.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and key.endswith(".$") and isinstance(value, str) and value.startswith("States."):
                noise = io.StringIO()
                try:
                    with contextlib.redirect_stderr(noise), contextlib.redirect_stdout(noise):
                        IntrinsicParser.parse(value)
                except Exception as exc:  # noqa: BLE001 - see above
                    said = noise.getvalue().strip().splitlines()
                    return child, f"{value}: {said[0] if said else exc}"
            found = _find_intrinsic_error(value, child)
            if found[0]:
                return found
    elif isinstance(definition, list):
        for index, item in enumerate(definition):
            found = _find_intrinsic_error(item, f"{path}[{index}]")
            if found[0]:
                return found
    return "", ""


def _tidy(text: str) -> str:
    """moto's messages quote its own classes (`<class '...MathRandom'>`); keep the last name only."""
    text = re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"\1", text)
    text = re.sub(r",? but got: '\(ArgumentList.*$", "", text, flags=re.S)  # the parser's own objects
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= 300 else text[:297] + "..."


def json_with_paths(value: Any) -> tuple[str, list[str]]:
    """JSON text with one key or item per line, and the dotted path of what each line holds.

    A parser that reports `line 6:17` then points, through the path, at the YAML line it came from.
    """
    lines: list[str] = []
    paths: list[str] = []

    def render(node: Any, path: str, depth: int, head: str, tail: str) -> None:
        pad = "  " * depth
        if isinstance(node, dict) and node:
            lines.append(head + "{")
            paths.append(path)
            last = len(node) - 1
            for index, (key, item) in enumerate(node.items()):
                child = f"{path}.{key}" if path else str(key)
                render(item, child, depth + 1, f"{pad}  {json.dumps(str(key))}: ", "," if index < last else "")
            lines.append(pad + "}" + tail)
            paths.append(path)
        elif isinstance(node, list) and node:
            lines.append(head + "[")
            paths.append(path)
            last = len(node) - 1
            for index, item in enumerate(node):
                render(item, f"{path}[{index}]", depth + 1, pad + "  ", "," if index < last else "")
            lines.append(pad + "]" + tail)
            paths.append(path)
        else:
            lines.append(head + json.dumps(node) + tail)
            paths.append(path)

    render(value, "", 0, "", "")
    return "\n".join(lines), paths


# --- Seeding ---------------------------------------------------------------------------------------------


def seed_fleet(
    url: str,
    fleet: Fleet,
    engine: PipelineEngine,
    seed: int = 0,
    *,
    check: bool = True,
    abort: threading.Event | None = None,
) -> None:
    """Create roles, queues, topics, functions, buckets, state machines, pipelines and the events rule of `fleet`.

    `check=False` when `check_definitions(fleet)` already ran (the server runs it before it takes the port).
    """
    if check:
        check_definitions(fleet)
    iam = client(url, "iam", fleet.regions[0])
    for role in (PIPELINE_ROLE, SFN_ROLE):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(_TRUST))
    for path, role in declared_roles(fleet):
        iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=json.dumps(_TRUST))
    for region in fleet.regions:
        sqs = client(url, "sqs", region)
        for queue in fleet.queues:
            if queue != EVENTS_QUEUE:
                sqs.create_queue(QueueName=queue)
        sns = client(url, "sns", region)
        for topic in fleet.topics:
            sns.create_topic(Name=topic)
    _declare_functions(fleet, seed)
    _create_buckets(url, fleet)
    for machine in fleet.state_machines:
        _create_state_machine(url, machine)
    _create_alarms(url, fleet)
    clients = {region: client(url, "codepipeline", region) for region in fleet.regions}
    for index, pipeline in enumerate(fleet.pipelines):
        if abort is not None and abort.is_set():
            return  # the caller sees the abort and stops; no need to create the rest
        cp = clients[pipeline.region]
        where = f"pipelines[{index}]" if pipeline.declaration is None else pipeline.name
        try:
            tags = [{"key": key, "value": value} for key, value in pipeline.tags]
            cp.create_pipeline(pipeline=pipeline_structure(pipeline, fleet), **({"tags": tags} if tags else {}))
            for stage, reason in pipeline.disabled_transitions:
                cp.disable_stage_transition(
                    pipelineName=pipeline.name, stageName=stage, transitionType="Inbound", reason=reason
                )
        except ClientError as exc:
            raise InputError(pipeline.file, pipeline.line, where, _refused(exc)) from None
        engine.set_behaviour(pipeline.region, pipeline)


def _create_buckets(url: str, fleet: Fleet) -> None:
    """The buckets of fleet.yaml with their objects, for the ItemReader of a Distributed Map."""
    for bucket in fleet.buckets:
        s3 = client(url, "s3", bucket.region)
        arguments: dict[str, Any] = {"Bucket": bucket.name}
        if bucket.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": bucket.region}
        s3.create_bucket(**arguments)
        for found in bucket.objects:
            s3.put_object(Bucket=bucket.name, Key=found.key, Body=found.body)


def create_events_rules(url: str, fleet: Fleet) -> None:
    """In each region, the rule, queue and queue policy the README shows for a real account, for push mode.

    Created once the warm-up is over: the history it plays is there to be read, not pushed, and moto would
    match every warm-up event against the rule and queue it (thousands, for a large fleet).
    """
    for region in fleet.regions:
        _create_events_rule(url, region)


def _create_events_rule(url: str, region: str) -> None:
    sqs = client(url, "sqs", region)
    events = client(url, "events", region)
    sns = client(url, "sns", region)
    queue = sqs.create_queue(
        QueueName=EVENTS_QUEUE, Attributes={"MessageRetentionPeriod": str(EVENTS_RETENTION_SECONDS)}
    )["QueueUrl"]
    topic = sns.create_topic(Name=EVENTS_TOPIC)["TopicArn"]
    rule_arn = events.put_rule(
        Name=EVENTS_RULE,
        EventPattern=json.dumps({"source": list(EVENT_SOURCES)}),
        State="ENABLED",
        Description="State changes of pipelines and state machines for the wavedeck console",
    )["RuleArn"]
    queue_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "wavedeck-console-events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": events_queue_arn(region),
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(queue_policy)})
    topic_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "wavedeck-console-events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(topic_policy))
    events.put_targets(
        Rule=EVENTS_RULE,
        Targets=[{"Id": EVENTS_QUEUE, "Arn": events_queue_arn(region)}, {"Id": f"{EVENTS_TOPIC}-topic", "Arn": topic}],
    )


def _create_state_machine(url: str, machine: StateMachineDef) -> None:
    sfn = client(url, "stepfunctions", machine.region)
    try:
        sfn.create_state_machine(
            name=machine.name,
            definition=json.dumps(machine.definition, indent=2),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}",
            type=machine.type,
        )
    except ClientError as exc:
        raise InputError(machine.source, None, None, _refused(exc)) from None


def _refused(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"the sandbox refused it: {error.get('Code', 'error')}: {_tidy(str(error.get('Message', exc)))}"


def declared_roles(fleet: Fleet) -> list[tuple[str, str]]:
    """(path, name) of the roles pipelines in AWS's shape name, created so CreatePipeline can assume them."""
    roles: list[tuple[str, str]] = []
    for pipeline in fleet.pipelines:
        if pipeline.declaration is not None:
            path, _, name = str(pipeline.declaration["roleArn"]).split(":role", 1)[-1].rpartition("/")
            role = (path + "/", name)
            if role not in (("/", PIPELINE_ROLE), ("/", SFN_ROLE), *roles):
                roles.append(role)
    return roles


def pipeline_structure(pipeline: PipelineDef, fleet: Fleet) -> dict[str, Any]:
    """The CreatePipeline document of a pipeline definition: a declaration in AWS's shape is sent as it is."""
    if pipeline.declaration is not None:
        return dict(pipeline.declaration)
    sources = pipeline.source_actions
    artifacts = {a.name: ("SourceOutput" if i == 0 else f"{a.name}Output") for i, a in enumerate(sources)}
    stages: list[dict[str, Any]] = []
    for stage in pipeline.stages:
        actions = [_action_structure(action, artifacts, pipeline, fleet) for action in stage.actions]
        stages.append({"name": stage.name, "actions": actions, **stage.conditions})
    namespaces: set[str] = set()
    every: list[dict[str, Any]] = [a for s in stages for a in s["actions"]]
    for action in every:
        # Namespaces are unique in a pipeline: a second Source action keeps the default only if it is free.
        if action.get("namespace") in namespaces:
            del action["namespace"]
        namespaces.add(action.get("namespace", ""))
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
    action: ActionDef, artifacts: dict[str, str], pipeline: PipelineDef, fleet: Fleet
) -> dict[str, Any]:
    configuration = dict(action.configuration)
    if action.category == "Source":
        configuration.setdefault("FullRepositoryId", pipeline.repository)
        configuration.setdefault("BranchName", "main")
        configuration.setdefault("ConnectionArn", connection_arn(pipeline.region))
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
    if action.category == "Approval" and action.timeout != DEFAULT_APPROVAL_TIMEOUT:
        # What AWS shows a console: the approval's own timeout (5 minutes to 60 days), in whole minutes.
        structure["timeoutInMinutes"] = min(86400, max(5, round(action.timeout / 60)))
    if action.namespace:
        structure["namespace"] = action.namespace
    if action.category == "Source":
        structure["outputArtifacts"] = [{"name": artifacts[action.name]}]
    elif action.category != "Approval":
        structure["inputArtifacts"] = [{"name": name} for name in artifacts.values()]
    return structure
