"""Fails loudly, naming what moved, when a moto release changes what the CodePipeline engine plugs into.

The engine (console/sandbox/codepipeline_*.py) relies on moto internals that are not a public API: how a
JSON request reaches a method of CodePipelineResponse, where moto stores pipelines, how STS answers
GetCallerIdentity, and the in-process Step Functions backend. Each check below says which file relies on
what, so an upgrade of moto points at the line to fix. These checks run in-process and install nothing.
"""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from typing import Any

import pytest

from console.sandbox.codepipeline.api import OPERATIONS
from console.sandbox.moto_patches.compat import pipeline_created, pipeline_updated

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _moved(what: str, relied_on_by: str) -> str:
    return f"moto internals moved: {what} (relied on by {relied_on_by}); see the moto pin in pyproject.toml"


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_requests_reach_methods_of_codepipeline_response() -> None:
    from moto.codepipeline import urls
    from moto.codepipeline.responses import CodePipelineResponse
    from moto.core import utils
    from moto.core.responses import BaseResponse

    api = "console/sandbox/codepipeline/api.py"
    handlers = list(urls.url_paths.values())
    assert handlers, _moved("moto.codepipeline.urls.url_paths is empty", api)
    assert all(getattr(h, "__self__", None) is CodePipelineResponse for h in handlers), _moved(
        "CodePipeline requests are no longer dispatched by CodePipelineResponse.dispatch", api
    )
    source = inspect.getsource(BaseResponse.call_action)
    for needle in ("camelcase_to_underscores(self._get_action())", "method_names_from_class(self.__class__)"):
        assert needle in source, _moved(f"BaseResponse.call_action no longer uses `{needle}`", api)
    assert utils.camelcase_to_underscores("PutApprovalResult") == "put_approval_result", _moved(
        "camelcase_to_underscores spells operation names differently", api
    )

    class Probe:
        pass

    def added(self: Any) -> str:
        return ""

    setattr(Probe, "get_pipeline_state", added)  # noqa: B010 - exactly what install() does
    assert "get_pipeline_state" in utils.method_names_from_class(Probe), _moved(
        "method_names_from_class no longer sees methods set on the class", api
    )
    for name in ("update_pipeline", "delete_pipeline", "create_pipeline", "get_pipeline"):
        assert inspect.isfunction(getattr(CodePipelineResponse, name, None)), _moved(
            f"CodePipelineResponse.{name} is missing", api
        )
    for name in ("current_account", "region", "partition", "body"):
        assert name in inspect.getsource(BaseResponse.setup_class), _moved(
            f"BaseResponse.setup_class no longer sets `self.{name}`", api
        )
    assert callable(getattr(BaseResponse, "get_access_key", None)), _moved("BaseResponse.get_access_key", api)


def test_errors_are_rendered_from_json_rest_error() -> None:
    from moto.core.exceptions import JsonRESTError
    from werkzeug.exceptions import HTTPException

    api = "console/sandbox/codepipeline/api.py"
    error = JsonRESTError("StageNotFoundException", "no such stage")
    assert isinstance(error, HTTPException), _moved("JsonRESTError is no longer an HTTPException", api)
    assert error.code == 400, _moved("JsonRESTError no longer answers HTTP 400", api)
    assert json.loads(error.get_body()) == {"__type": "StageNotFoundException", "message": "no such stage"}, _moved(
        "JsonRESTError's JSON body changed", api
    )
    assert ("X-Amzn-ErrorType", "StageNotFoundException") in error.get_headers(), _moved(
        "JsonRESTError's X-Amzn-ErrorType header changed", api
    )


def test_pipelines_are_stored_where_the_engine_reads_them() -> None:
    from moto.codepipeline.models import CodePipeline, CodePipelineBackend, codepipeline_backends

    engine = "console/sandbox/codepipeline/engine.py"
    structure: dict[str, Any] = {
        "name": "probe",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/probe",
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "actionTypeId": {"category": "Source"}}]},
            {"name": "Build", "actions": [{"name": "Build", "actionTypeId": {"category": "Build"}}]},
        ],
    }
    stored = CodePipeline(ACCOUNT, REGION, structure)
    assert isinstance(stored.pipeline, dict), _moved("CodePipeline.pipeline is no longer the structure dict", engine)
    assert stored.pipeline["version"] == 1, _moved("CodePipeline.pipeline['version'] is not set to 1", engine)
    assert stored.pipeline["stages"][1]["actions"][0]["runOrder"] == 1, _moved("default runOrder", engine)
    compat = "console/sandbox/moto_patches/compat.py"
    for read in (pipeline_created, pipeline_updated):
        try:
            stamp = read(stored)
        except AttributeError as exc:
            pytest.fail(_moved(f"{exc} (5.2.5 had `_created`, 5.2.6 `created`)", compat))
        assert isinstance(stamp, datetime), _moved(f"{read.__name__} no longer reads a datetime", compat)
    backend = CodePipelineBackend(REGION, ACCOUNT)
    assert isinstance(getattr(backend, "pipelines", None), dict), _moved("CodePipelineBackend.pipelines", engine)
    backend.pipelines["probe"] = stored
    updated = backend.update_pipeline({**structure, "name": "probe"})
    assert updated["version"] == 2, _moved("UpdatePipeline no longer bumps pipeline['version']", engine)
    assert pipeline_updated(stored) >= pipeline_created(stored), _moved(
        "UpdatePipeline no longer stamps the update", compat
    )
    assert backend.pipelines["probe"] is stored, _moved("UpdatePipeline replaces the stored object", engine)
    assert _parameters(CodePipelineBackend.delete_pipeline) == ["self", "name"], _moved(
        "CodePipelineBackend.delete_pipeline(name)", engine
    )
    assert hasattr(codepipeline_backends, "__getitem__"), _moved("codepipeline_backends[account][region]", engine)


def test_sts_answers_the_caller_identity() -> None:
    from moto.sts.models import sts_backends

    api = "console/sandbox/codepipeline/api.py (lastUpdatedBy, lastChangedBy, triggerDetail)"
    backend = sts_backends[ACCOUNT]["aws"]
    answer = backend.get_caller_identity("AKIDNOTISSUEDBYMOTO", REGION)
    assert isinstance(answer, tuple), _moved("STSBackend.get_caller_identity no longer returns a tuple", api)
    assert len(answer) == 3, _moved("STSBackend.get_caller_identity's tuple changed", api)
    assert answer[1] == f"arn:aws:sts::{ACCOUNT}:user/moto", _moved(
        "STSBackend.get_caller_identity's ARN for unknown keys", api
    )


def test_step_functions_backend_runs_executions_in_process() -> None:
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser import models as parser_models
    from moto.stepfunctions.parser.backend.execution import Execution

    sfn = "console/sandbox/codepipeline/sfn.py"
    assert _parameters(responses.get_backend) == ["account", "region"], _moved("get_backend(account, region)", sfn)
    assert "execute_state_machine" in inspect.getsource(responses.get_backend), _moved(
        "get_backend no longer switches on execute_state_machine", sfn
    )
    backend_class = parser_models.StepFunctionsParserBackend
    start = _parameters(backend_class.start_execution)
    for name in ("state_machine_arn", "name", "execution_input"):
        assert name in start, _moved(f"StepFunctionsParserBackend.start_execution has no `{name}`", sfn)
    assert "execution_arn" in _parameters(backend_class.describe_execution), _moved(
        "StepFunctionsParserBackend.describe_execution(execution_arn)", sfn
    )
    for attribute in ("stop_date", "error", "cause", "exec_status"):
        assert attribute in Execution.__annotations__, _moved(f"parser Execution.{attribute}", sfn)
    assert isinstance(inspect.getattr_static(Execution, "status"), property), _moved("Execution.status", sfn)
    assert "self.execution_arn" in inspect.getsource(Execution.__init__), _moved("Execution.execution_arn", sfn)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_installed_method_is_a_codepipeline_operation(name: str) -> None:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("codepipeline")
    operations = {xform_name(operation): operation for operation in model.operation_names}
    assert name in operations, f"{name} is not an operation of botocore's codepipeline model"
