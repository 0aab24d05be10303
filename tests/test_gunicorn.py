"""The default bake under a real gunicorn, as in production: refusing to start, stopping, losing a worker.

gunicorn runs with the project's own gunicorn.conf.py (conftest.start_gunicorn), and is watched
from outside: its exit status, what it prints, what a client gets.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import time
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from conftest import DEPLOYED_DATABASE, serve_with_gunicorn, start_gunicorn

# Two workers, as by default: the tests below count them.
PRODUCTION = {
    "APP_ENV": "production",
    "CORS_ORIGINS": "https://app.example.com",
    "WEB_CONCURRENCY": "2",
    **DEPLOYED_DATABASE,
}
# Seconds within which gunicorn must stop when it is meant to: a Python start-up, with time to spare.
PROMPTLY = 5


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PROMPTLY
    while not condition():
        assert time.monotonic() < deadline, f"not within {PROMPTLY} s: {what}"
        time.sleep(0.05)


def health(url: str) -> int:
    with urllib.request.urlopen(f"{url}/api/health", timeout=PROMPTLY) as response:
        return response.status


def booted_workers(log: str) -> set[int]:
    return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)}


@pytest.mark.parametrize(
    ("cors_origins", "error"),
    [
        (None, "CORS_ORIGINS: an allowlist is required when APP_ENV=production"),
        ("*", "CORS_ORIGINS: '*' would let every site on the web call the API"),
        ("http://app.example.com", "APP_ENV=production accepts https origins only: write https://app.example.com"),
    ],
    ids=["missing", "wildcard", "http"],
)
def test_a_bad_production_configuration_stops_gunicorn_at_once_with_one_error_line(
    default_project, cors_origins, error
):
    variables = {"APP_ENV": "production"} | ({"CORS_ORIGINS": cors_origins} if cors_origins else {})
    with start_gunicorn(default_project, variables) as server:
        status = server.process.wait(timeout=PROMPTLY)  # TimeoutExpired: gunicorn kept going
        output = server.log()
    # One line, the error: no traceback, and no worker ever started (each would fail again).
    assert status == 2, output
    assert output.startswith("Error: CORS_ORIGINS: "), output
    assert output.count("\n") == 1 and error in output, output


def test_sigterm_lets_the_request_in_flight_finish_then_gunicorn_exits_0(default_project):
    """The request in flight is a slow client's: gunicorn has its headers, its body is still to come.

    The client asks for `100 Continue` before sending the body: the worker that takes the request
    answers it. A GET then proves the other worker ready (this one is busy). The body goes only once
    that idle worker has stopped on SIGTERM, so the busy one has had its SIGTERM too. The body breaks
    the items schema in one field, so the 422 naming it shows the worker read the body sent late (and needs
    no database).
    """
    body = {"name": "sent after SIGTERM", "quantity": -1}
    content = json.dumps(body).encode()
    with serve_with_gunicorn(default_project, PRODUCTION) as server:
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port), timeout=PROMPTLY) as client:
            head = (
                "POST /api/items HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(content)}\r\nExpect: 100-continue\r\n\r\n"
            )
            client.sendall(head.encode())
            # Peeked only: the response parser below skips the 100 itself.
            assert client.recv(64, socket.MSG_PEEK).startswith(b"HTTP/1.1 100 Continue\r\n")
            assert health(server.url) == 200
            server.process.send_signal(signal.SIGTERM)
            wait_until(lambda: "Worker exiting" in server.log(), "the idle worker stops")
            assert server.process.poll() is None, server.log()

            client.sendall(content)
            response = http.client.HTTPResponse(client, method="POST")
            response.begin()
            assert response.status == 422, server.log()
            assert set(json.loads(response.read())["error"]["fields"]) == {"quantity"}
        assert server.process.wait(timeout=PROMPTLY) == 0, server.log()


def test_killed_workers_are_replaced_and_the_api_keeps_answering(default_project):
    """Every worker is killed at once, so the answers can only come from their replacements.

    The master holds the listening socket: requests wait there while it starts new workers.
    """
    with serve_with_gunicorn(default_project, PRODUCTION) as server:
        wait_until(lambda: len(booted_workers(server.log())) == 2, "two workers boot")
        killed = booted_workers(server.log())
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        for _ in range(10):
            assert health(server.url) == 200
        wait_until(lambda: len(booted_workers(server.log()) - killed) == 2, "two new workers boot")
        assert server.process.poll() is None
