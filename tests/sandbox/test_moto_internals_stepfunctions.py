"""Fails loudly, naming what moved, when a moto release changes the Step Functions internals the sandbox uses.

`console/sandbox/stepfunctions/internals.py` lists every class, method, parameter and attribute the
Step Functions patches plug into, and the source fingerprint of every moto method they replace wholesale.
When this fails after a moto upgrade: read the named moto code, port its change into the replacement in
`console/sandbox/stepfunctions/`, then record the new fingerprint.
"""

from __future__ import annotations

from importlib.metadata import version

from console.sandbox.stepfunctions import internals as stepfunctions_internals


def test_every_touch_point_is_where_the_patches_expect_it() -> None:
    moved = stepfunctions_internals.moved()
    assert not moved, "moto's Step Functions internals moved:\n" + "\n".join(moved)


def test_the_replaced_moto_methods_are_the_ones_the_patches_were_ported_from() -> None:
    changed = stepfunctions_internals.changed_sources()
    assert not changed, (
        "moto changed methods the sandbox replaces; port the change, then update REPLACED_SOURCES:\n"
        + "\n".join(changed)
    )


def test_moto_is_the_minor_release_the_patches_were_written_for() -> None:
    major, minor, *_ = version("moto").split(".")
    assert (major, minor) == ("5", "2"), f"moto {version('moto')}: re-check the Step Functions patches"


def test_the_check_names_what_moved() -> None:
    # The check itself must be able to fail: a touch point that does not exist is reported by name.
    fake = ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend.no_such_method", ())
    original = stepfunctions_internals.TOUCH_POINTS
    try:
        stepfunctions_internals.TOUCH_POINTS = (*original, fake)
        moved = stepfunctions_internals.moved()
    finally:
        stepfunctions_internals.TOUCH_POINTS = original
    assert len(moved) == 1
    assert "StepFunctionsParserBackend.no_such_method is gone" in moved[0]


def test_the_sandbox_errors_render_as_aws_json_errors() -> None:
    # console/sandbox/stepfunctions/errors.py: moto 5.2.6 removed the AWSError base these had; they are
    # werkzeug HTTP errors now, which BaseResponse.call_action renders with their own status and body.
    import inspect
    import json

    from moto.core.responses import BaseResponse
    from werkzeug.exceptions import HTTPException

    from console.sandbox.stepfunctions.errors import InvalidToken, TaskDoesNotExist

    where = "console/sandbox/stepfunctions/errors.py"
    assert "except HTTPException" in inspect.getsource(BaseResponse.call_action), (
        f"moto internals moved: BaseResponse.call_action no longer renders HTTP errors (relied on by {where})"
    )
    error = InvalidToken("bad")
    assert isinstance(error, HTTPException)
    assert error.code == 400
    assert json.loads(error.get_body()) == {"__type": "InvalidToken", "message": "Invalid Token: 'bad'"}
    assert json.loads(TaskDoesNotExist().get_body())["__type"] == "TaskDoesNotExist"
