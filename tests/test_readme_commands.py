"""The generated README's commands, run as a user would: the two commands on a machine with only Python,
and the `flask cors` sessions of its Debugging CORS section, which must print what the README shows
(the probe's, which needs a proxy, is run by the project's own proxy tests)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import bake, free_port, run
from test_lock import RUNTIME_PACKAGES, locked_packages


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
    assert " passed" in tests.stdout
    # .venv holds exactly uv.lock's versions, installed by pip in hash-checking mode (--require-hashes).
    listed = run(project, str(project / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format", "json")
    installed = {package["name"].lower(): package["version"] for package in json.loads(listed.stdout)}
    locked = {name: package["version"] for name, package in locked_packages(project).items()}
    assert installed.pop("my-api") == "0.1.0"
    # Besides the venv's own pip (and setuptools, which Python 3.11's venv adds) and uv, which reads the lock.
    assert installed.keys() - locked.keys() <= {"pip", "setuptools", "uv"}
    dev = {"pytest", "ruff", "pluggy", "iniconfig", "packaging", "pygments"}
    assert {name: locked[name] for name in RUNTIME_PACKAGES | dev} == {
        name: installed[name] for name in RUNTIME_PACKAGES | dev
    }
    requirements = (project / ".venv" / "requirements.txt").read_text()
    assert all(f"\n{name}=={locked[name]} \\\n    --hash=sha256:" in requirements for name in RUNTIME_PACKAGES)

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


def shell_sessions(markdown: str) -> list[tuple[str, str, int]]:
    """Each `$ command` in the code blocks of `markdown`: the command (continuation lines joined), the
    output the block shows for it, and the exit status a following `$ echo $?` shows (0 without one)."""
    sessions: list[tuple[str, str, int]] = []
    for block in re.findall(r"^```\n(\$ .*?)^```", markdown, re.MULTILINE | re.DOTALL):
        for command, output in re.findall(r"^\$ ((?:.*\\\n)*.*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE):
            if command == "echo $?":
                sessions[-1] = (*sessions[-1][:2], int(output))
            else:
                sessions.append((command.replace("\\\n", " "), output, 0))
    return sessions


def test_debugging_cors_sessions_print_what_the_readme_shows(default_project):
    readme = (default_project / "README.md").read_text()
    sessions = shell_sessions(readme.split("## Debugging CORS", 1)[1].split("\n## ", 1)[0])
    assert [re.search(r"flask --app \S+ (cors \w+)", command)[1] for command, _, _ in sessions] == [
        "cors show",
        "cors check",
        "cors probe",
    ]
    # The probe's session needs a proxy in front of gunicorn: the project's proxy tests run it (test_proxies.py).
    sessions = sessions[:-1]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    for command, output, status in sessions:
        result = run(default_project, "bash", "-c", command, env={"PATH": path})
        assert (result.stdout, result.returncode) == (output, status), result.stderr
