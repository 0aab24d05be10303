"""The README's proxy configurations, run for real, and `flask cors probe` against each.

Opt-in, `pytest -m proxies`. Debian's nginx, haproxy and Varnish run on loopback, as this test's
own processes with their files in a temporary folder, in front of the project's gunicorn. Each
configuration is the docs' own (the README's complete nginx.conf, docs/proxies.md's haproxy and
Varnish), read from the files, so they cannot show one the tests do not run: through it the probe
finds the answers the app gives. Each broken variant adds one mistake to a configuration, and the
probe exits 1 and names it. The probe session of docs/debugging.md is run here too, against the
broken nginx it describes, with the allowlists of the team's own policies beside its variables.
Without a proxy's program its tests are skipped with the reason, or fail when REQUIRE_PROXIES=1 (CI).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cors import probe
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import (
    ALLOWED_ORIGINS,
    JSON_ROUTE,
    PRODUCTION_ALLOWLIST,
    PRODUCTION_CORS_ORIGINS,
    TEST_API,
    deployment,
    other_allowlists,
    skip_or_fail,
)
from servers import README_UPSTREAM, free_port, nginx_command, serve_with_gunicorn
from write_target import TEST_ORIGINS, build, declarations, own_prefix, under_gunicorn

pytestmark = pytest.mark.proxies

PROJECT = Path(__file__).resolve().parent.parent
# The README and the docs' pages, where the configurations and sessions are shown.
DOCS = {path.name: path.read_text() for path in [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]}
SETTINGS = deployment(
    {
        "APP_ENV": "production",
        "CORS_ORIGINS": PRODUCTION_CORS_ORIGINS,
        "TRUSTED_PROXY_HOPS": "1",
        # The proxies run on this machine.
        "TRUSTED_PROXIES": "127.0.0.1",
    }
)
FRONT_END = probe.listed_examples(PRODUCTION_ALLOWLIST)[0]
# The API with the tests' own routes (write_target.py), whose own policy trusts no front end of these tests.
UPSTREAM = {**SETTINGS, TEST_ORIGINS: "https://tests-own.example.org"}
# Where the docs' configurations send requests, and where haproxy and nginx listen.
README_PORT = "8080"
# A README session: `$ command` (continued by trailing backslashes), its output, `$ echo $?` and the status.
SESSION = re.compile(r"\$ ((?:[^\n]*\\\n)*[^\n]*)\n(.*)\$ echo \$\?\n(\d+)\n", re.DOTALL)
PREFLIGHTED_POST = ["--method", "POST", "--path", JSON_ROUTE, "--header", "Content-Type"]


def program(name: str) -> str:
    path = shutil.which(name, path=f"{os.environ['PATH']}:/usr/sbin:/sbin")
    if path is None:
        skip_or_fail(f"{name} is missing: apt-get install nginx haproxy varnish", "REQUIRE_PROXIES")
    return path


def snippet(language: str) -> str:
    """The one ```language block of the README and docs, pointed at README_UPSTREAM."""
    blocks = [
        block
        for text in DOCS.values()
        for block in re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    ]
    (block,) = blocks
    assert README_UPSTREAM in block or '"8000"' in block
    return block


@contextmanager
def run_proxy(command: list[str], port: int, folder: Path) -> Iterator[str]:
    """Run a proxy in the foreground for a `with` block, once it accepts connections on `port`; yield its URL."""
    log_path = folder / "proxy.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + 20
        while not accepts_connections(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not start:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def nginx(folder: Path, upstream: str, location: str = "", http: str = "") -> Iterator[str]:
    """nginx with the README's nginx.conf, `location` directives added inside its location, `http` ones
    inside its http block, listening on a free loopback port."""
    port = free_port()
    command = nginx_command(program("nginx"), snippet("nginx"), folder, port, upstream, location, http)
    return run_proxy(command, port, folder)


def haproxy(folder: Path, upstream: str, backend: str = "") -> Iterator[str]:
    """haproxy with the README's configuration, `backend` lines added to its backend."""
    port = free_port()
    configuration = snippet("haproxy").replace(README_UPSTREAM, upstream)
    configuration = configuration.replace(f"bind :{README_PORT}", f"bind 127.0.0.1:{port}") + f"    {backend}\n"
    (folder / "haproxy.cfg").write_text(configuration)
    return run_proxy([program("haproxy"), "-db", "-f", str(folder / "haproxy.cfg")], port, folder)


def varnish(folder: Path, upstream: str, vcl: str = "") -> Iterator[str]:
    """Varnish with the README's VCL and `vcl` after it; no jail, so it runs as the test's own user."""
    port = free_port()
    host, upstream_port = upstream.split(":")
    configuration = snippet("vcl").replace('"127.0.0.1"', f'"{host}"').replace('"8000"', f'"{upstream_port}"')
    (folder / "api.vcl").write_text(configuration + vcl)
    command = [program("varnishd"), "-F", "-j", "none", "-n", str(folder / "varnish"), "-a", f"127.0.0.1:{port}"]
    return run_proxy([*command, "-f", str(folder / "api.vcl"), "-s", "malloc,16m"], port, folder)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The API in production under gunicorn (UPSTREAM), as host:port."""
    with under_gunicorn(PROJECT, UPSTREAM) as server:
        yield server.url.removeprefix("http://")


def run_probe(url: str, *options: str) -> tuple[int, dict]:
    """`flask cors probe URL --origin FRONT_END OPTIONS --json`, configured as gunicorn is: exit status, report."""
    app = build(Settings.from_environ(UPSTREAM, declarations=declarations()))[0]
    result = app.test_cli_runner().invoke(args=["cors", "probe", url, "--origin", FRONT_END, *options, "--json"])
    return result.exit_code, json.loads(result.stdout)


def problems(report: dict) -> set[str]:
    return {difference["problem"] for difference in report["differences"]}


PROXIES = {"nginx": nginx, "haproxy": haproxy, "varnish": varnish}


@pytest.mark.parametrize("proxy", PROXIES)
@pytest.mark.parametrize("options", [[], PREFLIGHTED_POST], ids=["get", "preflighted-post"])
def test_the_readme_configuration_answers_as_the_app_does(upstream, tmp_path, proxy, options):
    with PROXIES[proxy](tmp_path, upstream) as url:
        status, report = run_probe(url, *options)
    assert (status, report["differences"]) == (0, [])
    assert report["seconds"] < 3


@pytest.mark.parametrize("proxy", PROXIES)
def test_the_readme_configuration_sets_what_the_app_believes_behind_it(upstream, tmp_path, proxy):
    """A client's own X-Forwarded-Host must not reach the app, which believes one hop (TRUSTED_PROXY_HOPS=1):
    a same-origin write from a browser without Sec-Fetch-Site, with a forged one, is still the site's own."""
    with PROXIES[proxy](tmp_path, upstream) as url:
        headers = {"Origin": url, "Content-Type": "application/json", "X-Forwarded-Host": "forged.example"}
        request = urllib.request.Request(f"{url}{JSON_ROUTE}", b"{}", headers, method="POST")  # noqa: S310 (loopback)
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
            assert response.status == 200


CACHE_IGNORING_VARY = "proxy_cache api; proxy_cache_valid 200 10m; proxy_ignore_headers Vary;"

BROKEN_NGINX = {
    "add_header": ({"location": "add_header Access-Control-Allow-Origin * always;"}, []),
    "hide_header": ({"location": "proxy_hide_header Access-Control-Allow-Origin;"}, []),
    "hide_vary": ({"location": "proxy_hide_header Vary;"}, []),
    "cache": ({"location": CACHE_IGNORING_VARY, "http": "proxy_cache_path {folder}/cache keys_zone=api:1m;"}, []),
    "auth_basic": ({"location": 'auth_basic "API"; auth_basic_user_file {folder}/users;'}, PREFLIGHTED_POST),
    "redirect": ({"location": "return 301 https://$host$request_uri;"}, PREFLIGHTED_POST),
    "options": (
        {
            "location": "if ($request_method = OPTIONS) { add_header Access-Control-Allow-Origin $http_origin; "
            'add_header Access-Control-Allow-Methods "GET, POST"; return 204; }'
        },
        PREFLIGHTED_POST,
    ),
    "body_limit": ({"location": "client_max_body_size 1k;"}, PREFLIGHTED_POST),
}
NAMED = {
    "add_header": {probe.TWO_ALLOW_ORIGINS, probe.ALLOW_ORIGIN_ADDED},
    "hide_header": {probe.ALLOW_ORIGIN_MISSING},
    "hide_vary": {probe.VARY_REMOVED},
    "cache": {probe.CACHE_IGNORES_ORIGIN},
    "auth_basic": {probe.AUTHENTICATION},
    "redirect": {probe.REDIRECT},
    "options": {probe.PREFLIGHT_ANSWERED, probe.ALLOW_ORIGIN_ADDED, probe.VARY_REMOVED},
    "body_limit": {probe.PROXY_ERROR},
}


@pytest.mark.parametrize("mistake", BROKEN_NGINX)
def test_the_probe_names_each_broken_nginx(upstream, tmp_path, mistake):
    directives, options = BROKEN_NGINX[mistake]
    (tmp_path / "users").write_text("user:{PLAIN}secret\n")
    directives = {where: text.replace("{folder}", str(tmp_path)) for where, text in directives.items()}
    with nginx(tmp_path, upstream, **directives) as url:
        status, report = run_probe(url, *options)
    assert (status, problems(report)) == (1, {problem.title for problem in NAMED[mistake]})


def test_the_probe_names_the_proxys_own_error_when_the_api_is_down(upstream, tmp_path):
    with nginx(tmp_path, f"127.0.0.1:{free_port()}") as url:
        status, report = run_probe(url)
    assert (status, problems(report)) == (1, {probe.PROXY_ERROR.title})
    assert "502 Bad Gateway" in report["differences"][0]["detail"]


def test_the_probe_names_haproxy_adding_an_allow_origin(upstream, tmp_path):
    with haproxy(tmp_path, upstream, "http-response add-header Access-Control-Allow-Origin *") as url:
        status, report = run_probe(url)
    assert (status, problems(report)) == (1, {probe.TWO_ALLOW_ORIGINS.title, probe.ALLOW_ORIGIN_ADDED.title})


def test_the_probe_names_varnish_caching_without_origin(upstream, tmp_path):
    """A VCL that hides Vary from the cache, as one hashing /api/ without Origin would: one copy per URL."""
    vcl = "sub vcl_backend_response { unset beresp.http.Vary; }\n"
    with varnish(tmp_path, upstream, vcl) as url:
        status, report = run_probe(url)
    assert (status, problems(report)) == (1, {probe.CACHE_IGNORES_ORIGIN.title, probe.VARY_REMOVED.title})
    evidence = [difference["detail"] for difference in report["differences"]]
    assert any("X-Varnish" in detail for detail in evidence)


def test_the_readme_probe_session_prints_what_it_shows(tmp_path):
    """The session in docs/debugging.md, run by the `flask` command in a shell, with gunicorn configured by the
    session's own variables and the broken nginx it names in front. The team's own policies need their
    allowlists there, as in any deployment: other_allowlists() gives them, to gunicorn and the probe alike."""
    section = DOCS["debugging.md"]
    blocks = re.findall(r"^```\n(\$ .*?)^```", section, re.MULTILINE | re.DOTALL)
    (block,) = [block for block in blocks if " cors probe " in block]
    command, output, status = SESSION.fullmatch(block).groups()
    command = command.replace("\\\n", " ")
    variables = dict(word.split("=", 1) for word in shlex.split(command.split(" flask ", 1)[0]))
    (mistake,) = re.findall(r"`(add_header [^`]*)`", section)
    readme_url = f"http://127.0.0.1:{README_PORT}"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with (
        serve_with_gunicorn(PROJECT, deployment(variables)) as api,
        nginx(tmp_path, api.url.removeprefix("http://"), location=mistake) as url,
    ):
        environment = {"PATH": path, "PYTHONPATH": str(PROJECT / "src"), **other_allowlists()}
        shell = ["/bin/bash", "-c", command.replace(readme_url, url)]
        result = subprocess.run(shell, cwd=PROJECT, env=environment, capture_output=True, text=True)
    assert (result.stdout.replace(url, readme_url), result.returncode) == (output, int(status)), result.stderr


# Paths as a client may spell them, through gunicorn and the README's nginx: the policy that judges a request
# is the one of the route that runs. write_target.py's policy of the tests' own trusts CONSOLE alone; FRONT_END
# is a front end of the default policy only.
CONSOLE = "https://console.example.org"
OWN_ROUTE = f"{own_prefix()}change"
_, _API, _REST = OWN_ROUTE.split("/", 2)
SLASH_SPELLINGS = [
    f"/{OWN_ROUTE}",
    f"//{OWN_ROUTE}",
    f"/{_API}//{_REST}",
    f"/{_API}%2F{_REST}",
    f"/%2F{_API}/{_REST}",
]
DOT_SPELLINGS = [f"/{_API}/./{_REST}", f"/{_API}/public/../{_REST}", f"/{_API}/public/%2E%2E/{_REST}"]
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


@pytest.fixture(scope="module")
def write_target(tmp_path_factory) -> Iterator[dict[str, str]]:
    """write_target.py in production under gunicorn (one worker), alone and behind the README's nginx: their URLs."""
    settings = {**SETTINGS, TEST_ORIGINS: CONSOLE, "WEB_CONCURRENCY": "1"}
    with (
        under_gunicorn(PROJECT, settings) as server,
        nginx(tmp_path_factory.mktemp("nginx"), server.url.removeprefix("http://")) as proxied,
    ):
        yield {"gunicorn": server.url, "nginx": proxied}


def send_as_is(url: str, method: str, target: str, origin: str, **headers: str) -> tuple[int, dict[str, str]]:
    """`method` with the request target exactly as given (no client normalises it), as a page at `origin` sends
    it across sites; the status and the response's headers."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        body = b"email=x" if method in WRITE_METHODS else b""
        sent = {"Origin": origin, "Sec-Fetch-Site": "cross-site", "Content-Length": str(len(body)), **headers}
        if body:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def changes(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}{TEST_API}/changes", timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
        return json.load(response)["changes"]


@pytest.mark.parametrize("server", ["gunicorn", "nginx"])
def test_every_spelling_of_a_path_is_judged_by_the_policy_of_the_route_that_runs(write_target, server):
    url = write_target[server]
    before = changes(url)
    refused = {
        (method, target): send_as_is(url, method, target, ALLOWED_ORIGINS[0])[0]
        for method in WRITE_METHODS
        for target in [*SLASH_SPELLINGS, *DOT_SPELLINGS]
    }
    assert refused == {
        (method, target): 403 if target in SLASH_SPELLINGS else 400
        for method in WRITE_METHODS
        for target in [*SLASH_SPELLINGS, *DOT_SPELLINGS]
    }
    assert changes(url) == before
    allowed = {target: send_as_is(url, "DELETE", target, CONSOLE) for target in SLASH_SPELLINGS}
    assert {target: status for target, (status, _) in allowed.items()} == dict.fromkeys(SLASH_SPELLINGS, 200)
    assert changes(url) == [*before, *[f"DELETE {OWN_ROUTE}"] * len(SLASH_SPELLINGS)]


@pytest.mark.parametrize("server", ["gunicorn", "nginx"])
@pytest.mark.parametrize(("origin", "allowed"), [(CONSOLE, True), (ALLOWED_ORIGINS[0], False)])
def test_reads_and_preflights_of_every_spelling_are_answered_by_its_policy(write_target, server, origin, allowed):
    url = write_target[server]
    for target in SLASH_SPELLINGS:
        read = send_as_is(url, "GET", target, origin)
        preflight = send_as_is(url, "OPTIONS", target, origin, **{"Access-Control-Request-Method": "DELETE"})
        assert (read[0], preflight[0]) == (200, 204), target
        for _, headers in (read, preflight):
            assert headers.get("Access-Control-Allow-Origin") == (origin if allowed else None), target
