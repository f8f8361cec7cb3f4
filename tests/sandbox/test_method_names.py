"""console/sandbox/moto_patches/method_names.py: moto's list of a response class's methods, once per class."""

from __future__ import annotations

import inspect

import pytest
from moto.core import responses
from moto.sqs.responses import SQSResponse
from moto.stepfunctions.responses import StepFunctionResponse

from console.sandbox.moto_patches import method_names


def test_the_kept_list_is_moto_s_and_is_made_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    def counted(clazz: object) -> list[str]:
        made.append(clazz)
        return [name for name, _ in inspect.getmembers(clazz, predicate=inspect.isfunction)]

    monkeypatch.setattr(method_names, "_moto_method_names", counted)
    monkeypatch.setattr(method_names, "_names", {})
    monkeypatch.setattr(responses, "method_names_from_class", responses.method_names_from_class)
    method_names.install()
    for _ in range(3):
        for clazz in (StepFunctionResponse, SQSResponse):
            names = responses.method_names_from_class(clazz)
            assert names == [n for n, _ in inspect.getmembers(clazz, predicate=inspect.isfunction)]
    assert made == [StepFunctionResponse, SQSResponse]
    assert "get_execution_history" in responses.method_names_from_class(StepFunctionResponse)


def test_moto_asks_for_it_by_that_name_on_every_request() -> None:
    source = inspect.getsource(responses.BaseResponse.call_action)
    assert "method_names_from_class(self.__class__)" in source, (
        "moto's BaseResponse.call_action no longer asks method_names_from_class: the cache in "
        "console/sandbox/moto_patches/method_names.py does nothing"
    )
