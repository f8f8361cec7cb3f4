"""The sandbox fails fast and says why, and stops within 3 seconds in every phase, leaving nothing behind.

Each failure is made real in a child interpreter: a port another process holds, an import that fails (a
finder installed before `wavedeck` runs, as a moto release whose internals moved would fail), the sandbox's
packages absent (`sys.modules[name] = None`, what Python does for a module that cannot be imported).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.sandbox_process import INSTALL_HINT, STOP_TIMEOUT, SandboxStartError, start_sandbox_process
from tests.conftest import SPEED, wait_until

# Runs `wavedeck ARGS…` after making the modules named in WAVEDECK_TEST_ABSENT absent and those in
# WAVEDECK_TEST_BROKEN fail to import.
PRELUDE = textwrap.dedent(
    """
    import os, runpy, sys
    from importlib.abc import MetaPathFinder

    for name in filter(None, os.environ.get("WAVEDECK_TEST_ABSENT", "").split(",")):
        sys.modules[name] = None
    broken = set(filter(None, os.environ.get("WAVEDECK_TEST_BROKEN", "").split(",")))

    class Broken(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in broken:
                raise ImportError(f"cannot import name 'AWSError' from {name!r} (simulated)")
            return None

    sys.meta_path.insert(0, Broken())
    sys.argv = ["wavedeck", *sys.argv[1:]]
    runpy.run_module("console", run_name="__main__")
    """
)


def _wavedeck(*args: str, absent: str = "", broken: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "WAVEDECK_TEST_ABSENT": absent, "WAVEDECK_TEST_BROKEN": broken, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", PRELUDE, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(process: subprocess.Popen[str], within: float) -> tuple[str, str, float]:
    """Wait at most `within` seconds for the process to end; its output and how long it took."""
    began = time.monotonic()
    try:
        out, err = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"still running after {within:g}s; it printed:\n{err}")
    return out, err, time.monotonic() - began


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        yield held.getsockname()[1]


def test_a_port_in_use_exits_1_within_seconds_naming_the_port(taken_port: int) -> None:
    process = _wavedeck("sandbox", "--port", str(taken_port), "--no-traffic", "--no-warm-up")
    out, err, _ = _finish(process, within=10)
    assert process.returncode == 1
    assert out == ""
    assert "Traceback" not in err
    assert err.strip() == (
        f"wavedeck: cannot listen on 127.0.0.1:{taken_port}: port {taken_port} is already in use "
        "(choose another port with --port, or --port 0 for any free one)"
    )


@pytest.mark.parametrize(
    "module",
    [
        "moto.moto_server.werkzeug_app",  # imported before the server exists
        # first imported by the Step Functions patches, once the server exists: where moto 5.2.6 broke the start
        "moto.stepfunctions.parser.backend.execution_worker",
    ],
)
def test_an_import_that_fails_is_one_sentence_and_exit_1_not_a_hang(module: str) -> None:
    process = _wavedeck("sandbox", "--port", "0", "--no-traffic", "--no-warm-up", broken=module)
    out, err, _ = _finish(process, within=10)
    assert process.returncode == 1, err
    assert out == "", "no URL: the sandbox never became ready"
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("wavedeck: the sandbox cannot start: ImportError: cannot import name 'AWSError'"), err
    assert "(simulated)" in last
    assert "(at " in last, "the sentence says where the import failed"


def test_without_the_sandbox_extra_both_commands_say_what_to_install() -> None:
    absent = "moto,flask,werkzeug,boto3"
    for args in (["sandbox", "--port", "0"], ["--sandbox"]):
        process = _wavedeck(*args, absent=absent)
        out, err, _ = _finish(process, within=10)
        assert process.returncode == 1, (args, err)
        assert "Traceback" not in err
        assert err.strip() == (
            f"wavedeck: the sandbox needs moto, flask, werkzeug, boto3, which this install lacks: {INSTALL_HINT}"
        ), args


@pytest.fixture(scope="module")
def slow_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fleet that takes seconds to seed (150 pipelines), so a signal lands in the middle of it."""
    from console.sandbox.fleetgen import write_fleet

    directory = tmp_path_factory.mktemp("fleet-150")
    write_fleet(directory, pipelines=150, state_machines=20)
    return directory


@pytest.mark.parametrize("phase", ["seeding", "warming up"])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_while_starting_stops_it_within_3_seconds(slow_fleet: Path, phase: str, stop: signal.Signals) -> None:
    process = _wavedeck("sandbox", "--port", "0", "--definitions", str(slow_fleet), "--speed", str(SPEED))
    assert process.stderr is not None
    try:
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.startswith(f"wavedeck sandbox: {phase}"):
                break
        else:
            pytest.fail(f"never said it was {phase}: {''.join(seen)}")
        process.send_signal(stop)
        out, err, took = _finish(process, within=STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert took < STOP_TIMEOUT
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "wavedeck sandbox: stopped" in err


def test_a_signal_while_serving_stops_it_within_3_seconds() -> None:
    process = _wavedeck("sandbox", "--port", "0", "--speed", str(SPEED))
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        process.send_signal(signal.SIGTERM)
        _, err, took = _finish(process, within=STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert took < STOP_TIMEOUT
    assert process.returncode == 0
    assert err.rstrip().endswith("wavedeck sandbox: stopped")
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        # Nothing listens there any more (SO_REUSEADDR, as any server sets it: the connections the sandbox
        # served may linger in TIME_WAIT, a listener may not).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_the_console_child_stops_within_3_seconds_when_the_console_lets_go() -> None:
    child = start_sandbox_process(speed=SPEED)
    began = time.monotonic()
    code = child.stop()
    assert time.monotonic() - began < STOP_TIMEOUT
    assert code == 0, child.stderr_tail()
    assert not child.running


def test_the_console_child_ends_within_3_seconds_of_a_console_that_was_killed(tmp_path: Path) -> None:
    # A console killed with SIGKILL runs no cleanup at all: its child sees standard input close, and ends.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from console.sandbox_process import start_sandbox_process\n"
            f"child = start_sandbox_process(speed={SPEED!r})\n"
            "print(child.process.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait()
        began = time.monotonic()
        wait_until(lambda: not _alive(pid), timeout=STOP_TIMEOUT, what="the orphaned sandbox to end")
        assert time.monotonic() - began < STOP_TIMEOUT
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_child_that_cannot_start_is_reported_with_its_own_sentence(taken_port: int) -> None:
    from console.sandbox_process import sandbox_command

    assert "--port" in sandbox_command()
    with pytest.raises(SandboxStartError) as raised:
        start_sandbox_process(port=taken_port, traffic=False, warm_up=False, timeout=10)
    assert str(raised.value) == (
        f"cannot listen on 127.0.0.1:{taken_port}: port {taken_port} is already in use "
        "(choose another port with --port, or --port 0 for any free one) (the sandbox exited with code 1)"
    )


def _alive(pid: int) -> bool:
    """Whether `pid` is still a running process (a zombie left for init to reap counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False
