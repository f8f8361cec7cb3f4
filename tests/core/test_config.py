"""The config file: targets, intervals, keymap; every mistake names the file, line and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.config import Intervals, load_config, resolve_targets, sandbox_targets
from console.errors import InputError, UsageError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_missing_default_config_means_defaults() -> None:
    config = load_config()
    assert config.targets == ()
    assert config.intervals == Intervals()
    assert not config.read_only


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_full_config(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
read_only: false
targets:
  - name: prod
    profile: prod
    regions: [us-east-1, eu-west-1]
    role_arn: arn:aws:iam::111122223333:role/deploy-operator
    production: true
    read_only: true
  - profile: dev
    region: us-west-2
    endpoint_url: http://127.0.0.1:4566
intervals: {focused: 1s, background: 30s}
keymap: {approve: ctrl+a}
theme: textual-light
audit_log: audit/log.jsonl
""",
    )
    config = load_config(path)
    assert [t.name for t in config.targets] == ["prod/us-east-1", "prod/eu-west-1", "dev/us-west-2"]
    prod = config.targets[0]
    assert prod.production
    assert prod.read_only
    assert prod.role_arn
    assert prod.profile == "prod"
    assert config.targets[2].endpoint_url == "http://127.0.0.1:4566"
    assert config.intervals.focused == 1.0
    assert config.intervals.background == 30.0
    assert config.keymap == {"approve": "ctrl+a"}
    assert config.theme == "textual-light"
    assert config.audit_log == tmp_path / "audit" / "log.jsonl"


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("targets:\n  - region: us-east-1\n    profil: x\n", 3, "targets[0].profil", "unknown key"),
        ("intervals:\n  focused: soon\n", 2, "intervals.focused", "expected a duration"),
        ("intervals:\n  focused: 0.1\n", 2, "intervals.focused", "at least 0.5"),
        ("keymap:\n  aprove: a\n", 2, "keymap.aprove", "no key binding with this id"),
        ("keymap:\n  approve: 'a b'\n", 2, "keymap.approve", "not a key name"),
        ("keymap:\n  reject: a\n", 2, "keymap.reject", "key 'a' would be bound to both approve and reject"),
        ("keymap:\n  approve: x\n", 2, "keymap.approve", "key 'x' would be bound to both approve and reject"),
        ("keymap:\n  refresh: q\n", 2, "keymap.refresh", "key 'q' would be bound to both quit and refresh"),
        ("keymap:\n  stop: t\n  retry: t\n", 3, "keymap.retry", "key 't' would be bound to both stop and retry"),
        ("targets:\n  - region: mars-1\n", 2, "targets[0].region", "not an AWS region"),
        ("targets:\n  - profile: x\n", 2, "targets[0]", "missing required key 'region'"),
        ("read_only: maybe\n", 1, "read_only", "expected true or false"),
        ("read_only: true\nread_only: false\n", 2, None, "duplicate key"),
        ("targets: [\n", 2, None, "invalid YAML"),
        ("colour: blue\n", 1, "colour", "unknown key"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str | None, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line
    assert error.key == key
    assert problem in str(error)
    assert str(error).startswith(f"{path}:{line}: ")


def test_a_keymap_that_swaps_keys_without_a_conflict_is_fine(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "keymap:\n  approve: x\n  reject: a\n"))
    assert config.keymap == {"approve": "x", "reject": "a"}


def test_command_line_targets_override_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "targets:\n  - profile: prod\n    region: us-east-1\n"))
    targets = resolve_targets(config, profile="ops", regions=("eu-west-1", "eu-central-1"), read_only=True)
    assert [(t.name, t.profile, t.region, t.read_only) for t in targets] == [
        ("ops/eu-west-1", "ops", "eu-west-1", True),
        ("ops/eu-central-1", "ops", "eu-central-1", True),
    ]
    assert resolve_targets(config)[0].profile == "prod"


def test_no_region_anywhere_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no AWS region"):
        resolve_targets(load_config())


def test_bad_region_flag_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not an AWS region"):
        resolve_targets(load_config(), regions=("nowhere",))


def test_sandbox_targets_carry_the_events_queue() -> None:
    (target,) = sandbox_targets("http://127.0.0.1:4566", ("us-east-1",))
    assert target.sandbox
    assert target.endpoint_url == "http://127.0.0.1:4566"
    assert target.events_queue == "http://127.0.0.1:4566/123456789012/wavedeck-events"


def test_region_comes_from_the_profile_when_not_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.aws.credentials import profile_region

    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile ops]\nregion = eu-central-1\n[default]\nregion = ap-southeast-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    (ops,) = resolve_targets(load_config(), profile="ops", region_of_profile=profile_region)
    assert (ops.name, ops.region) == ("ops/eu-central-1", "eu-central-1")
    (default,) = resolve_targets(load_config(), region_of_profile=profile_region)
    assert default.region == "ap-southeast-2"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    (from_env,) = resolve_targets(load_config(), profile="ops", region_of_profile=profile_region)
    assert from_env.region == "us-west-2"


def test_no_region_in_the_profile_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.aws.credentials import profile_region

    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile ops]\noutput = json\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    with pytest.raises(UsageError, match="give the profile 'ops' a region"):
        resolve_targets(load_config(), profile="ops", region_of_profile=profile_region)
    with pytest.raises(UsageError, match="no AWS region"):
        resolve_targets(load_config(), profile="missing", region_of_profile=profile_region)


PROTECTED = """\
targets:
  - name: prod-east
    profile: prod
    region: us-east-1
    production: true
  - name: prod-east-ro
    profile: prod-ro
    region: us-east-1
    read_only: true
  - name: local
    region: eu-west-1
    endpoint_url: http://127.0.0.1:4566
    read_only: true
"""


@pytest.mark.parametrize(
    ("flags", "read_only", "production"),
    [
        ({"profile": "prod", "regions": ("us-east-1",)}, False, True),
        ({"profile": "prod-ro", "regions": ("us-east-1",)}, True, False),
        # No profile given: it may be either of the us-east-1 targets, so both marks hold (an endpoint in
        # front of AWS still reaches their account).
        ({"regions": ("us-east-1",), "endpoint_url": "http://127.0.0.1:9999"}, True, True),
        ({"regions": ("us-east-1",)}, True, True),
        ({"regions": ("eu-west-1",), "endpoint_url": "http://127.0.0.1:9999"}, False, False),
        ({"regions": ("eu-west-1",), "endpoint_url": "http://127.0.0.1:4566"}, True, False),
        ({"profile": "other", "regions": ("us-east-1",)}, False, False),
    ],
)
def test_flags_keep_the_marks_of_the_config_targets_they_select(
    tmp_path: Path, flags: dict[str, object], read_only: bool, production: bool
) -> None:
    config = load_config(write(tmp_path, PROTECTED))
    (target,) = resolve_targets(config, **flags)  # type: ignore[arg-type]
    assert (target.read_only, target.production) == (read_only, production)


def test_top_level_read_only_holds_whatever_the_flags(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "read_only: true\n"))
    targets = resolve_targets(config, profile="ops", regions=("us-east-1",), endpoint_url="http://127.0.0.1:1")
    assert all(t.read_only for t in targets)


def test_the_endpoint_requests_go_to_is_named_when_it_is_not_awss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.aws.credentials import configured_endpoint
    from console.model import FleetState
    from screens.widgets.fleet_header import header_facts

    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile prod]\nregion = us-east-1\n[profile local]\nendpoint_url = http://10.0.0.5:4566\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    config = load_config(write(tmp_path, ""))

    (plain,) = resolve_targets(config, profile="prod", regions=("us-east-1",), endpoint_of_profile=configured_endpoint)
    assert plain.shown_endpoint is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    (env,) = resolve_targets(config, profile="prod", regions=("us-east-1",), endpoint_of_profile=configured_endpoint)
    assert env.shown_endpoint == "http://127.0.0.1:4566"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    (local,) = resolve_targets(config, profile="local", regions=("us-east-1",), endpoint_of_profile=configured_endpoint)
    assert local.shown_endpoint == "http://10.0.0.5:4566"
    (flagged,) = resolve_targets(config, regions=("us-east-1",), endpoint_url="http://127.0.0.1:9")
    assert flagged.shown_endpoint == "http://127.0.0.1:9"

    facts = header_facts("wavedeck", [env], FleetState(), datetime.now(UTC))
    assert [name for _, name, _ in facts.targets] == ["prod/us-east-1 @ http://127.0.0.1:4566"]
