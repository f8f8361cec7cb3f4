"""Runs the sandbox: moto's server app on a local port, with the engine and the patches plugged in.

`SandboxServer.start()` binds the port (a port in use is a SandboxError, not a traceback), installs the
CodePipeline engine and the Step Functions patches into moto, turns on moto's real Step Functions
execution, seeds the fleet from the definitions over HTTP, then starts the engine's clock and the traffic.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server

from console.errors import WavedeckError
from console.sandbox.clock import SandboxClock
from console.sandbox.fleet.definitions import Fleet
from console.sandbox.server_constants import ACCOUNT_ID

if TYPE_CHECKING:
    from console.sandbox.keep_alive import Connections  # it imports moto, which only a started sandbox needs

LOG = logging.getLogger(__name__)


class SandboxError(WavedeckError):
    """The sandbox cannot start (port in use, a definition moto refuses)."""


class StartAborted(WavedeckError):
    """A stop was requested (Ctrl-C, SIGTERM) while the sandbox was still seeding or warming up."""


@dataclass(frozen=True)
class SandboxOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    speed: float = 1.0
    seed: int = 0
    traffic: bool = True
    warm_up: bool = True
    latency: float = 0.0  # milliseconds added to every answer once ready (console/sandbox/latency.py)
    quotas: bool = False  # AWS's request throttling once ready (console/sandbox/quotas.py)


class SandboxServer:
    """The embedded AWS endpoint with deployments that really run."""

    def __init__(self, fleet: Fleet, options: SandboxOptions, on_phase: Callable[[str], None] | None = None) -> None:
        self.fleet = fleet
        self.options = options
        # Told what a long start is doing (seeding, warming up), so a person never looks at a silent terminal.
        self._on_phase = on_phase or (lambda phase: None)
        self.clock = SandboxClock(options.speed)
        self._server: BaseWSGIServer | None = None
        self._connections: Connections | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self.engine: object | None = None
        self.traffic: object | None = None
        self.retention: object | None = None
        self.timings: dict[str, float] = {}  # seconds spent seeding, warming up, and until ready
        self.abort = threading.Event()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.server_address[1]
        return f"http://{self.options.host}:{port}"

    def start(self) -> str:
        """Bind, plug in, seed, and start the clock. Returns the endpoint URL."""
        began = time.perf_counter()
        # The port first: a port in use is said at once, before seconds of importing moto and checking.
        listener = self._listen()
        try:
            # Imported here: moto is heavy, and only the sandbox process needs it.
            from moto.core.config import default_user_config
            from moto.moto_server.werkzeug_app import create_backend_app

            from console.sandbox.codepipeline import api as codepipeline_api
            from console.sandbox.codepipeline.engine import PipelineEngine
            from console.sandbox.dispatch import Dispatcher
            from console.sandbox.keep_alive import BodyFirst, Connections, keep_alive_handler
            from console.sandbox.latency import Latency
            from console.sandbox.moto_patches import method_names
            from console.sandbox.queue_retention import QueueRetention
            from console.sandbox.quotas import Quotas
            from console.sandbox.seed import check_definitions, create_events_rules, seed_fleet
            from console.sandbox.stepfunctions import patch as stepfunctions_patch
            from console.sandbox.traffic import Traffic

            # A definition moto would refuse is the operator's to fix, file and line.
            check_definitions(self.fleet)
            # One line per request on stderr would drown what the sandbox has to say.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            quotas = Quotas(Dispatcher(create_backend_app), self.options.quotas)
            app = Latency(quotas, self.options.latency)
            # Each client's connection stays open between its requests, as AWS's do (console/sandbox/keep_alive.py).
            self._connections = Connections()
            self._server = make_server(
                self.options.host,
                self.options.port,
                BodyFirst(app),
                threaded=True,
                request_handler=keep_alive_handler(self._connections),
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # werkzeug serves on its own duplicate of the socket
        port = self._server.server_address[1]
        # moto's Step Functions service integrations call back into this server on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        default_user_config["stepfunctions"] = {"execute_state_machine": True}

        engine = PipelineEngine(self.clock, account_id=ACCOUNT_ID, seed=self.options.seed)
        self.engine = engine
        codepipeline_api.install(engine)
        stepfunctions_patch.install(self.clock)
        method_names.install()  # after the last patch of a response class

        server = self._server
        # A short poll: shutdown() waits for the loop to notice, and Ctrl-C should feel immediate.
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.1), name="sandbox-http", daemon=True
        )
        self._thread.start()
        try:
            fleet = self.fleet
            self._on_phase(f"seeding {len(fleet.pipelines)} pipelines and {len(fleet.state_machines)} state machines")
            seed_fleet(self.url, self.fleet, engine, seed=self.options.seed, check=False, abort=self.abort)
            self.timings["seed"] = time.perf_counter() - began
            traffic = Traffic(self.url, self.fleet, engine, self.clock, seed=self.options.seed)
            self.traffic = traffic
            if self.abort.is_set():
                raise StartAborted("stopped while seeding")
            if self.options.warm_up and self.fleet.traffic.warm_up > 0:
                self._on_phase(f"warming up: {self.fleet.traffic.warm_up / 60:g} minutes of history")
                if traffic.warm_up().aborted:
                    raise StartAborted("stopped while warming up")
                self.timings["warm_up"] = time.perf_counter() - began - self.timings["seed"]
            create_events_rules(self.url, self.fleet)
            retention = QueueRetention(self.fleet.regions)
            self.retention = retention
            retention.start()
            engine.start()
            if self.options.traffic:
                traffic.start()
        except BaseException:
            self.stop()
            raise
        quotas.start()
        app.start()
        self.timings["ready"] = time.perf_counter() - began
        return self.url

    def _listen(self) -> socket.socket:
        """Bind the port ourselves: werkzeug, given a port in use, prints its own lines and exits the process."""
        host, port = self.options.host, self.options.port
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            listener = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        try:
            # As socketserver does: a port left in TIME_WAIT by a sandbox that just stopped is free to use.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            if exc.errno == errno.EADDRINUSE:
                problem = f"port {port} is already in use"
            else:
                problem = str(exc.strerror or exc)
            hint = "choose another port with --port, or --port 0 for any free one"
            raise SandboxError(f"cannot listen on {host}:{port}: {problem} ({hint})") from None
        return listener

    def request_stop(self) -> None:
        """Ask a start in progress to give up at its next step; safe to call from a signal handler."""
        self.abort.set()
        cancel = getattr(self.traffic, "cancel", None)
        if cancel is not None:
            cancel()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for part in (self.traffic, self.engine, self.retention):
            stop = getattr(part, "stop", None)
            if stop is not None:
                stop()
        if self._server is not None:
            # shutdown() waits for serve_forever to acknowledge: never ask a loop that did not start (a start
            # that failed between binding and serving), or the stop waits forever.
            if self._thread is not None and self._thread.is_alive():
                self._server.shutdown()
            self._server.server_close()
        if self._connections is not None:
            self._connections.close_all()  # a stopped sandbox answers no one on a connection kept open
        if self._thread is not None:
            self._thread.join(timeout=5)
