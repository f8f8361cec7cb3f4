"""The sandbox's request dispatcher finds each host's moto backend once, and the same one moto would.

moto's own dispatcher lists its package directory on every request, under a lock every request waits for
(console/sandbox/dispatch.py says what that cost a team of consoles).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from console.sandbox.dispatch import Dispatcher

HOSTS = (
    "sqs.us-east-1.amazonaws.com",
    "sns.us-west-2.amazonaws.com",
    "events.us-east-1.amazonaws.com",
    "codepipeline.us-east-1.amazonaws.com",
    "states.us-west-2.amazonaws.com",
    "sts.us-east-1.amazonaws.com",
    "moto_api",
    "sqs",
)


def test_each_host_is_resolved_once_as_moto_resolves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    listings = []
    listing = backends.list_of_moto_modules

    def counted() -> Iterable[str]:
        listings.append(1)
        return listing()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    moto_own = DomainDispatcherApplication(create_backend_app)
    expected = {host: moto_own.get_backend_for_host(host) for host in HOSTS}
    assert len(listings) == len(HOSTS) - 1  # moto lists its modules for every host but its own API's
    listings.clear()
    dispatcher = Dispatcher(create_backend_app)
    for _ in range(3):
        assert {host: dispatcher.get_backend_for_host(host) for host in HOSTS} == expected
    assert len(listings) == len(HOSTS) - 1  # once per host, not per request
    assert dispatcher.get_backend_for_host(None) is None
