"""Shared fixtures: an isolated AWS environment for every test, and a sandbox reached over real HTTP.

No test sees the machine's AWS credentials, config files or endpoints: the autouse fixture clears every
`AWS_*` variable and points the config files at empty temporary files. Clients reach the sandbox with
dummy keys and an explicit endpoint.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from console.sandbox_process import SandboxProcess, start_sandbox_process

# Tests run the sandbox fast: a 10 s action takes a quarter of a second.
SPEED = 40.0
REGION = "us-east-1"

# Tests press Ctrl-C (SIGINT) in the console's own processes. A shell that starts the suite in the background
# (`make test &`) makes it ignore SIGINT, and every child inherits that: Python then never installs its Ctrl-C
# handler, and those tests wait in vain. The suite's processes take Ctrl-C however they were started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail the test with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what or condition!r} (last: {last!r})")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    """One sandbox for the session: the bundled fleet, no traffic, no warm-up, at test speed."""
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False) as process:
        yield process


@pytest.fixture(scope="module")
def bundled_sandbox() -> Iterator[SandboxProcess]:
    """This module's own sandbox of the bundled fleet (no traffic, no warm-up): only the bundled fleet and what
    this module's tests create. A test whose watcher must read everything (a first full picture, every
    fault used) runs here: the session's sandbox gathers every state machine the suite made before, and a
    console reads each one's ListExecutions at 1/s."""
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False) as process:
        yield process


def make_client(url: str, service: str, region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )


@pytest.fixture
def aws(sandbox: SandboxProcess) -> Callable[..., Any]:
    """`aws("codepipeline")` → a boto3 client for the session sandbox."""

    def factory(service: str, region: str = REGION) -> Any:
        return make_client(sandbox.url, service, region)

    return factory


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
