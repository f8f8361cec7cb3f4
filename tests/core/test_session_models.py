"""The sessions' shared loader keeps botocore's `endpoints` data for the console's services only
(console/aws/credentials.py `_ConsoleLoader`). What it relies on in botocore: the session reads `endpoints`
through `Loader.load_data_with_path` (its `endpoint_resolver` component), the loader's `instance_cache` keys
that call as `("load_data_with_path", "endpoints")`, and a client's signing region and name come from the
resolver. If botocore moves any of these, a test here says which."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiobotocore.session import AioSession
from botocore.loaders import Loader

from console.aws import credentials

# Every service a console's sessions make a client of: the gateway's and the credential providers'.
SERVICES = ("codepipeline", "stepfunctions", "sqs", "sns", "events", "sts", "sso", "sso-oidc")
# A region of each partition botocore knows, the global STS endpoint's, and one of a partition it may not.
REGIONS = ("us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1", "us-iso-east-1", "aws-global", "xx-new-9")


def test_every_service_of_the_console_keeps_its_endpoints() -> None:
    loader = Loader()
    prefixes = {loader.load_service_model(s, "service-2")["metadata"]["endpointPrefix"] for s in SERVICES}
    assert prefixes == credentials.ENDPOINT_PREFIXES


def _client_facts(session: AioSession, service: str, region: str, endpoint_url: str | None) -> tuple[Any, ...]:
    async def facts() -> tuple[Any, ...]:
        create: Any = session.create_client
        async with create(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="x",
        ) as client:
            signer = client._request_signer
            return (client.meta.endpoint_url, client.meta.region_name, signer._signing_name, signer.region_name)

    return asyncio.run(facts())


@pytest.mark.parametrize("endpoint_url", [None, "http://127.0.0.1:4566"])
def test_clients_resolve_as_with_botocores_own_loader(endpoint_url: str | None) -> None:
    ours = credentials._new_session(None)
    theirs = AioSession()
    for service in SERVICES:
        for region in REGIONS:
            assert _client_facts(ours, service, region, endpoint_url) == _client_facts(
                theirs, service, region, endpoint_url
            ), (service, region)


def test_the_shared_loader_keeps_one_small_copy_of_the_endpoints() -> None:
    session = credentials._new_session(None)
    loader = session.get_component("data_loader")
    assert isinstance(loader, credentials._ConsoleLoader)
    data, _ = loader.load_data_with_path("endpoints")
    assert data is loader.load_data_with_path("endpoints")[0]  # parsed and pruned once
    assert loader._cache[("load_data_with_path", "endpoints")][0] is data  # botocore's cache holds the pruned copy
    kept = {service for partition in data["partitions"] for service in partition["services"]}
    assert kept <= credentials.ENDPOINT_PREFIXES
    assert {"codepipeline", "states"} <= kept
    full, _ = Loader().load_data_with_path("endpoints")
    assert [p["partition"] for p in data["partitions"]] == [p["partition"] for p in full["partitions"]]
    services = sum(len(p["services"]) for p in data["partitions"])
    assert sum(len(p["services"]) for p in full["partitions"]) > 10 * services
    # The session's resolver reads the pruned copy.
    resolver = session._get_internal_component("endpoint_resolver")
    assert resolver._endpoint_data is data
