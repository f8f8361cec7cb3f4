"""The gateway's answers share their text: equal strings of two answers are one object (CPython's sys.intern)."""

from __future__ import annotations

import json

from console.aws.convert import share_strings


def answer() -> dict[str, object]:
    # Parsed anew each time, as botocore parses each response: equal text, new string objects.
    text = '{"stages": [{"name": "Deploy", "tags": ["prod", "eu"]}], "ResponseMetadata": {"RequestId": "r-1"}}'
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_equal_text_in_two_answers_is_one_object_nested_in_dicts_and_lists() -> None:
    one, two = share_strings(answer()), share_strings(answer())
    assert one == answer()  # nothing but the identity of the strings changes
    stage_one, stage_two = one["stages"][0], two["stages"][0]  # type: ignore[index]
    assert stage_one["name"] is stage_two["name"]
    assert stage_one["tags"][1] is stage_two["tags"][1]


def test_botocore_metadata_is_left_alone() -> None:
    # Headers and request ids are never kept: sharing them would only cost time.
    one, two = share_strings(answer()), share_strings(answer())
    assert one["ResponseMetadata"]["RequestId"] is not two["ResponseMetadata"]["RequestId"]  # type: ignore[index]
