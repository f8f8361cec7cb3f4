"""One TLS context for every AWS client of the console that verifies alike.

aiobotocore's HTTP session builds a TLS context for each client, on its first request, and loads the whole CA
bundle into it: 0.8 MB of OpenSSL's memory a context, outside Python's. A console on 8 targets has 4 or 5
clients a target (CodePipeline, Step Functions, SQS, STS, SNS), so 30 MB went to 35 identical copies. A context
is only read once it is set up, and any number of connections may use one at once (OpenSSL's `SSL_CTX` is
shared by its connections), so every client with the same settings gets the same context here.

What makes two contexts alike: the bundle verified against (`verify`: True for botocore's default, a path for
`AWS_CA_BUNDLE` / `ca_bundle`, False for none) and the client certificate. A proxy's context is built as
aiobotocore builds it, per client: it depends on the proxy's own settings, and is rare.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

from aiobotocore.httpsession import AIOHTTPSession

_contexts: dict[tuple[object, ...], ssl.SSLContext] = {}
_lock = threading.Lock()  # contexts are built in a worker thread (aiobotocore's `asyncio.to_thread`)


class SharedTlsSession(AIOHTTPSession):
    """aiobotocore's HTTP session, with its TLS context shared by every client that verifies alike
    (`AioConfig(http_session_cls=SharedTlsSession)`)."""

    def _build_ssl_contexts(self, proxy_url: str | None) -> tuple[ssl.SSLContext, Any]:
        # Any: these are aiobotocore's own members (tests/core/test_tls_contexts.py names them), not in its stubs.
        own: Any = self
        build: Any = super()._build_ssl_contexts  # type: ignore[misc]
        if proxy_url:
            return build(proxy_url)  # type: ignore[no-any-return]
        key = (own._verify, own._cert_file, own._key_file)
        with _lock:
            context = _contexts.get(key)
            if context is None:
                context, _ = build(None)
                _contexts[key] = context
        return context, None


def shared_contexts() -> int:
    """How many TLS contexts the console's clients share (one per way of verifying)."""
    return len(_contexts)
