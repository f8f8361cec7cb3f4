"""Every AWS client of the console that verifies alike shares one TLS context (console/aws/tls.py), and one that
verifies otherwise never gets another's.

What it relies on in aiobotocore and aiohttp, named so that a test here says which moved: `AioConfig` takes
`http_session_cls`; `AIOHTTPSession._build_ssl_contexts(proxy_url)` builds a client's contexts (from `_verify`,
`_cert_file` and `_key_file`) when its first request makes the connector; the client's session is
`client._endpoint.http_session`, its aiohttp sessions by proxy in `_sessions`, and the connector's context in
`TCPConnector._ssl`.
"""

from __future__ import annotations

import ssl
from dataclasses import replace
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from console.aws import Gateway
from console.aws.tls import SharedTlsSession
from console.sandbox_process import SandboxProcess
from tests.core.test_gateway_errors import sandbox_target


def tls_context(client: Any) -> ssl.SSLContext:
    session = client._endpoint.http_session
    assert isinstance(session, SharedTlsSession)
    (aiohttp_session,) = session._sessions.values()
    context = aiohttp_session.connector._ssl
    assert isinstance(context, ssl.SSLContext)
    return context


async def test_every_client_of_every_target_shares_one_context(sandbox: SandboxProcess) -> None:
    east = sandbox_target(sandbox)
    west = replace(east, name="west", region="us-west-2")
    async with Gateway(east) as first, Gateway(west) as second:
        await first.list_pipelines()
        await first.list_state_machines()
        await second.list_pipelines()
        await second.caller_identity()
        clients = [c for g in (first, second) for c in (g._connection.clients.values() if g._connection else ())]
        contexts = {id(tls_context(c)) for c in clients}
        verifying = tls_context(clients[0])
    assert len(clients) == 4
    assert len(contexts) == 1
    # The shared one verifies as botocore's default does: the peer's certificate and its host name.
    assert verifying.verify_mode is ssl.CERT_REQUIRED
    assert verifying.check_hostname


async def test_a_client_that_verifies_otherwise_has_its_own_context(sandbox: SandboxProcess) -> None:
    config = AioConfig(http_session_cls=SharedTlsSession)
    create: Any = AioSession().create_client
    keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "x", "region_name": "us-east-1"}
    async with (
        create("codepipeline", endpoint_url=sandbox.url, config=config, **keys) as verifying,
        create("codepipeline", endpoint_url=sandbox.url, config=config, verify=False, **keys) as trusting,
        create("stepfunctions", endpoint_url=sandbox.url, config=config, verify=False, **keys) as also_trusting,
    ):
        for client in (verifying, trusting):
            await client.list_pipelines()
        await also_trusting.list_state_machines()
        checked, unchecked, unchecked_too = (tls_context(c) for c in (verifying, trusting, also_trusting))
    assert checked is not unchecked
    assert checked.verify_mode is ssl.CERT_REQUIRED
    assert unchecked.verify_mode is ssl.CERT_NONE
    assert not unchecked.check_hostname
    assert unchecked_too is unchecked
