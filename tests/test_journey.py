"""The generated README's journey, as a newcomer follows it, on a bake with credentials on and two production
origins: the two commands, a route of one's own, a policy of one's own, production under gunicorn behind
the README's nginx.conf, and `flask cors probe` with the deployment's APP_ENV and CORS_* alone.

Every command and every piece of code comes from the README, extracted, not restated: when the README's
steps change, this test follows them. What the test changes is only what a machine running tests must:
free ports in place of 5000 and 8000 and 80, the README's URL for the deployment replaced by nginx's, and
nginx's own files in a temporary folder (servers.nginx_command).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import pytest

from conftest import bake, free_port, load_module, servers
from test_readme_commands import get, started

ORIGINS = "https://app.example.com, https://admin.example.com"
FRONT_END = "https://admin.example.com"
# What a newcomer's shell has, and not the template's tests' own environment.
SHELL = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "VIRTUAL_ENV")}


def sections(readme: str) -> dict[str, str]:
    """The README's `## ` sections by title."""
    return {part.split("\n", 1)[0]: part.split("\n", 1)[1] for part in readme.split("\n## ")[1:]}


def blocks(section: str, language: str = "") -> list[str]:
    """The section's fenced blocks in `language` (no language: a shell's commands), fence by fence."""
    found, opened = [], None
    for line in section.splitlines(keepends=True):
        if line.startswith("```"):
            if opened is None:
                opened = (line.strip().removeprefix("```"), [])
            else:
                if opened[0] == language:
                    found.append("".join(opened[1]))
                opened = None
        elif opened is not None:
            opened[1].append(line)
    return found


def commands(block: str) -> list[str]:
    """A shell block's commands, each without its trailing comment."""
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def apply_code(project: Path, block: str) -> None:
    """Do what a ```python block headed `# src/<path>.py` asks: a new file is the block; in a file, its
    statements take the place of the file's statements of the same names (with the comment lines right above
    them; an import from a module takes the place of the import from that module), where the first of them
    was; a block replacing none goes at the end."""
    header, code = block.split("\n", 1)
    path = project / header.removeprefix("# ")
    if not path.exists():
        path.write_text(code)
        return
    source = path.read_text()
    names = {_name(node) for node in ast.parse(code).body} - {None}
    spans = [
        (min([node.lineno, *(decorator.lineno for decorator in getattr(node, "decorator_list", []))]), node.end_lineno)
        for node in ast.parse(source).body
        if _name(node) in names
    ]
    if not spans:
        path.write_text(source.rstrip("\n") + "\n\n\n" + code)
        return
    lines = source.splitlines(keepends=True)
    spans = [(_after_comments(lines, start), end) for start, end in spans]
    for start, end in reversed(spans[1:]):
        del lines[start - 1 : end]
    start, end = spans[0]
    lines[start - 1 : end] = [code]
    path.write_text("".join(lines).rstrip("\n") + "\n")


def _after_comments(lines: list[str], start: int) -> int:
    """The line number where the statement at `start` begins, counting the comment lines right above it."""
    while start > 1 and lines[start - 2].startswith("#"):
        start -= 1
    return start


def _name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.ImportFrom):
        return f"from {'.' * node.level}{node.module or ''}"
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def shell(project: Path, script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-ec", script], cwd=project, env=env or SHELL, capture_output=True, text=True, timeout=600
    )


def request(url: str, origin: str, method: str = "GET", body: object = None) -> tuple[int, dict, dict]:
    """Status, headers and JSON body of a request from a page at `origin`."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Origin": origin, "Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=5) as answer:
            return answer.status, dict(answer.headers), json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)


def test_the_readme_journey_from_two_commands_to_a_passing_probe(cookies, tmp_path):
    nginx = shutil.which("nginx", path=f"{os.environ['PATH']}:/usr/sbin")
    if nginx is None:
        if os.environ.get("REQUIRE_PROXIES") == "1":
            pytest.fail("nginx is missing (REQUIRE_PROXIES=1)", pytrace=False)
        pytest.skip("nginx is missing: apt-get install nginx")
    project = bake(cookies, allow_credentials=True, production_origins=ORIGINS)
    readme = sections((project / "README.md").read_text())

    # The two commands: the tests pass, and the development server answers a local front end.
    test, serve = "python3 tasks.py test", "python3 tasks.py serve"
    assert commands(blocks(readme["Two commands"])[0]) == [serve, test]
    result = shell(project, test)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    port = free_port()
    with started(project, tmp_path / "serve.log", "bash", "-c", f"{serve} --port {port}", env=SHELL):
        answer = get(f"http://127.0.0.1:{port}/api/health", {"Origin": "http://localhost:5173"}, time.monotonic() + 60)
        assert answer.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"

    # A route of one's own, then a policy of one's own, as the README writes them; the suite walks them.
    for title in ("A route of your own", "A policy of your own"):
        for block in blocks(readme[title], "python"):
            apply_code(project, block)
    assert "python3 tasks.py test" in readme["A route of your own"]
    result = shell(project, test)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert " passed" in result.stdout
    result = shell(project, "python3 tasks.py lint")
    assert result.returncode == 0, result.stdout + result.stderr
    (partner_exports,) = blocks(readme["A policy of your own"])

    # Production: the server's environment, then its migrations and gunicorn with the deployment's settings, on
    # a throwaway PostgreSQL server in place of the README's.
    install, start = blocks(readme["Production"])
    result = shell(project, install)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) < 5, "the install prints no page of hashes"
    assert "build/" in (project / ".gitignore").read_text().splitlines()
    upstream = f"127.0.0.1:{free_port()}"
    *steps, gunicorn = commands(start)
    exports = [step for step in steps if step.startswith("export ")]
    exports += commands(partner_exports)  # set "wherever CORS_ORIGINS is set", says the README
    postgres = load_module("postgres", project / "tests" / "postgres.py")
    binaries = postgres.find_binaries()
    if binaries is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is missing (REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip("PostgreSQL is missing: apt-get install postgresql")
    with ExitStack() as stack:
        database = stack.enter_context(postgres.postgres_server(binaries))
        exported = [re.sub(r'DATABASE_URL="[^"]*"', f'DATABASE_URL="{database}"', line) for line in exports]
        migrations = [step for step in steps if not step.startswith("export ")]
        script = "\n".join([*exported, *migrations, gunicorn.replace(servers.README_UPSTREAM, upstream)])
        environment = {**SHELL, "XDG_RUNTIME_DIR": str(tmp_path)}
        stack.enter_context(started(project, tmp_path / "gunicorn.log", "bash", "-ec", script, env=environment))
        get(f"http://{upstream}/api/health", {}, time.monotonic() + 60)

        # Behind nginx, from the README's nginx.conf.
        (nginx_conf,) = blocks(readme["Behind nginx"], "nginx")
        deployment = check_deployment(project, readme, tmp_path, nginx, nginx_conf, upstream, exports)
    assert deployment == (0, 1)


def check_deployment(
    project: Path, readme: dict, tmp_path: Path, nginx: str, conf: str, upstream: str, exports: list[str]
) -> tuple[int, int]:
    """Through the README's nginx: the new route answers an allowed front end, then the README's probe,
    with the deployment's APP_ENV and CORS_* alone, exits 0; and 1 once nginx adds its own header."""
    (probe,) = commands(blocks(readme["Behind nginx"])[0])
    variables = dict(re.fullmatch(r'export (\w+)="?(.*?)"?', line).groups() for line in exports)
    policy_only = {name: value for name, value in variables.items() if name == "APP_ENV" or name.startswith("CORS_")}
    assert "CORS_PARTNERS_ORIGINS" in policy_only and "SECRET_KEY" in variables
    statuses = []
    for location in ("", "add_header Access-Control-Allow-Origin * always;"):
        folder = tmp_path / f"nginx-{len(statuses)}"
        folder.mkdir()
        port = free_port()
        command = servers.nginx_command(nginx, conf, folder, port, upstream, location)
        with started(project, folder / "nginx.log", *command, env=SHELL):
            url = f"http://127.0.0.1:{port}"
            get(f"{url}/api/health", {}, time.monotonic() + 20)
            if not location:
                status, headers, body = request(f"{url}/api/orders", FRONT_END, "POST", {"item": "tea", "quantity": 2})
                assert (status, headers["Access-Control-Allow-Origin"]) == (201, FRONT_END)
                status, headers, body = request(f"{url}/api/orders", FRONT_END, "POST", {"item": "tea", "quantity": 0})
                assert (status, body["error"]["status"], list(body["error"]["fields"])) == (422, 422, ["quantity"])
            result = shell(
                project,
                probe.replace("http://api.example.com", url),
                {"PATH": os.environ["PATH"], **policy_only},
            )
            statuses.append(result.returncode)
            assert result.returncode in (0, 1), result.stdout + result.stderr
            assert f"GET /api/health from 3 origins, to {url}" in result.stdout, result.stdout + result.stderr
    return statuses[0], statuses[1]
