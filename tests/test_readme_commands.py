"""The generated README's two commands, run as a user would on a machine with only Python."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import bake, free_port


def get(url: str, headers: dict[str, str], deadline: float):
    """GET `url`, retrying until the server answers or `deadline` (time.monotonic()) passes."""
    while True:
        try:
            return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_tasks_test_then_serve_in_a_fresh_virtual_environment(cookies):
    project = bake(cookies)
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}

    tests = subprocess.run(
        [sys.executable, "tasks.py", "test", "-q"], cwd=project, env=environment, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert (project / ".venv").is_dir()
    assert " passed" in tests.stdout

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "tasks.py", "serve", "--port", str(port)],
        cwd=project,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        front_end = "http://localhost:5173"
        response = get(f"http://127.0.0.1:{port}/api/health", {"Origin": front_end}, time.monotonic() + 30)
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == front_end
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
