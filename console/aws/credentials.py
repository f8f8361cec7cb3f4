"""Sessions for a target, with credentials from botocore's chain only, and how to refresh them.

Credentials come from where the AWS CLI finds them (environment, profiles, SSO, `aws login`,
credential_process, container and instance roles) through aiobotocore's own providers. A target's optional
`role_arn` is assumed on top with aiobotocore's assume-role fetcher and refreshable credentials, so a
long-running console keeps working past the role session's hour. A sandbox target signs with fixed
dummy keys: the sandbox accepts any.

When credentials run out, `refresh_hint` turns the target's configuration into the one sentence that
tells the operator what to run.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentialResolver,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.credentials import CredentialProvider
from botocore.exceptions import NoCredentialsError, ProfileNotFound
from botocore.loaders import Loader

from console.model import Target

SANDBOX_KEY = "sandbox"  # any key works against the sandbox; this one says where it came from


@dataclass(frozen=True, slots=True)
class CredentialSource:
    """How a target gets its credentials, as far as its configuration says (nothing is loaded for this).

    kind: sandbox | sso | login | process | env | session | static | assume-role | instance | unknown
    `profile` is the profile that holds the refreshable part (for a role chain, the source profile).
    """

    kind: str
    profile: str | None
    detail: str = ""


def describe_source(target: Target, env: Mapping[str, str] | None = None) -> CredentialSource:
    """Work out from the target and the AWS config files where its credentials come from."""
    env = os.environ if env is None else env
    if target.sandbox:
        return CredentialSource("sandbox", None)
    profile = target.profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    if profile is None and env.get("AWS_ACCESS_KEY_ID"):
        return CredentialSource("session" if env.get("AWS_SESSION_TOKEN") else "env", None)
    try:
        profiles: Mapping[str, Mapping[str, Any]] = AioSession().full_config.get("profiles", {})
    except Exception:  # an unreadable config file is reported when credentials are loaded
        profiles = {}
    name = profile or "default"
    seen: set[str] = set()
    # Follow a role chain down to the profile whose credentials expire (role sessions refresh by themselves).
    while name in profiles and name not in seen:
        seen.add(name)
        config = profiles[name]
        if config.get("sso_session") or config.get("sso_start_url"):
            return CredentialSource("sso", name)
        if config.get("login_session"):
            return CredentialSource("login", name)
        if config.get("credential_process"):
            return CredentialSource("process", name, program_name(str(config["credential_process"])))
        source = config.get("source_profile")
        if config.get("role_arn") and isinstance(source, str):
            name = source
            continue
        if config.get("role_arn") and config.get("credential_source"):
            return CredentialSource("instance", name, str(config["credential_source"]))
        if config.get("aws_session_token"):
            return CredentialSource("session", name)
        if config.get("aws_access_key_id"):
            return CredentialSource("static", name)
        break
    if profile is None:
        return CredentialSource("unknown", None)
    return CredentialSource("unknown", name)


def program_name(command_line: str) -> str:
    """The program a credential_process runs, without its arguments, which often hold a client secret."""
    try:
        words = shlex.split(command_line)
    except ValueError:
        words = command_line.split()
    return os.path.basename(words[0]) if words else "?"


def refresh_hint(source: CredentialSource) -> str:
    """The sentence that tells the operator how to get fresh credentials for this source."""
    flag = f" --profile {source.profile}" if source.profile and source.profile != "default" else ""
    carry_on = "wavedeck carries on by itself once they are fresh."
    if source.kind == "sso":
        return f"Run `aws sso login{flag}`; {carry_on}"
    if source.kind == "login":
        return f"Run `aws login{flag}`; {carry_on}"
    if source.kind == "process":
        return (
            f"The credential_process of profile {source.profile} ({source.detail}) gave no valid credentials: "
            f"sign in again with the tool it runs; {carry_on}"
        )
    if source.kind in ("env", "session") and source.profile is None:
        return (
            "The credentials in the AWS_* environment variables have expired: export fresh ones "
            "(for example with `eval $(aws configure export-credentials --profile NAME --format env)`) "
            "and start wavedeck again, since a running program cannot see a changed environment."
        )
    if source.kind in ("session", "static"):
        return (
            f"Write fresh keys for profile {source.profile} into the shared credentials file "
            f"(for example by re-running the tool that wrote them); {carry_on}"
        )
    if source.kind == "instance":
        return f"The {source.detail} credentials of profile {source.profile} could not be refreshed; {carry_on}"
    return f"Refresh your AWS credentials (for example `aws sso login{flag}` or `aws login{flag}`); {carry_on}"


class _AssumedRoleProvider(CredentialProvider):
    """Hands the session the refreshable credentials of the target's role (aiobotocore refreshes them)."""

    METHOD = "assume-role"
    CANONICAL_NAME = "wavedeck-assume-role"

    def __init__(self, credentials: AioDeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    async def load(self) -> AioDeferredRefreshableCredentials:
        return self._credentials


# botocore's service models (every API's shapes, the endpoints) as loaded, shared by every session: each session
# otherwise loads and keeps its own copy, 9 MB per target for the four services the console speaks (72 MB of a
# console watching 8 targets). By data path, which a profile's `data_path` can change.
_LOADERS: dict[str | None, Loader] = {}


# The endpoint prefixes of the services a console's sessions make clients for: the gateway's (CodePipeline,
# Step Functions, SQS, SNS, EventBridge, STS) and the credential providers' (IAM Identity Center: `sso`,
# `sso-oidc`). tests/core/test_session_models.py checks them against botocore's service models.
ENDPOINT_PREFIXES = frozenset({"codepipeline", "states", "sqs", "sns", "events", "sts", "portal.sso", "oidc"})


class _ConsoleLoader(Loader):
    """botocore's loader with `endpoints` (every service's endpoints in every partition: 7 MB once parsed) kept
    for the console's services only. The legacy endpoint resolver reads it for a client's signing region and
    name; a service it does not list resolves with its partition's defaults, as a service newer than the file
    does, and the URL itself comes from each service's endpoint rules."""

    def load_data_with_path(self, name: str) -> Any:
        if name != "endpoints":
            return super().load_data_with_path(name)
        # botocore's `instance_cache` (its `_cache`, by this key): the pruned copy replaces the whole one.
        cache: dict[tuple[str, ...], Any] = self._cache  # type: ignore[attr-defined]
        key = ("load_data_with_path", name)
        cached = cache.get(key)
        if cached is None:
            data, path = super().load_data_with_path(name)
            cached = cache[key] = (_only_console_services(data), path)
        return cached


def _only_console_services(endpoints: Any) -> Any:
    partitions = [
        {**partition, "services": {k: v for k, v in partition["services"].items() if k in ENDPOINT_PREFIXES}}
        for partition in endpoints.get("partitions", ())
        if isinstance(partition, Mapping) and isinstance(partition.get("services"), Mapping)
    ]
    return {**endpoints, "partitions": partitions}


def _loader(data_path: str | None) -> Loader:
    """`create_loader`'s loader (the data paths of AWS_DATA_PATH or the profile's `data_path`), as _ConsoleLoader."""
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in (data_path or "").split(os.pathsep) if p]
    return _ConsoleLoader(extra_search_paths=paths)


def _new_session(profile: str | None) -> AioSession:
    session = AioSession(profile=profile)
    data_path = session.get_config_variable("data_path")
    loader = _LOADERS.get(data_path)
    if loader is None:
        loader = _LOADERS[data_path] = _loader(data_path)
    session.register_component("data_loader", loader)
    return session


def open_session(target: Target, config: AioConfig, prepare: Callable[[AioSession], None]) -> AioSession:
    """The session the gateway's clients come from. `prepare` is called on every session made here (the
    source session of an assumed role too), before any client exists, to register event hooks.

    Raises botocore's ProfileNotFound for a profile missing from the config files (the gateway translates it).
    """
    source = _new_session(target.profile)
    prepare(source)
    if target.profile:
        source.get_scoped_config()  # fail now, not at the first request, when the profile does not exist
    if target.sandbox:
        source.set_credentials(SANDBOX_KEY, SANDBOX_KEY)
    if not target.role_arn:
        return source
    role_arn = target.role_arn

    def sts_creator(service_name: str, **kwargs: Any) -> Any:
        # The STS client that calls AssumeRole: same region and endpoint as the target's other clients.
        create_client: Any = source.create_client  # the stubs type it per literal service name
        return create_client(
            service_name, region_name=target.region, endpoint_url=target.endpoint_url, config=config, **kwargs
        )

    fetchers: list[AioAssumeRoleCredentialFetcher] = []

    async def fetch() -> Any:
        # Made on first use: the source credentials are only looked up when the first request is signed.
        if not fetchers:
            source_credentials = await source.get_credentials()
            if source_credentials is None:
                raise NoCredentialsError()
            fetchers.append(
                AioAssumeRoleCredentialFetcher(
                    client_creator=sts_creator,
                    source_credentials=source_credentials,
                    role_arn=role_arn,
                    extra_args={"RoleSessionName": f"wavedeck-{int(time.time())}"},
                )
            )
        return await fetchers[0].fetch_credentials()

    session = _new_session(target.profile)
    prepare(session)
    credentials = AioDeferredRefreshableCredentials(refresh_using=fetch, method="assume-role")
    session.register_component("credential_provider", AioCredentialResolver([_AssumedRoleProvider(credentials)]))
    return session


__all__ = [
    "CredentialSource",
    "ProfileNotFound",
    "describe_source",
    "open_session",
    "refresh_hint",
]


def profile_region(profile: str | None) -> str | None:
    """The region the AWS config gives a profile (or the environment, for the default profile), if any."""
    try:
        session = AioSession(profile=profile) if profile else AioSession()
        region = session.get_config_variable("region")
    except (ProfileNotFound, OSError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - an unreadable config file is reported when credentials are loaded
        return None
    return str(region) if region else None


def configured_endpoint(profile: str | None) -> str | None:
    """The endpoint botocore will use for CodePipeline or Step Functions when the target names none: from
    `AWS_ENDPOINT_URL(_SERVICE)` in the environment or the profile's `endpoint_url`, or None for AWS's own.

    The header must say when the console is not talking to AWS, however the endpoint was chosen.
    """
    from botocore.configprovider import ConfiguredEndpointProvider

    try:
        session = AioSession(profile=profile) if profile else AioSession()
        if session.get_config_variable("ignore_configured_endpoint_urls"):
            return None
        for service in ("codepipeline", "stepfunctions"):
            provider = ConfiguredEndpointProvider(session.full_config, session.get_scoped_config(), service)
            url = provider.provide()
            if url:
                return str(url)
    except Exception:  # noqa: BLE001 - an unreadable config file is reported when credentials are loaded
        return None
    return None
