"""The sandbox keeps each client's connection open between requests, as AWS's endpoints do.

Werkzeug's server ends every answer with `Connection: close`: a client then opens a new TCP connection, and
the server a new thread, for every request. Against AWS a client sends request after request on the same
connection. A console reading 2,000 pipelines spent about a tenth of its I/O thread opening connections to the
sandbox, time it never spends against AWS, and it is the thread whose work competes with the keys for the
interpreter.

Two parts:
- `BodyFirst`, the outermost WSGI middleware, reads each request's body whole before the app sees it. An
  answer given without reading the body (a throttled request, an error) would otherwise leave the body's
  bytes on the connection, where the next request's line is expected: the reason Werkzeug closes.
- `keep_alive_handler` makes moto's request handler answer `Connection: keep-alive` instead, unless the
  client asked to close or speaks HTTP/1.0, and keeps Werkzeug from reading the next request as the rest of
  this one (after an answer it throws away what the connection still holds). It tracks the open
  connections: `Connections.close_all` ends them when the sandbox stops, so a stopped sandbox answers no one.

The touch points in Werkzeug (the header it sends, `http.server`'s `close_connection`, the read after an
answer in `run_wsgi`) are checked by tests/sandbox/test_keep_alive.py: requests one after the other, at once,
on one connection.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import WSGIRequestHandler

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyFirst:
    """Reads the request's body whole (by its Content-Length, or to the end of a chunked one) and hands the app
    a copy, so the connection is at the next request whatever the app reads."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        stream = environ.get("wsgi.input")
        if stream is not None:
            if environ.get("wsgi.input_terminated"):
                body = stream.read()  # chunked: Werkzeug's reader stops at the last chunk
            else:
                length = _content_length(environ)
                body = _read_exactly(stream, length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _content_length(environ: dict[str, Any]) -> int:
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def _read_exactly(stream: Any, length: int) -> bytes:
    parts: list[bytes] = []
    left = length
    while left > 0:
        part = stream.read(left)
        if not part:
            break  # the client went away mid-body; the app sees what came
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class Connections:
    """The connections a server holds open; `close_all` ends them (and refuses new ones' keep-alive)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.closing = False

    def add(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.add(connection)

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def open(self) -> list[socket.socket]:
        """The server's ends of the connections open now."""
        with self._lock:
            return list(self._open)

    def close_all(self) -> None:
        with self._lock:
            self.closing = True
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)  # the handler's read ends; its thread closes the socket
            except OSError:
                pass  # closed already


class _Nothing(io.RawIOBase):
    """A stream with nothing in it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


_NOTHING = io.BufferedReader(_Nothing())


def keep_alive_handler(connections: Connections) -> type[WSGIRequestHandler]:
    """moto's request handler, keeping connections open (tracked in `connections`)."""

    class KeepAliveHandler(MotoRequestHandler):
        _request_stream: Any = None

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            # The app reads the body through the environ (BodyFirst reads it whole). Once it has answered,
            # Werkzeug reads whatever else the connection holds, through `rfile`, to throw it away: on a
            # connection kept open that is the next request, and its read (of up to 10 MB) would wait for
            # more of it. That read gets nothing; `run_wsgi` gives the stream back for the next request.
            self._request_stream = self.rfile
            self.rfile = _NOTHING
            return environ

        def run_wsgi(self) -> None:
            try:
                super().run_wsgi()
            finally:
                if self._request_stream is not None:
                    self.rfile, self._request_stream = self._request_stream, None

        def setup(self) -> None:
            super().setup()
            # An answer goes out in several writes (headers, then the body): on a connection kept open, Nagle's
            # algorithm holds the body back until the client acknowledges the headers, which it delays by up
            # to 40 ms. Closing the connection used to flush it.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections.add(self.connection)

        def finish(self) -> None:
            connections.discard(self.connection)
            super().finish()

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "connection" and value.lower() == "close" and self._may_keep_alive():
                value = "keep-alive"  # http.server then reads the next request on this connection
            super().send_header(keyword, value)

        def _may_keep_alive(self) -> bool:
            if connections.closing or self.request_version != "HTTP/1.1":
                return False
            asked = (self.headers.get("Connection") or "").lower() if self.headers else ""
            return asked != "close"

    return KeepAliveHandler
