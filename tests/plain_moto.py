"""moto as shipped, in a child process: `python -m tests.plain_moto` prints its URL and serves until stdin closes.

None of the sandbox's patches are loaded here (no engine, no Step Functions or events patches): this is the
AWS-compatible endpoint that implements only part of CodePipeline (GetPipelineState answers HTTP 500) and
whose Step Functions histories end while the execution still says RUNNING. The console must stay honest on it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def plain_moto_server() -> Iterator[str]:
    """Start plain moto as a child process; yield its URL; stop it by closing its stdin."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.plain_moto"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"plain moto did not start (said {url!r}, exit {process.poll()})")
        yield url
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
