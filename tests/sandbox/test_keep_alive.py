"""The sandbox keeps a client's connection open between requests, as AWS does (console/sandbox/keep_alive.py).

Werkzeug's server closes every connection after one answer (`Connection: close`); these tests fail if that comes
back, through moto's handler or Werkzeug's own.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from console.sandbox.keep_alive import BodyFirst, Connections, keep_alive_handler

# STS's GetCallerIdentity in the query protocol, as botocore sends it (any credentials: the sandbox's account).
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
STS_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261206/us-east-1/sts/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def ask(connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.getheader("Connection") or "", response.read()


def test_the_sandbox_answers_request_after_request_on_one_connection(sandbox: Any) -> None:
    address = urlsplit(sandbox.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        status, header, body = ask(connection, STS_BODY, STS_HEADERS)
        assert (status, header.lower()) == (200, "keep-alive"), body[:300]
        assert b"<Account>" in body
        first = connection.sock
        assert first is not None  # http.client drops its socket once an answer says close
        for _ in range(3):
            status, header, body = ask(connection, STS_BODY, STS_HEADERS)
            assert status == 200
            assert b"<Account>" in body
            assert connection.sock is first
    finally:
        connection.close()


# --- the parts, on a server of their own: no moto backend needed ---------------------------------------------


def ignores_the_body(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """An answer given without reading the request's body (as a throttled request's is)."""
    answer = f"{environ['PATH_INFO']} {environ.get('CONTENT_LENGTH')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]


@pytest.fixture
def server() -> Iterator[tuple[int, Connections]]:
    connections = Connections()
    served = make_server(
        "127.0.0.1", 0, BodyFirst(ignores_the_body), threaded=True, request_handler=keep_alive_handler(connections)
    )
    thread = threading.Thread(target=lambda: served.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield served.server_address[1], connections
    finally:
        served.shutdown()
        served.server_close()
        connections.close_all()
        thread.join(5)


@pytest.fixture
def client(server: tuple[int, Connections]) -> Iterator[http.client.HTTPConnection]:
    connection = http.client.HTTPConnection("127.0.0.1", server[0], timeout=10)
    yield connection
    connection.close()


def test_requests_sent_at_once_on_one_connection_are_answered_in_turn(server: tuple[int, Connections]) -> None:
    """The second request is on the connection before the first is answered, and the app never reads the first's
    body: neither that body nor Werkzeug's reading after an answer may take the second request's bytes."""
    port, _ = server
    first = b"POST /first HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 70000\r\n\r\n" + b"x" * 70_000
    second = b"POST /second HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 10\r\n\r\n" + b"y" * 10
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(first + second)
        answers = sock.makefile("rb")
        for expected in (b"/first 70000", b"/second 10"):
            status = answers.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            headers = http.client.parse_headers(answers)
            assert headers["Connection"] == "keep-alive"
            assert answers.read(int(headers["Content-Length"])) == expected


def test_a_request_sent_as_soon_as_the_answer_came_is_answered(client: http.client.HTTPConnection) -> None:
    """After an answer Werkzeug reads what the connection still holds, for 10 ms, to throw it away: a request
    sent at once is in that window, and must not be read as the rest of the one before."""
    for path in ("/first", "/second", "/third"):
        client.request("POST", path, body=b"x" * 70_000)
        response = client.getresponse()
        assert (response.status, response.read()) == (200, f"{path} 70000".encode())


def test_a_client_that_asks_to_close_is_closed(client: http.client.HTTPConnection) -> None:
    status, header, _ = ask(client, b"", {"Connection": "close"})
    assert (status, header.lower()) == (200, "close")
    assert client.sock is None


def test_stopping_ends_the_connections_kept_open(
    server: tuple[int, Connections], client: http.client.HTTPConnection
) -> None:
    _, connections = server
    assert ask(client, b"", {})[0] == 200
    sock = client.sock
    assert sock is not None
    [held] = connections.open()
    # Answers go out at once, not after the client's delayed acknowledgement (Nagle's algorithm)
    assert held.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    connections.close_all()
    assert sock.recv(1) == b""  # the server's side is gone: no answer will come on it


def test_body_first_reads_a_chunked_body_to_its_end() -> None:
    seen: list[bytes] = []

    def reads(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(environ["wsgi.input"].read())
        return []

    stream = io.BytesIO(b"abc")
    BodyFirst(reads)({"wsgi.input": stream, "wsgi.input_terminated": True}, lambda *a: None)
    assert seen == [b"abc"]
    assert stream.read() == b""
    stream = io.BytesIO(b"abcdef")
    BodyFirst(reads)({"wsgi.input": stream, "CONTENT_LENGTH": "4"}, lambda *a: None)
    assert seen[-1] == b"abcd"
    assert stream.read() == b"ef"
