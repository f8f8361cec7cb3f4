"""The only package of the console that imports aiobotocore/botocore: the gateway, its errors, its faults."""

from __future__ import annotations

from console.aws.gateway import Gateway, GatewayOptions

__all__ = ["Gateway", "GatewayOptions"]
