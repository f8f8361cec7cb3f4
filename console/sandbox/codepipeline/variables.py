"""Variables as CodePipeline resolves and emits them (user guide, "Variables reference").

Three kinds of reference may appear in an action's configuration, resolved when the action starts:

- `#{variables.NAME}`: a pipeline-level variable (V2): StartPipelineExecution's value over the declared default;
- `#{codepipeline.PipelineExecutionId}`: the one variable of the `codepipeline` namespace;
- `#{Namespace.Name}`: an output variable of an action of the same execution whose `namespace` is Namespace,
  once that action has succeeded.

A reference that cannot be resolved yet stays as written: the configuration shows what did not resolve.

Each action emits, when it succeeds, the output variables AWS documents for its provider: source actions
describe the commit (CodeStarSourceConnection: CommitId, AuthorDate, BranchName, CommitMessage, ConnectionArn,
FullRepositoryName), a Step Functions action its execution, CodeBuild and Commands what they export. The
sandbox has no buildspec to read, so exported variables come from the action's behaviour (`variables` in
the definitions, or the `SandboxOutputVariables` configuration key: a JSON object of names to strings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from console.sandbox.codepipeline.records import ActionRun, ExecutionRun

_REFERENCE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_]+)\}")
_CONNECTION_PROVIDERS = ("CodeStarSourceConnection", "CodeConnections")


def resolve(configuration: Mapping[str, str], execution: ExecutionRun) -> Mapping[str, str]:
    """The configuration with every reference this execution can resolve now replaced by its value.

    A configuration without references is returned as is (shared by every run, not copied).
    """
    if not any("#{" in text for text in configuration.values()):
        return configuration

    def value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        if namespace == "variables":
            return execution.variables.get(name, match.group(0))
        if namespace == "codepipeline":
            return execution.id if name == "PipelineExecutionId" else match.group(0)
        return execution.outputs.get(namespace, {}).get(name, match.group(0))

    return {key: _REFERENCE.sub(value, text) for key, text in configuration.items()}


def emitted(run: ActionRun) -> dict[str, str]:
    """The output variables of an action that has just succeeded, by AWS's rules for its provider."""
    shape, configuration = run.shape, run.configuration
    found: dict[str, str] = {}
    if shape.is_source:
        found.update(_source(run))
    elif shape.is_step_functions:
        if run.sfn_arn:
            found["ExecutionArn"] = run.sfn_arn
        arn = configuration.get("StateMachineArn")
        if arn:
            found["StateMachineArn"] = arn
    exported = dict(run.behaviour.variables)
    if shape.output_variable_names:
        # A Commands action exports exactly the names it declares; the behaviour gives their values.
        exported = {name: exported.get(name, "") for name in shape.output_variable_names}
    found.update({name: _resolved_text(text, run) for name, text in exported.items()})
    return found


def record(run: ActionRun) -> None:
    """Keep what a succeeded action emitted, and make it resolvable under its namespace."""
    run.output_variables = emitted(run)
    if run.shape.namespace:
        run.execution.outputs[run.shape.namespace] = run.output_variables


def _resolved_text(text: str, run: ActionRun) -> str:
    return resolve({"value": text}, run.execution)["value"]


def _source(run: ActionRun) -> dict[str, str]:
    shape, configuration, execution = run.shape, run.configuration, run.execution
    revision = execution.revision_for(shape.name) or {}
    commit = str(revision.get("revisionId", ""))
    message = _commit_message(str(revision.get("revisionSummary", "")))
    author_date = _iso(execution.start)
    provider = shape.provider
    if provider in _CONNECTION_PROVIDERS:
        return {
            "AuthorDate": author_date,
            "BranchName": configuration.get("BranchName", ""),
            "CommitId": commit,
            "CommitMessage": message,
            "ConnectionArn": configuration.get("ConnectionArn", ""),
            "FullRepositoryName": configuration.get("FullRepositoryId", ""),
        }
    if provider == "CodeCommit":
        return {
            "AuthorDate": author_date,
            "BranchName": configuration.get("BranchName", ""),
            "CommitId": commit,
            "CommitMessage": message,
            "CommitterDate": author_date,
            "RepositoryName": configuration.get("RepositoryName", ""),
        }
    if provider == "GitHub":
        owner, repo = configuration.get("Owner", ""), configuration.get("Repo", "")
        return {
            "AuthorDate": author_date,
            "BranchName": configuration.get("Branch", ""),
            "CommitId": commit,
            "CommitMessage": message,
            "CommitterDate": author_date,
            "CommitUrl": str(revision.get("revisionUrl") or f"https://github.com/{owner}/{repo}/commit/{commit}"),
            "RepositoryName": repo,
        }
    if provider == "S3":
        return {"ETag": commit[:32], "VersionId": commit}
    if provider == "ECR":
        repository = configuration.get("RepositoryName", "")
        tag = configuration.get("ImageTag", "latest")
        registry = execution.pipeline.account
        region = shape.region
        digest = "sha256:" + (commit * 2)[:64]
        return {
            "ImageDigest": digest,
            "ImageTag": tag,
            "ImageURI": f"{registry}.dkr.ecr.{region}.amazonaws.com/{repository}@{digest}",
            "RegistryId": registry,
            "RepositoryName": repository,
        }
    return {}


def _commit_message(summary: str) -> str:
    """CodeConnections put the message in a small JSON document; others give it as the summary itself."""
    if summary.startswith("{"):
        try:
            document = json.loads(summary)
        except ValueError:
            return summary
        if isinstance(document, dict) and isinstance(document.get("CommitMessage"), str):
            return str(document["CommitMessage"])
    return summary


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
