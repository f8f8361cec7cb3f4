"""The sandbox starts as a child process, speaks AWS over HTTP and holds the bundled fleet."""

from __future__ import annotations

from typing import Any


def test_sandbox_serves_the_bundled_fleet(aws: Any) -> None:
    names = {p["name"] for p in aws("codepipeline").list_pipelines()["pipelines"]}
    assert {"checkout-api", "payments-api", "catalog-service", "search-indexer", "identity-service"} <= names
    assert "edge-router" in {p["name"] for p in aws("codepipeline", "us-west-2").list_pipelines()["pipelines"]}
    machines = {m["name"] for m in aws("stepfunctions").list_state_machines()["stateMachines"]}
    assert {"wave-deployment", "distributed-load-test", "wave-rollback"} <= machines
