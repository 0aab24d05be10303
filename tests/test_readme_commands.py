"""The generated README's commands, run as a user would: its commands on a machine with only Python, in a
fresh clone, and every `$ command` session of the README and the docs/ pages, which must print what
they show: against the development server for those that call it, in the bake for the others (a probe's,
which needs a proxy, is run by the project's own proxy tests)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def started(project: Path, log: Path, *command: str, env: dict[str, str] | None = None):
    """Run `command` in `project` for a `with` block, its output in `log`; then Ctrl-C it as a terminal does."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=project, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)


def test_a_fresh_clone_tests_serves_and_plays_in_development(cookies, tmp_path):
    project = bake(cookies)
    (project / ".env").unlink()  # git-ignored: a teammate's clone has none
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}

    tests = subprocess.run(
        [sys.executable, "tasks.py", "test", "-q"], cwd=project, env=environment, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout
    # Spread over the cores by pytest-xdist's workers, where there is more than one.
    assert ("bringing up nodes" in tests.stdout) == (len(os.sched_getaffinity(0)) > 1)
    # .venv holds exactly uv.lock's versions, installed by pip in hash-checking mode (--require-hashes).
    listed = run(project, str(project / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format", "json")
    # pip lists names as their distributions spell them (pydantic_core), the lock normalised (pydantic-core).
    installed = {
        re.sub(r"[-_.]+", "-", package["name"]).lower(): package["version"] for package in json.loads(listed.stdout)
    }
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

    # The lint CI runs: a file ruff would change fails it, naming `lint --fix`, which fixes it.
    lint = [sys.executable, "tasks.py", "lint"]
    (project / "src" / "my_api" / "scratch.py").write_text("import os\nanswer=42\n")
    failed = subprocess.run(lint, cwd=project, env=environment, capture_output=True, text=True)
    assert failed.returncode == 1
    assert failed.stderr.endswith("`python3 tasks.py lint --fix` fixes what ruff can fix, and formats.\n")
    fixed = subprocess.run([*lint, "--fix"], cwd=project, env=environment, capture_output=True, text=True)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert (project / "src" / "my_api" / "scratch.py").read_text() == "answer = 42\n"
    assert subprocess.run(lint, cwd=project, env=environment, capture_output=True).returncode == 0
    (project / "src" / "my_api" / "scratch.py").unlink()

    port = free_port()
    serve = [sys.executable, "tasks.py", "serve", "--port", str(port)]
    with started(project, tmp_path / "serve.log", *serve, env=environment):
        front_end = "http://localhost:5173"
        response = get(f"http://127.0.0.1:{port}/api/health", {"Origin": front_end}, time.monotonic() + 30)
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == front_end
    assert (tmp_path / "serve.log").read_text().startswith("Created .env from .env.example (APP_ENV=development)")
    written = (project / ".env").read_text()
    assert written.startswith((project / ".env.example").read_text())
    assert re.search(r"^SECRET_KEY=\S{32,}$", written, re.MULTILINE)

    playground = [sys.executable, "tasks.py", "playground", "--port", "0"]
    with started(project, tmp_path / "playground.log", *playground, env=environment):
        deadline = time.monotonic() + 30
        while not (page := re.search(r"allowed origin +(\S+)", (tmp_path / "playground.log").read_text())):
            assert time.monotonic() < deadline, (tmp_path / "playground.log").read_text()
            time.sleep(0.2)
        assert get(page[1], {}, deadline).headers["Content-Type"].startswith("text/html")


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


# Sessions that call the development server, `python3 tasks.py serve`, at its address.
DEVELOPMENT_SERVER = "127.0.0.1:5000"


def project_docs(project: Path) -> dict[str, str]:
    """The README and each page of docs/, by path: where a project shows its commands."""
    pages = sorted((project / "docs").glob("*.md"))
    return {path.relative_to(project).as_posix(): path.read_text() for path in [project / "README.md", *pages]}


def docs_sessions(project: Path) -> list[tuple[str, str, str, int]]:
    """Every session of the README and the docs: (page, command, output, status)."""
    return [(page, *session) for page, text in project_docs(project).items() for session in shell_sessions(text)]


@pytest.mark.parametrize("database", ["postgresql", "none"])
def test_every_session_of_the_docs_prints_what_it_shows(request, cookies, database):
    """Run in the bake as shown, but those calling the development server (tested against it below) and
    `flask cors probe` (which needs a deployment: the project's test_proxies.py runs it behind nginx). The
    example routes differ with the database answer, and so do the sessions that ask about them."""
    if database == "postgresql":
        project = request.getfixturevalue("default_project")
    else:
        project = bake(cookies, database=database)
    sessions = [
        (page, command, output, status)
        for page, command, output, status in docs_sessions(project)
        if DEVELOPMENT_SERVER not in command and " cors probe " not in command
    ]
    assert {re.search(r"flask --app \S+ (cors \w+)", command)[1] for _, command, _, _ in sessions} >= {
        "cors show",
        "cors check",
    }
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    for page, command, output, status in sessions:
        result = run(project, "bash", "-c", command, env={"PATH": path})
        assert (result.stdout, result.returncode) == (output, status), f"{page}: {command}\n{result.stderr}"


@pytest.mark.parametrize(
    "answers",
    [{"allow_credentials": False}, {"allow_credentials": True}, {"database": "none"}],
    ids=["credentials-off", "credentials-on", "database-none"],
)
def test_sessions_calling_the_development_server_print_what_the_docs_show(cookies, tmp_path, answers):
    if shutil.which("curl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("curl is missing (CI=true)", pytrace=False)
        pytest.skip("curl is missing: the README's Troubleshooting sessions use it")
    project = bake(cookies, **answers)
    sessions = [session for session in docs_sessions(project) if DEVELOPMENT_SERVER in session[1]]
    assert len(sessions) >= 4
    port = free_port()
    # What `python3 tasks.py serve` runs, with the .env the bake wrote.
    serve = [sys.executable, "-m", "flask", "--app", "my_api", "run", "--debug", "--port", str(port)]
    with started(project, tmp_path / "serve.log", *serve, env={**os.environ, "PYTHONPATH": str(project / "src")}):
        get(f"http://127.0.0.1:{port}/api/health", {}, time.monotonic() + 30)
        for page, command, output, status in sessions:
            result = run(project, "bash", "-c", command.replace(DEVELOPMENT_SERVER, f"127.0.0.1:{port}"))
            # curl prints HTTP's CRLF line ends, which a terminal shows as plain line ends.
            assert (result.stdout.replace("\r\n", "\n"), result.returncode) == (output, status), f"{page}: {command}"
