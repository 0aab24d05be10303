"""Baking helpers shared by the template's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bake(cookies, **answers) -> Path:
    """Bake the template with `answers` on top of the defaults; fail the test if baking fails."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


def run(project: Path, *command: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run `command` in a baked project, its src/ importable without installing it."""
    environment = {**os.environ, "PYTHONPATH": str(project / "src"), **(env or {})}
    return subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, **kwargs)


def run_project_suite(project: Path) -> subprocess.CompletedProcess:
    return run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gunicorn:
    """A gunicorn master started by start_gunicorn: its process, the URL it serves, what it printed."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def start_gunicorn(project: Path, env: dict[str, str], app: str = "") -> Iterator[Gunicorn]:
    """Run gunicorn as production does, in a baked project, on a free loopback port, for a `with` block.

    This environment's gunicorn reads the project's gunicorn.conf.py from the working directory and
    serves `app` (by default the project's wsgi module) from src/, not installed. Its environment is
    `env` and PATH, nothing else, so no variable of the shell changes the API's settings. PORT is the
    free port, and --bind keeps gunicorn on 127.0.0.1 where the file says 0.0.0.0; XDG_RUNTIME_DIR
    gives each gunicorn a control socket of its own. The block may stop gunicorn itself; otherwise
    it ends with SIGTERM, then SIGKILL after 30 seconds.
    """
    (package,) = {path.parent.name for path in project.glob("src/*/wsgi.py")}
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "gunicorn.log"
        environ = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(project / "src"),
            "XDG_RUNTIME_DIR": folder,
            "PORT": str(port),
            **env,
        }
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", app or f"{package}.wsgi:app"]
        with log_path.open("w") as log:
            process = subprocess.Popen(command, cwd=project, env=environ, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield Gunicorn(process, f"http://127.0.0.1:{port}", log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serve_with_gunicorn(project: Path, env: dict[str, str], app: str = "") -> Iterator[Gunicorn]:
    """start_gunicorn, once /api/health answers 200; RuntimeError, with gunicorn's output, if not within 30 s."""
    with start_gunicorn(project, env, app) as server:
        deadline = time.monotonic() + 30
        while not _answers(f"{server.url}/api/health"):
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not serve /api/health:\n{server.log()}")
            time.sleep(0.1)
        yield server


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def default_project(cookies_session) -> Path:
    """The default bake, shared by the tests that only read it or run it."""
    return bake(cookies_session)
