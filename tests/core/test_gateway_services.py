"""The gateway is made of one module per AWS service: every service it inherits declares its reads and its
writes unsafe to resend, and what they declare is what the gateway allows and guards."""

from __future__ import annotations

from console.aws.calls import ServiceCalls
from console.aws.gateway import READ_OPERATIONS, SERVICE_CALLS, UNSAFE_TO_RESEND, EveryServiceCalls, Gateway


def test_every_service_the_gateway_inherits_is_listed_and_declares_its_reads() -> None:
    inherited = {base for base in Gateway.__mro__ if base is not ServiceCalls and issubclass(base, ServiceCalls)}
    inherited -= {Gateway, EveryServiceCalls}
    assert inherited == set(SERVICE_CALLS)
    for calls in SERVICE_CALLS:
        assert calls.READS, calls.__name__
        assert calls.READS <= READ_OPERATIONS


def test_no_write_unsafe_to_resend_is_on_the_read_only_allow_list() -> None:
    for calls in SERVICE_CALLS:
        for service_id, operations in calls.UNSAFE_TO_RESEND.items():
            assert UNSAFE_TO_RESEND[service_id] == operations
            assert not set(operations) & READ_OPERATIONS, calls.__name__
