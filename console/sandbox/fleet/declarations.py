"""AWS's own pipeline declarations as definitions input, checked key by key against CodePipeline's model.

An operator who wants to rehearse on the sandbox has what AWS gives: `aws codepipeline get-pipeline` output,
a `create-pipeline --cli-input-json` file, or a CloudFormation template with an `AWS::CodePipeline::Pipeline`.
Each is read here into (1) the PipelineDeclaration that the sandbox creates exactly as declared, and (2) a
`PipelineDef` for the rest of the sandbox (behaviour, traffic), with each stage's wave from waves.yaml's
`match` patterns. What only the sandbox needs (durations, failure odds, errors, exported variables, the
region when nothing says it) is not in AWS's shape: it comes from defaults per category and provider,
overridden by fleet.yaml's `declared` section (`DeclaredSettings`).

The forms recognised, by their keys:

- `{"pipeline": {...}, "metadata": {...}}` (get-pipeline), `{"pipeline": {...}, "tags": [...]}` (cli-input-json);
- a bare PipelineDeclaration (`name`, `roleArn`, `stages`, ...);
- a CloudFormation template (`Resources` holding `AWS::CodePipeline::Pipeline` resources), one such resource
  (`Type` + `Properties`), or its `Properties` alone (PascalCase: `Stages`, `Actions`, `ActionTypeId`, ...).
  Intrinsic functions are resolved as CloudFormation would in the sandbox's account and region: `Ref`,
  `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`; parameters take their
  `Default`. Conditions (`Fn::If`) and imports are refused with the line they are on.

Every problem is an InputError `file:line: dotted.key: problem`, as for the project's own format.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.errors import InputError
from console.sandbox.server_constants import ACCOUNT_ID
from console.waves import WaveModel

SANDBOX_ACCOUNT = ACCOUNT_ID  # the account the sandbox plays: pipelines and state machines are declared in it


# --- CodePipeline's PipelineDeclaration, as botocore's model declares it ----------------------------------
# tests/sandbox/test_declarations.py compares this table with botocore's model, so a new member is noticed.


@dataclass(frozen=True)
class Member:
    kind: str  # string | integer | strings | map | struct | list | stores (a map of region to ArtifactStore)
    shape: str = ""  # struct, list, stores: the structure's name
    required: bool = False
    enum: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    pattern: str | None = None


_NAME = r"[A-Za-z0-9.@\-_]+"
_ROLE = r"arn:aws(-[\w]+)*:iam::[0-9]{12}:role/.*"
_TYPE_PART = r"[0-9A-Za-z_-]+"
_CONDITION_RESULTS = ("ROLLBACK", "FAIL", "RETRY", "SKIP")


def _str(
    required: bool = False,
    low: int | None = None,
    high: int | None = None,
    pattern: str | None = None,
    enum: tuple[str, ...] = (),
) -> Member:
    return Member("string", required=required, low=low, high=high, pattern=pattern, enum=enum)


SHAPES: dict[str, dict[str, Member]] = {
    "PipelineDeclaration": {
        "name": _str(True, 1, 100, _NAME),
        "roleArn": _str(True, None, 1024, _ROLE),
        "artifactStore": Member("struct", "ArtifactStore"),
        "artifactStores": Member("stores", "ArtifactStore"),
        "stages": Member("list", "StageDeclaration", required=True),
        "version": Member("integer", low=1),
        "executionMode": _str(enum=("QUEUED", "SUPERSEDED", "PARALLEL")),
        "pipelineType": _str(enum=("V1", "V2")),
        "variables": Member("list", "PipelineVariableDeclaration"),
        "triggers": Member("list", "PipelineTriggerDeclaration"),
    },
    "ArtifactStore": {
        "type": _str(True, enum=("S3",)),
        "location": _str(True, 3, 63, r"[a-zA-Z0-9\-\.]+"),
        "encryptionKey": Member("struct", "EncryptionKey"),
    },
    "EncryptionKey": {"id": _str(True, 1, 400), "type": _str(True, enum=("KMS",))},
    "StageDeclaration": {
        "name": _str(True, 1, 100, _NAME),
        "blockers": Member("list", "BlockerDeclaration"),
        "actions": Member("list", "ActionDeclaration", required=True),
        "onFailure": Member("struct", "FailureConditions"),
        "onSuccess": Member("struct", "SuccessConditions"),
        "beforeEntry": Member("struct", "BeforeEntryConditions"),
    },
    "BlockerDeclaration": {"name": _str(True, 1, 100), "type": _str(True, enum=("Schedule",))},
    "ActionDeclaration": {
        "name": _str(True, 1, 100, _NAME),
        "actionTypeId": Member("struct", "ActionTypeId", required=True),
        "runOrder": Member("integer", low=1, high=999),
        "configuration": Member("map"),
        "commands": Member("strings"),
        "outputArtifacts": Member("list", "OutputArtifact"),
        "inputArtifacts": Member("list", "InputArtifact"),
        "outputVariables": Member("strings"),
        "roleArn": _str(False, None, 1024, _ROLE),
        "region": _str(False, 4, 30),
        "namespace": _str(False, 1, 100, r"[A-Za-z0-9@\-_]+"),
        "timeoutInMinutes": Member("integer", low=5, high=86400),
        "environmentVariables": Member("list", "EnvironmentVariable"),
    },
    "ActionTypeId": {
        "category": _str(True, enum=("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute")),
        "owner": _str(True, enum=("AWS", "ThirdParty", "Custom")),
        "provider": _str(True, 1, 35, _TYPE_PART),
        "version": _str(True, 1, 9, _TYPE_PART),
    },
    "OutputArtifact": {"name": _str(True, 1, 100, r"[a-zA-Z0-9_\-]+"), "files": Member("strings")},
    "InputArtifact": {"name": _str(True, 1, 100, r"[a-zA-Z0-9_\-]+")},
    "EnvironmentVariable": {
        "name": _str(True, 1, 128, r"[A-Za-z0-9_]+"),
        "value": _str(True, 1, 2000, ".*"),
        "type": _str(enum=("PLAINTEXT", "SECRETS_MANAGER")),
    },
    "FailureConditions": {
        "result": _str(enum=_CONDITION_RESULTS),
        "retryConfiguration": Member("struct", "RetryConfiguration"),
        "conditions": Member("list", "Condition"),
    },
    "RetryConfiguration": {"retryMode": _str(enum=("FAILED_ACTIONS", "ALL_ACTIONS"))},
    "Condition": {"result": _str(enum=_CONDITION_RESULTS), "rules": Member("list", "RuleDeclaration")},
    "RuleDeclaration": {
        "name": _str(True, 1, 100, _NAME),
        "ruleTypeId": Member("struct", "RuleTypeId", required=True),
        "configuration": Member("map"),
        "commands": Member("strings"),
        "inputArtifacts": Member("list", "InputArtifact"),
        "roleArn": _str(False, None, 1024, _ROLE),
        "region": _str(False, 4, 30),
        "timeoutInMinutes": Member("integer", low=5, high=86400),
    },
    "RuleTypeId": {
        "category": _str(True, enum=("Rule",)),
        "owner": _str(enum=("AWS",)),
        "provider": _str(True, 1, 35, _TYPE_PART),
        "version": _str(False, 1, 9, _TYPE_PART),
    },
    "SuccessConditions": {"conditions": Member("list", "Condition", required=True)},
    "BeforeEntryConditions": {"conditions": Member("list", "Condition", required=True)},
    "PipelineVariableDeclaration": {
        "name": _str(True, 1, 128, r"[A-Za-z0-9@\-_]+"),
        "defaultValue": _str(False, 1, 1000, ".*"),
        "description": _str(False, 0, 200, ".*"),
    },
    "PipelineTriggerDeclaration": {
        "providerType": _str(True, enum=("CodeStarSourceConnection",)),
        "gitConfiguration": Member("struct", "GitConfiguration", required=True),
    },
    "GitConfiguration": {
        "sourceActionName": _str(True, 1, 100, _NAME),
        "push": Member("list", "GitPushFilter"),
        "pullRequest": Member("list", "GitPullRequestFilter"),
    },
    "GitPushFilter": {
        "tags": Member("struct", "GitTagFilterCriteria"),
        "branches": Member("struct", "GitBranchFilterCriteria"),
        "filePaths": Member("struct", "GitFilePathFilterCriteria"),
    },
    "GitTagFilterCriteria": {"includes": Member("strings"), "excludes": Member("strings")},
    "GitBranchFilterCriteria": {"includes": Member("strings"), "excludes": Member("strings")},
    "GitFilePathFilterCriteria": {"includes": Member("strings"), "excludes": Member("strings")},
    "GitPullRequestFilter": {
        "events": Member("strings", enum=("OPEN", "UPDATED", "CLOSED")),
        "branches": Member("struct", "GitBranchFilterCriteria"),
        "filePaths": Member("struct", "GitFilePathFilterCriteria"),
    },
}

# Keys of a CloudFormation `AWS::CodePipeline::Pipeline`'s Properties that CodePipeline's API does not have.
_CLOUDFORMATION_ONLY = ("Name", "ArtifactStores", "DisableInboundStageTransitions", "RestartExecutionOnUpdate", "Tags")
_GET_PIPELINE_KEYS = ("pipeline", "metadata", "tags")
_METADATA_KEYS = ("pipelineArn", "created", "updated", "pollingDisabledAt")
# Keys that say "this is AWS's shape", not the project's own pipeline format.
AWS_SHAPE_KEYS = frozenset(
    {"pipeline", "Resources", "Properties", "Stages", "RoleArn", "roleArn", "artifactStore", "artifactStores"}
)


# --- What only the sandbox needs ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionBehaviour:
    """One rule of `declared.actions`: which actions (shell-style patterns) and what to set for them."""

    pipeline: str = "*"
    stage: str = "*"
    action: str = "*"
    category: str = "*"
    provider: str = "*"
    values: Mapping[str, Any] = field(default_factory=dict)  # duration, fail, error, summary, variables

    def matches(self, pipeline: str, stage: str, action: str, category: str, provider: str) -> bool:
        pairs = (
            (self.pipeline, pipeline),
            (self.stage, stage),
            (self.action, action),
            (self.category, category),
            (self.provider, provider),
        )
        return all(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern, value in pairs)


@dataclass(frozen=True)
class PipelinePlacement:
    """One rule of `declared.pipelines`: where declared pipelines run and how often they receive commits."""

    pipeline: str = "*"
    region: str | None = None
    commit_interval: float | None = None


@dataclass(frozen=True)
class DeclaredSettings:
    """fleet.yaml's `declared` section: the sandbox's settings for pipelines written in AWS's shape."""

    pipelines: tuple[PipelinePlacement, ...] = ()
    actions: tuple[ActionBehaviour, ...] = ()


# Seconds an action of a category (and provider) takes when nothing says otherwise: about what AWS takes.
DEFAULT_DURATIONS: dict[tuple[str, str], float] = {
    ("Source", "*"): 4.0,
    ("Build", "*"): 30.0,
    ("Build", "CodeBuild"): 30.0,
    ("Test", "*"): 15.0,
    ("Deploy", "*"): 20.0,
    ("Deploy", "CloudFormation"): 15.0,
    ("Deploy", "S3"): 5.0,
    ("Invoke", "*"): 10.0,
    ("Invoke", "StepFunctions"): 60.0,
    ("Invoke", "Lambda"): 5.0,
    ("Compute", "*"): 20.0,
    ("Approval", "*"): 0.0,
}


def default_duration(category: str, provider: str) -> float:
    return DEFAULT_DURATIONS.get((category, provider), DEFAULT_DURATIONS.get((category, "*"), 10.0))


# --- Reading one file or one item --------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """One pipeline as AWS declares it: the PipelineDeclaration to create, and where it came from."""

    structure: dict[str, Any]
    file: str
    line: int | None
    path: str  # the dotted key of the declaration in its file ("" for a whole file)
    region: str | None = None  # from get-pipeline's metadata.pipelineArn
    tags: tuple[tuple[str, str], ...] = ()
    disabled: tuple[tuple[str, str], ...] = ()  # CloudFormation's DisableInboundStageTransitions
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    pascal: bool = False  # spelled as CloudFormation spells it

    def error(self, api_path: str, problem: str) -> InputError:
        """An error about a member of the declaration, by its path in the API's spelling."""
        line = self.lines.get(api_path)
        probe = api_path
        while line is None and probe:
            probe = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
            line = self.lines.get(probe) if probe else None
        shown = api_path
        if self.pascal:
            shown = re.sub(r"(^|\.)([a-z])", lambda m: m.group(1) + m.group(2).upper(), api_path)
        key = _join(self.path, shown) if shown else self.path or None
        return InputError(self.file, line or self.line, key, problem)


def is_aws_shape(data: Any) -> bool:
    return isinstance(data, dict) and any(key in data for key in AWS_SHAPE_KEYS)


def read_declarations(
    file: str, data: Any, path: str = "", *, regions: tuple[str, ...], stack: str = "stack"
) -> list[Declared]:
    """Every pipeline a document declares, in any of AWS's forms (see the module docstring)."""
    line = getattr(data, "line", None)
    if not isinstance(data, dict):
        raise InputError(file, line, path or None, "expected a pipeline declaration (a mapping)")
    if "Resources" in data:
        return _template(file, data, path, regions[0], stack)
    if data.get("Type") == "AWS::CodePipeline::Pipeline" or "Properties" in data:
        if data.get("Type") != "AWS::CodePipeline::Pipeline":
            raise _error(file, data, "Type", path, "expected Type: AWS::CodePipeline::Pipeline")
        return [_resource(file, data, path, "Pipeline", _Template(file, {}, regions[0], stack))]
    if "Stages" in data:
        return [_properties(file, data, path, "Pipeline", _Template(file, {}, regions[0], stack))]
    if "pipeline" in data:
        for key in data:
            if key not in _GET_PIPELINE_KEYS:
                raise _unknown(file, data, key, path, _GET_PIPELINE_KEYS)
        region = _metadata_region(file, data.get("metadata"), _join(path, "metadata"))
        tags = _tags(file, data.get("tags"), _join(path, "tags"), "key", "value")
        converter = _Converter(file, pascal=False)
        structure = converter.structure(data["pipeline"], "PipelineDeclaration", _join(path, "pipeline"))
        where = _join(path, "pipeline")
        return [Declared(structure, file, _line(data, "pipeline"), where, region, tags, (), converter.lines)]
    if "stages" in data:
        converter = _Converter(file, pascal=False)
        structure = converter.structure(data, "PipelineDeclaration", path)
        return [Declared(structure, file, line, path, None, (), (), converter.lines)]
    raise InputError(
        file,
        line,
        path or None,
        "not a pipeline declaration: expected get-pipeline output ('pipeline'), a PipelineDeclaration "
        "('name', 'roleArn', 'stages'), a CloudFormation template ('Resources') or its Properties ('Stages')",
    )


def _metadata_region(file: str, metadata: Any, path: str) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise InputError(file, None, path, "expected a mapping")
    for key in metadata:
        if key not in _METADATA_KEYS:
            raise _unknown(file, metadata, key, path, _METADATA_KEYS)
    arn = metadata.get("pipelineArn")
    if arn is None:
        return None
    parts = str(arn).split(":")
    if len(parts) < 6 or parts[2] != "codepipeline":
        raise _error(file, metadata, "pipelineArn", path, f"not a pipeline ARN: {arn!r}")
    return parts[3]


def _tags(file: str, tags: Any, path: str, key: str, value: str) -> tuple[tuple[str, str], ...]:
    if tags is None:
        return ()
    if not isinstance(tags, list):
        raise InputError(file, getattr(tags, "line", None), path, "expected a list of tags")
    found = []
    for index, tag in enumerate(tags):
        where = f"{path}[{index}]"
        if not isinstance(tag, dict) or set(tag) != {key, value}:
            raise InputError(file, _item_line(tags, index), where, f"a tag is {{{key}: ..., {value}: ...}}")
        found.append((str(tag[key]), str(tag[value])))
    return tuple(found)


# --- CloudFormation -------------------------------------------------------------------------------------


class _Template:
    """A template's parameters, mappings and resources, and the intrinsic functions that read them."""

    def __init__(self, file: str, data: Mapping[str, Any], region: str, stack: str) -> None:
        self.file = file
        self.data = data
        self.region = region
        self.stack = stack
        self.parameters: Mapping[str, Any] = data.get("Parameters") or {}
        self.mappings: Mapping[str, Any] = data.get("Mappings") or {}
        self.resources: Mapping[str, Any] = data.get("Resources") or {}

    def resolve(self, value: Any, path: str, line: int | None) -> Any:
        """The value with every intrinsic function replaced by what it stands for; `_NO_VALUE` for AWS::NoValue."""
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref" or (isinstance(name, str) and name.startswith("Fn::")):
                line = getattr(value, "line", line)
                return self._function(name, argument, path, line)
        return value

    def _fail(self, path: str, line: int | None, problem: str) -> InputError:
        return InputError(self.file, line, path, problem)

    def _function(self, name: str, argument: Any, path: str, line: int | None) -> Any:
        def deep(item: Any) -> Any:
            return self._deep(item, path, line)

        if name == "Ref":
            return self._ref(str(deep(argument)), path, line)
        if name == "Fn::GetAtt":
            argument = deep(argument)
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if not isinstance(parts, list) or len(parts) != 2:
                raise self._fail(path, line, "Fn::GetAtt takes [LogicalName, Attribute]")
            return self._attribute(str(parts[0]), str(parts[1]), path, line)
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else (argument + [{}])[:2]
            if not isinstance(text, str) or not isinstance(variables, dict):
                raise self._fail(path, line, "Fn::Sub takes a string, or [string, {name: value}]")
            return self._sub(text, {k: deep(v) for k, v in variables.items()}, path, line)
        if name == "Fn::Join":
            argument = deep(argument)
            if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list)):
                raise self._fail(path, line, "Fn::Join takes [separator, [values]]")
            return str(argument[0]).join(str(item) for item in argument[1])
        if name == "Fn::Select":
            argument = deep(argument)
            try:
                return argument[1][int(argument[0])]
            except (TypeError, ValueError, IndexError, KeyError):
                raise self._fail(path, line, "Fn::Select takes [index, [values]] with the index in range") from None
        if name == "Fn::Split":
            argument = deep(argument)
            if not (isinstance(argument, list) and len(argument) == 2):
                raise self._fail(path, line, "Fn::Split takes [separator, string]")
            return str(argument[1]).split(str(argument[0]))
        if name == "Fn::FindInMap":
            argument = deep(argument)
            try:
                return self.mappings[argument[0]][argument[1]][argument[2]]
            except (KeyError, IndexError, TypeError):
                raise self._fail(path, line, f"Fn::FindInMap finds nothing at {argument!r}") from None
        raise self._fail(
            path,
            line,
            f"CloudFormation's {name} cannot be resolved without a stack (the sandbox resolves Ref, Fn::GetAtt, "
            "Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap): write the value itself",
        )

    def _deep(self, value: Any, path: str, line: int | None) -> Any:
        value = self.resolve(value, path, line)
        if isinstance(value, dict):
            return {k: self._deep(v, path, line) for k, v in value.items()}
        if isinstance(value, list):
            return [self._deep(v, path, line) for v in value]
        return value

    def _sub(self, text: str, variables: Mapping[str, Any], path: str, line: int | None) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self._attribute(logical, attribute, path, line))
            return str(self._ref(name, path, line))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def _ref(self, name: str, path: str, line: int | None) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": SANDBOX_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{SANDBOX_ACCOUNT}:stack/{self.stack}/sandbox",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            parameter = self.parameters[name]
            if not isinstance(parameter, dict) or "Default" not in parameter:
                raise self._fail(path, line, f"Ref names parameter '{name}', which has no Default to take")
            return parameter["Default"]
        resource = self.resources.get(name)
        if not isinstance(resource, dict):
            raise self._fail(path, line, f"Ref names '{name}', which is neither a parameter nor a resource here")
        kind, properties = str(resource.get("Type", "")), resource.get("Properties") or {}
        named = self._name(name, kind, properties, path, line)
        if kind in _REF_IS_ARN:
            return self._arn(kind, named)
        return named

    def _name(self, logical: str, kind: str, properties: Mapping[str, Any], path: str, line: int | None) -> str:
        key = _NAME_PROPERTY.get(kind)
        value = properties.get(key) if key else None
        if value is None:
            return logical.lower() if kind in ("AWS::S3::Bucket", "AWS::ECR::Repository") else logical
        return str(self._deep(value, path, line))

    def _arn(self, kind: str, name: str) -> str:
        region, account = self.region, SANDBOX_ACCOUNT
        return {
            "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
            "AWS::CodeStarConnections::Connection": f"arn:aws:codeconnections:{region}:{account}:connection/{name}",
            "AWS::CodeConnections::Connection": f"arn:aws:codeconnections:{region}:{account}:connection/{name}",
            "AWS::CodeBuild::Project": f"arn:aws:codebuild:{region}:{account}:project/{name}",
            "AWS::CodeCommit::Repository": f"arn:aws:codecommit:{region}:{account}:{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            "AWS::ECR::Repository": f"arn:aws:ecr:{region}:{account}:repository/{name}",
        }.get(kind, f"arn:aws:{kind.split('::')[1].lower() if '::' in kind else 'unknown'}:{region}:{account}:{name}")

    def _attribute(self, logical: str, attribute: str, path: str, line: int | None) -> Any:
        resource = self.resources.get(logical)
        if not isinstance(resource, dict):
            raise self._fail(path, line, f"Fn::GetAtt names '{logical}', which is not a resource here")
        kind, properties = str(resource.get("Type", "")), resource.get("Properties") or {}
        name = self._name(logical, kind, properties, path, line)
        arn = self._arn(kind, name)
        known = {
            "Arn": arn,
            "Name": name,
            "StateMachineName": name,
            "TopicArn": arn,
            "TopicName": name,
            "ConnectionArn": arn,
            "RoleId": f"AROA{abs(hash(name)) % 10**16:016d}",
            "RepositoryUri": f"{SANDBOX_ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}",
            "CloneUrlHttp": f"https://git-codecommit.{self.region}.amazonaws.com/v1/repos/{name}",
        }
        if attribute not in known:
            raise self._fail(path, line, f"Fn::GetAtt {logical}.{attribute}: the sandbox knows {', '.join(known)}")
        return known[attribute]


_NO_VALUE = object()
_REF_IS_ARN = ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic", "AWS::CodeStarConnections::Connection",
               "AWS::CodeConnections::Connection", "AWS::KMS::Key")  # fmt: skip
_NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CodeStarConnections::Connection": "ConnectionName",
    "AWS::CodeConnections::Connection": "ConnectionName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodeCommit::Repository": "RepositoryName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::ECR::Repository": "RepositoryName",
}


def _template(file: str, data: Mapping[str, Any], path: str, region: str, stack: str) -> list[Declared]:
    resources = data.get("Resources")
    where = _join(path, "Resources")
    if not isinstance(resources, dict):
        raise InputError(file, _line(data, "Resources"), where, "expected a mapping of logical names to resources")
    template = _Template(file, data, region, stack)
    found = [
        _resource(file, resource, _join(where, logical), logical, template)
        for logical, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::CodePipeline::Pipeline"
    ]
    if not found:
        raise InputError(file, _line(data, "Resources"), where, "the template declares no AWS::CodePipeline::Pipeline")
    return found


def _resource(file: str, resource: Mapping[str, Any], path: str, logical: str, template: _Template) -> Declared:
    allowed = ("Type", "Properties", "DependsOn", "Metadata", "Condition", "DeletionPolicy", "UpdateReplacePolicy")
    for key in resource:
        if key not in allowed:
            raise _unknown(file, resource, key, path, allowed)
    if "Condition" in resource:
        raise _error(file, resource, "Condition", path, "conditional resources cannot be resolved without a stack")
    if not isinstance(resource.get("Properties"), dict):
        raise InputError(file, getattr(resource, "line", None), _join(path, "Properties"), "expected a mapping")
    return _properties(file, resource["Properties"], _join(path, "Properties"), logical, template)


def _properties(file: str, properties: Mapping[str, Any], path: str, logical: str, template: _Template) -> Declared:
    converter = _Converter(file, pascal=True, template=template)
    body = {k: v for k, v in properties.items() if k not in _CLOUDFORMATION_ONLY}
    body.update({"Name": logical})  # checked below: CloudFormation's Name is optional, the API's is not
    lines = dict(getattr(properties, "lines", {}))
    located = _relocate(body, lines, getattr(properties, "line", None))
    if "Name" in properties:
        located["Name"] = template.resolve(properties["Name"], _join(path, "Name"), _line(properties, "Name"))
        located.lines["Name"] = lines.get("Name", located.line or 0)
    if "ArtifactStores" in properties:
        located["ArtifactStores"] = _artifact_stores(file, properties["ArtifactStores"], path, template)
        located.lines["ArtifactStores"] = lines.get("ArtifactStores", located.line or 0)
    structure = converter.structure(located, "PipelineDeclaration", path)
    tags = _tags(file, template.resolve(properties.get("Tags"), path, None), _join(path, "Tags"), "Key", "Value")
    disabled = []
    raw = properties.get("DisableInboundStageTransitions") or []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        where = f"{_join(path, 'DisableInboundStageTransitions')}[{index}]"
        if not isinstance(item, dict) or set(item) != {"StageName", "Reason"}:
            raise InputError(file, _item_line(raw, index), where, "expected {StageName: ..., Reason: ...}")
        disabled.append((str(item["StageName"]), str(item["Reason"])))
    return Declared(
        structure,
        file,
        getattr(properties, "line", None),
        path,
        None,
        tags,
        tuple(disabled),
        converter.lines,
        pascal=True,
    )


def _artifact_stores(file: str, stores: Any, path: str, template: _Template) -> dict[str, Any]:
    """CloudFormation lists `{Region, ArtifactStore}`; the API maps a region to its store."""
    where = _join(path, "ArtifactStores")
    if not isinstance(stores, list):
        raise InputError(file, getattr(stores, "line", None), where, "expected a list of {Region, ArtifactStore}")
    mapped = _LocatedDict()
    for index, item in enumerate(stores):
        item_path = f"{where}[{index}]"
        if not isinstance(item, dict) or set(item) != {"Region", "ArtifactStore"}:
            raise InputError(file, _item_line(stores, index), item_path, "expected {Region: ..., ArtifactStore: ...}")
        region = str(template.resolve(item["Region"], item_path, _item_line(stores, index)))
        mapped[region] = item["ArtifactStore"]
        mapped.lines[region] = _item_line(stores, index) or 0
    return mapped


class _LocatedDict(dict[Any, Any]):
    """A mapping built here, with lines like the YAML loader's."""

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}


def _relocate(data: Mapping[str, Any], lines: Mapping[str, int], line: int | None) -> _LocatedDict:
    located = _LocatedDict(line)
    for key, value in data.items():
        located[key] = value
        if key in lines:
            located.lines[key] = lines[key]
    return located


# --- The key-by-key check and conversion --------------------------------------------------------------


class _Converter:
    """Check a declaration against `SHAPES` and return it in the API's camelCase with string configuration.

    `pascal`: CloudFormation's spelling (`Stages`, `ActionTypeId`), where configuration values may be any
    JSON (CloudFormation passes `PollForSourceChanges: false` on as "false") and intrinsic functions appear.
    """

    def __init__(self, file: str, *, pascal: bool, template: _Template | None = None) -> None:
        self.file = file
        self.pascal = pascal
        self.template = template
        self.lines: dict[str, int] = {}  # dotted path in the API's spelling → line

    def _key(self, name: str) -> str:
        return name[0].upper() + name[1:] if self.pascal else name

    def _resolve(self, value: Any, path: str, line: int | None) -> Any:
        return self.template.resolve(value, path, line) if self.template is not None else value

    def structure(self, data: Any, shape: str, path: str, line: int | None = None, api: str = "") -> dict[str, Any]:
        members = SHAPES[shape]
        line = getattr(data, "line", line)
        if not isinstance(data, dict):
            raise InputError(self.file, line, path or None, f"expected a mapping ({shape}), got {_describe(data)}")
        spelled = {self._key(name): name for name in members}
        result: dict[str, Any] = {}
        for key in data:
            if key not in spelled:
                raise _unknown(self.file, data, key, path, tuple(spelled))
        for key, name in spelled.items():
            member = members[name]
            if key not in data:
                if member.required:
                    raise InputError(self.file, line, path or None, f"missing required key '{key}'")
                continue
            where, key_line = _join(path, key), _line(data, key) or line
            value = self._resolve(data[key], where, key_line)
            if value is _NO_VALUE:
                continue
            api_path = _join(api, name)
            if key_line is not None:
                self.lines[api_path] = key_line
            result[name] = self._member(member, value, where, key_line, api_path)
        return result

    def _member(self, member: Member, value: Any, path: str, line: int | None, api: str) -> Any:
        kind = member.kind
        if kind == "struct":
            return self.structure(value, member.shape, path, line, api)
        if kind == "list":
            items = self._list(value, path, line, member.shape)
            return [
                self.structure(
                    self._resolve(item, f"{path}[{i}]", _item_line(value, i) or line),
                    member.shape,
                    f"{path}[{i}]",
                    _item_line(value, i) or line,
                    f"{api}[{i}]",
                )
                for i, item in enumerate(items)
            ]
        if kind == "stores":
            if not isinstance(value, dict):
                raise InputError(self.file, line, path, "expected a mapping of regions to artifact stores")
            return {
                str(region): self.structure(store, member.shape, _join(path, str(region)), _line(value, region) or line)
                for region, store in value.items()
            }
        if kind == "strings":
            items = self._list(value, path, line, "string")
            strings = []
            for i, item in enumerate(items):
                item = self._resolve(item, f"{path}[{i}]", _item_line(value, i) or line)
                if not isinstance(item, str):
                    raise InputError(self.file, _item_line(value, i) or line, f"{path}[{i}]", "expected a string")
                if member.enum and item not in member.enum:
                    raise InputError(
                        self.file, _item_line(value, i) or line, f"{path}[{i}]", f"one of {', '.join(member.enum)}"
                    )
                strings.append(item)
            return strings
        if kind == "map":
            return self._configuration(value, path, line)
        if kind == "integer":
            if self.pascal and isinstance(value, str) and value.isdigit():
                value = int(value)  # CloudFormation takes "1" for 1
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(self.file, line, path, f"expected an integer, got {_describe(value)}")
            if (member.low is not None and value < member.low) or (member.high is not None and value > member.high):
                bounds = f"at least {member.low}" + (f" and at most {member.high}" if member.high else "")
                raise InputError(self.file, line, path, f"must be {bounds}, got {value}")
            return value
        return self._string(member, value, path, line)

    def _list(self, value: Any, path: str, line: int | None, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise InputError(self.file, line, path, f"expected a list ({what}), got {_describe(value)}")
        return value

    def _string(self, member: Member, value: Any, path: str, line: int | None) -> str:
        if self.pascal and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise InputError(self.file, line, path, f"expected a string, got {_describe(value)}")
        if member.enum and value not in member.enum:
            raise InputError(self.file, line, path, f"expected one of {', '.join(member.enum)}, got {value!r}")
        if member.low is not None and len(value) < member.low:
            raise InputError(self.file, line, path, f"at least {member.low} characters, got {len(value)}")
        if member.high is not None and len(value) > member.high:
            raise InputError(self.file, line, path, f"at most {member.high} characters, got {len(value)}")
        if member.pattern is not None and not re.fullmatch(member.pattern, value):
            raise InputError(self.file, line, path, f"{value!r} does not match AWS's pattern {member.pattern}")
        return value

    def _configuration(self, value: Any, path: str, line: int | None) -> dict[str, str]:
        if not isinstance(value, dict):
            raise InputError(self.file, line, path, f"expected a mapping of names to strings, got {_describe(value)}")
        result = {}
        for key, item in value.items():
            where, item_line = _join(path, str(key)), _line(value, key) or line
            if self.template is not None:
                item = self.template._deep(item, where, item_line)
            if item is _NO_VALUE:
                continue
            if isinstance(item, str):
                result[str(key)] = item
            elif self.pascal and isinstance(item, bool):
                result[str(key)] = "true" if item else "false"
            elif self.pascal and isinstance(item, int | float):
                result[str(key)] = str(item)
            elif self.pascal and isinstance(item, dict | list):
                result[str(key)] = json.dumps(item, separators=(",", ":"))
            else:
                hint = f' (CodePipeline takes strings: write "{str(item).lower()}")' if isinstance(item, bool) else ""
                raise InputError(self.file, item_line, where, f"expected a string, got {_describe(item)}{hint}")
        return result


# --- helpers ----------------------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _line(data: Any, key: Any) -> int | None:
    lines = getattr(data, "lines", None)
    if isinstance(lines, dict):
        return lines.get(key, getattr(data, "line", None))
    return getattr(data, "line", None)


def _item_line(data: Any, index: int) -> int | None:
    lines = getattr(data, "lines", None)
    if isinstance(lines, list) and index < len(lines):
        return int(lines[index])
    return getattr(data, "line", None)


def _error(file: str, data: Any, key: str, path: str, problem: str) -> InputError:
    return InputError(file, _line(data, key), _join(path, key), problem)


def _unknown(file: str, data: Any, key: Any, path: str, known: tuple[str, ...]) -> InputError:
    close = difflib.get_close_matches(str(key), known, n=1)
    if not close:
        # The other spelling: a camelCase key in CloudFormation, or a PascalCase one in the API's shape.
        close = [k for k in known if k.lower() == str(key).lower()]
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return InputError(file, _line(data, key), _join(path, str(key)), f"unknown key{hint}")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


def stage_wave(waves: WaveModel, pipeline: str, stage: str) -> str | None:
    """The wave a declared stage deploys to: the last wave of waves.yaml whose `match` fits its name."""
    wave = waves.for_stage(pipeline, stage)
    return wave.name if wave is not None else None
