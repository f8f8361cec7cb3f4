"""Credentials from botocore's chain only: profiles and endpoints from AWS config files, assumed roles, SSO,
credential_process, no credentials at all, and recovery once expired credentials are fresh again.

The autouse fixture in tests/conftest.py has already cleared AWS_* and pointed the config files at empty
temporary files; these tests write their own into a temporary directory.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from console.aws import Gateway, GatewayOptions
from console.aws.credentials import CredentialSource, describe_source, refresh_hint
from console.aws.faults import Fault
from console.errors import AwsError, ExpiredCredentials, NoCredentials
from console.model import Target
from console.sandbox.server_constants import ACCOUNT_ID
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION
from tests.core.test_gateway_codepipeline import fast_budget

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/wavedeck-operator"


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty AWS config and credentials files of this test (and a HOME with no SSO cache)."""
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("")
    credentials.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("HOME", str(tmp_path))
    return config, credentials


def gateway_for(target: Target) -> Gateway:
    return Gateway(target, budget=fast_budget(), options=GatewayOptions(max_attempts=1))


def access_key(request: Any) -> str:
    """The access key id a request was signed with."""
    header = request.headers.get("Authorization") or b""
    text = header.decode() if isinstance(header, bytes) else str(header)
    return text.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in text else ""


async def test_a_profile_and_its_endpoint_come_from_the_config_files(
    sandbox: SandboxProcess, aws_files: tuple[Path, Path]
) -> None:
    config, credentials = aws_files
    config.write_text(f"[profile dev]\nregion = {REGION}\nendpoint_url = {sandbox.url}\n")
    credentials.write_text("[dev]\naws_access_key_id = AKIADEVEXAMPLE\naws_secret_access_key = secret\n")
    signed: list[str] = []
    async with gateway_for(Target(name="dev", region=REGION, profile="dev")) as gateway:
        gateway.add_hook("before-send", lambda request, **_: signed.append(access_key(request)))
        assert "checkout-api" in {p.name for p in await gateway.list_pipelines()}
        assert gateway.credential_source == CredentialSource("static", "dev")
    assert signed == ["AKIADEVEXAMPLE"]


async def test_a_target_role_is_assumed_with_the_chains_credentials(
    sandbox: SandboxProcess, aws_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASOURCEEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    target = Target(name="ops", region=REGION, endpoint_url=sandbox.url, role_arn=ROLE)
    signed: list[tuple[str, str]] = []
    async with gateway_for(target) as gateway:
        gateway.add_hook(
            "before-send", lambda request, event_name, **_: signed.append((event_name, access_key(request)))
        )
        identity = await gateway.caller_identity()
        assert identity.arn.startswith(f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/wavedeck-operator/wavedeck-")
        assert identity.account == ACCOUNT_ID
        assert await gateway.caller_identity() is identity  # cached
        await gateway.list_state_machines()
        assert gateway.stats.requests["AssumeRole"] == 1  # the role's credentials are kept and reused
    # AssumeRole is signed with the source keys, everything else with the role's.
    assert signed[0] == ("before-send.sts.AssumeRole", "AKIASOURCEEXAMPLE")
    assert all(key not in ("", "AKIASOURCEEXAMPLE") for _, key in signed[1:])


async def test_a_role_chain_in_the_config_file_is_botocores_own(
    sandbox: SandboxProcess, aws_files: tuple[Path, Path]
) -> None:
    config, credentials = aws_files
    config.write_text(
        f"[profile base]\nregion = {REGION}\nendpoint_url = {sandbox.url}\n"
        f"[profile ops]\nregion = {REGION}\nrole_arn = {ROLE}\nsource_profile = base\nendpoint_url = {sandbox.url}\n"
    )
    credentials.write_text("[base]\naws_access_key_id = AKIABASEEXAMPLE\naws_secret_access_key = secret\n")
    async with gateway_for(Target(name="ops", region=REGION, profile="ops")) as gateway:
        identity = await gateway.caller_identity()
        assert ":assumed-role/wavedeck-operator/" in identity.arn
        assert gateway.credential_source == CredentialSource("static", "base")


async def test_no_credentials_anywhere_says_so_and_points_to_the_sandbox(sandbox: SandboxProcess) -> None:
    async with gateway_for(Target(name="bare", region=REGION, endpoint_url=sandbox.url)) as gateway:
        with pytest.raises(NoCredentials) as caught:
            await gateway.list_pipelines()
    message = caught.value.message
    assert "no AWS credentials were found" in message
    assert "--sandbox" in message
    assert caught.value.target == "bare"
    assert caught.value.operation == "ListPipelines"


async def test_a_broken_config_file_is_named(sandbox: SandboxProcess, aws_files: tuple[Path, Path]) -> None:
    config, _ = aws_files
    config.write_text("[profile dev\nregion = us-east-1\n")
    async with gateway_for(Target(name="dev", region=REGION, profile="dev")) as gateway:
        with pytest.raises(AwsError) as caught:
            await gateway.list_pipelines()
    assert str(config) in caught.value.message
    assert "AWS config file" in caught.value.message


async def test_a_missing_profile_is_named(sandbox: SandboxProcess, aws_files: tuple[Path, Path]) -> None:
    async with gateway_for(Target(name="x", region=REGION, profile="nowhere", endpoint_url=sandbox.url)) as gateway:
        with pytest.raises(NoCredentials, match="profile nowhere is not in your AWS config"):
            await gateway.list_pipelines()


async def test_an_sso_profile_without_a_login_asks_for_aws_sso_login(
    sandbox: SandboxProcess, aws_files: tuple[Path, Path]
) -> None:
    config, _ = aws_files
    config.write_text(
        f"[profile sso-dev]\nsso_session = corp\nsso_account_id = {ACCOUNT_ID}\nsso_role_name = Operator\n"
        f"region = {REGION}\nendpoint_url = {sandbox.url}\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.example/start\nsso_region = us-east-1\n"
    )
    async with gateway_for(Target(name="sso", region=REGION, profile="sso-dev")) as gateway:
        with pytest.raises(ExpiredCredentials) as caught:
            await gateway.list_pipelines()
    assert "`aws sso login --profile sso-dev`" in caught.value.message
    assert "carries on by itself" in caught.value.message


async def test_a_failing_credential_process_is_named(sandbox: SandboxProcess, aws_files: tuple[Path, Path]) -> None:
    config, _ = aws_files
    command = f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(3)' --client-secret S3CR3T-value"
    config.write_text(f"[profile proc]\ncredential_process = {command}\nendpoint_url = {sandbox.url}\n")
    async with gateway_for(Target(name="proc", region=REGION, profile="proc")) as gateway:
        with pytest.raises(ExpiredCredentials) as caught:
            await gateway.list_pipelines()
    message = caught.value.message
    assert f"credential_process of profile proc ({Path(sys.executable).name})" in message
    # The program and the profile, never its arguments (they often hold a secret).
    assert "S3CR3T" not in message
    assert "--client-secret" not in message
    assert "sys.exit" not in message
    assert "S3CR3T" not in gateway.credential_source.detail


async def test_expired_credentials_recover_once_the_file_holds_fresh_ones(
    sandbox: SandboxProcess, aws_files: tuple[Path, Path]
) -> None:
    config, credentials = aws_files
    config.write_text(f"[profile dev]\nregion = {REGION}\nendpoint_url = {sandbox.url}\n")
    credentials.write_text("[dev]\naws_access_key_id = AKIAOLDEXAMPLE\naws_secret_access_key = secret\n")
    # AWS refuses the old key, whichever call uses it.
    expired = Fault.aws_error(
        "ExpiredTokenException",
        "The security token included in the request is expired",
        when=lambda request: access_key(request) == "AKIAOLDEXAMPLE",
    )
    async with gateway_for(Target(name="dev", region=REGION, profile="dev")) as gateway:
        gateway.add_hook("before-send", expired)
        with pytest.raises(ExpiredCredentials) as caught:
            await gateway.list_state_machines()
        assert "Write fresh keys for profile dev" in caught.value.message
        assert "The security token included in the request is expired" in caught.value.message
        with pytest.raises(ExpiredCredentials):
            await gateway.list_state_machines()  # still the old key: still refused
        credentials.write_text("[dev]\naws_access_key_id = AKIANEWEXAMPLE\naws_secret_access_key = secret\n")
        assert await gateway.list_state_machines()  # no restart: a fresh session read the new key
        assert gateway.stats.sessions == 3
        assert expired.injected == 2


def test_refresh_hints_name_the_command_for_each_source() -> None:
    assert refresh_hint(CredentialSource("sso", "prod")).startswith("Run `aws sso login --profile prod`")
    assert refresh_hint(CredentialSource("sso", "default")).startswith("Run `aws sso login`;")
    assert refresh_hint(CredentialSource("login", "dev")).startswith("Run `aws login --profile dev`")
    assert "start wavedeck again" in refresh_hint(CredentialSource("session", None))
    target = Target(name="t", region=REGION)
    env = {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SESSION_TOKEN": "token"}
    assert describe_source(target, env) == CredentialSource("session", None)
    assert describe_source(Target(name="s", region=REGION, sandbox=True), env).kind == "sandbox"
