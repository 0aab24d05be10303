"""The CORS playground (`python3 tasks.py playground`): its page server, its process, and its page in Chromium.

The page server is not part of the API: the API answers none of its paths, in any environment, and
the page server refuses to exist outside development. Its account of a request is `flask cors
check`'s, word for word. The tests marked `browser` (opt-in, as in test_browser.py) open the page in
headless Chromium and require each verdict the page shows to be the one the browser reached.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

from {{ cookiecutter.package_name }}.cors.playground import Origins, add_echo_route, main, page_app
from {{ cookiecutter.package_name }}.settings import CREDENTIALS_DEFAULT, ENVIRONMENTS, SettingsError

from conftest import CHROMIUM, JSON_ROUTE, add_test_routes, require_chromium

PROJECT = Path(__file__).resolve().parent.parent
# The playground's page in the docs, whose words must be the page's.
PLAYGROUND_DOC = " ".join((PROJECT / "docs" / "playground.md").read_text().split())
PAGE_FILES = PROJECT / "src" / "{{ cookiecutter.package_name }}" / "cors" / "playground_page"
ORIGINS = Origins(api="http://127.0.0.1:5000", allowed="http://localhost:5001", refused="http://localhost:5002")
PRODUCTION_LIKE = {"CORS_ORIGINS": "https://app.example.com"}
JSON_POST = {"method": "POST", "path": JSON_ROUTE, "headers": ["Content-Type: application/json"]}
# A credentialed request's verdict at an allowed origin, with the project's default CORS_ALLOW_CREDENTIALS.
CREDENTIALED = "allowed" if CREDENTIALS_DEFAULT == "true" else "blocked"
# What the playground prints once it serves: the three URLs.
STARTED = re.compile(r"the API +(\S+).*allowed origin +(\S+)/.*refused origin +(\S+)/", re.DOTALL)


@pytest.fixture
def api(make_app):
    """The API as the playground runs it: development, CORS_ORIGINS the page's allowed origin; with the tests' own
    routes."""
    return add_test_routes(make_app(APP_ENV="development", CORS_ORIGINS=ORIGINS.allowed))


@pytest.fixture
def page(api):
    return page_app(api, ORIGINS).test_client()


def explain(page, origin: str, asked: object):
    """POST `asked` to /explain from a page at `origin` (its Host header): the server's account."""
    return page.post("/explain", json=asked, base_url=origin)


# What exists, where


def playground_views(app) -> list[str]:
    """The endpoints of `app` whose views are the playground's."""
    return [endpoint for endpoint, view in app.view_functions.items() if view.__module__ == page_app.__module__]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_api_serves_none_of_the_playground(make_app, environment):
    """Whatever routes the team adds (a page at /, say): no view of the API is the playground's, and the API
    serves files from a folder of its own, not the page's."""
    variables = {} if environment == "development" else PRODUCTION_LIKE
    app = make_app(APP_ENV=environment, **variables)
    page = page_app(make_app(APP_ENV="development"), ORIGINS)
    assert playground_views(page)
    assert playground_views(app) == []
    assert app.static_folder != page.static_folder


@pytest.mark.parametrize("environment", [name for name in ENVIRONMENTS if name != "development"])
def test_the_page_server_refuses_to_exist_outside_development(make_app, environment):
    with pytest.raises(SettingsError, match=f"APP_ENV={environment}: the playground runs in development only"):
        page_app(make_app(APP_ENV=environment, **PRODUCTION_LIKE), ORIGINS)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"APP_ENV": "testing", **PRODUCTION_LIKE}, "APP_ENV=testing"),
        # The page's local origin is refused by production before the playground's own check.
        ({"APP_ENV": "production", **PRODUCTION_LIKE}, "APP_ENV=production"),
    ],
)
def test_the_playground_command_refuses_to_start_outside_development(clean_environ, capsys, variables, named):
    for name, value in variables.items():
        clean_environ.setenv(name, value)
    assert main(["--port", "0"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("Error: ")
    assert named in error
    assert "runs with APP_ENV=development only" in error


def test_the_page_is_plain_files_that_need_no_network(page):
    html = page.get("/", base_url=ORIGINS.allowed)
    assert html.status_code == 200
    assert html.mimetype == "text/html"
    for name in ("index.html", "playground.js", "playground.css"):
        assert page.get(f"/{name}").status_code == 200, name
        # Nothing fetched from elsewhere: no CDN, no font service, so it works offline.
        assert not re.search(r"https?://", (PAGE_FILES / name).read_text()), name


def test_setup_gives_the_origins_and_the_policies_in_force(page):
    setup = page.get("/setup").get_json()
    assert setup["origins"] == {"api": ORIGINS.api, "allowed": ORIGINS.allowed, "refused": ORIGINS.refused}
    policies = {policy["name"]: policy for policy in setup["policies"]}
    default, public = policies["default"], policies["public"]
    assert default["settings"]["CORS_ORIGINS"] == {"value": [ORIGINS.allowed], "source": "environment variable"}
    assert public["public"] is True


def test_the_page_s_json_post_goes_to_a_route_of_the_playground_s_own_that_answers_the_json_sent(api, page):
    """Not to a route of the team's: the page sends its requests each time it loads, and this one changes nothing."""
    path = page.get("/setup").get_json()["json_post"]
    assert path == "/api/__playground__/echo"
    response = add_echo_route(api).test_client().post(path, json={"order": 42}, headers={"Origin": ORIGINS.allowed})
    assert response.json == {"order": 42}
    assert response.headers["Access-Control-Allow-Origin"] == ORIGINS.allowed


# The server's account


@pytest.mark.parametrize(
    ("origin", "asked", "verdict", "kinds"),
    [
        (ORIGINS.allowed, {"method": "GET", "path": "/api/health"}, "allowed", ["request"]),
        (ORIGINS.allowed, JSON_POST, "allowed", ["preflight", "request"]),
        (ORIGINS.refused, JSON_POST, "blocked", ["preflight"]),
        (ORIGINS.allowed, {"path": "/api/health", "headers": ["X-Request-Id: 42"]}, "blocked", ["preflight"]),
        (ORIGINS.allowed, {"path": "/api/health", "credentials": True}, CREDENTIALED, ["request"]),
        (ORIGINS.refused, {"path": "/api/public/status"}, "allowed", ["request"]),
    ],
)
def test_the_account_is_flask_cors_check_s_for_the_page_s_origin(api, page, origin, asked, verdict, kinds):
    account = explain(page, origin, asked).get_json()
    check = ["cors", "check", origin, "--method", asked.get("method", "GET"), "--path", asked["path"]]
    check += [option for header in asked.get("headers", []) for option in ("--header", header)]
    check += ["--credentials"] if asked.get("credentials") else []
    printed = api.test_cli_runner().invoke(args=check).output

    assert account["request"]["origin"] == origin
    assert account["verdict"] == verdict
    assert [exchange["kind"] for exchange in account["exchanges"]] == kinds
    exchanges = "\n\n".join(exchange["text"] for exchange in account["exchanges"])
    assert printed.endswith(f"{exchanges}\n\n" + "\n".join(account["conclusion"]) + "\n")
    for exchange in account["exchanges"]:
        assert exchange["text"].endswith("< Vary: Origin")


def test_the_account_gives_the_page_the_headers_to_send(page):
    account = explain(page, ORIGINS.allowed, {"path": JSON_ROUTE, "method": "POST", "headers": ["Content-Type"]})
    assert account.get_json()["request"]["headers"] == {"Content-Type": "application/json"}
    assert account.get_json()["request"]["preflighted"] is True


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ({"method": "TRACE"}, "method"),
        ({"method": "GET", "path": "api/health"}, "path"),
        ({"headers": ["Cookie: session=1"]}, "headers"),
        ({"headers": "Authorization"}, "headers"),
        (["GET", "/api/health"], "JSON object"),
    ],
)
def test_an_unusable_request_gets_a_json_400_naming_the_field(page, asked, named):
    response = explain(page, ORIGINS.allowed, asked)
    assert response.status_code == 400
    assert named in response.get_json()["error"]["detail"]


# The process


class Playground(NamedTuple):
    process: subprocess.Popen
    api: str
    allowed: str
    refused: str


@contextmanager
def sigint_not_ignored() -> Iterator[None]:
    """SIGINT handled here, not ignored, while a child starts: a shell starts its background jobs with SIGINT
    ignored, as this run may be, and a child keeps an ignored signal, but starts with a handled one at its
    default, so that Ctrl-C stops it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def run_playground(folder: Path) -> Iterator[Playground]:
    """The playground as `python3 tasks.py playground` runs it, on free ports, with APP_ENV=development
    and no other variable; its URLs read from what it prints. Stopped at the end if still running."""
    log_path = folder / "playground.log"
    environ = {"PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT / "src"), "APP_ENV": "development"}
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}.cors.playground", "--port", "0"]
    with log_path.open("w") as log, sigint_not_ignored():
        process = subprocess.Popen(command, cwd=folder, env=environ, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (printed := STARTED.search(log_path.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the playground did not start:\n{log_path.read_text()}")
            time.sleep(0.02)
        yield Playground(process, *printed.groups())
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(url: str, **headers: str):
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5)  # noqa: S310 (loopback)


def test_the_playground_serves_the_api_and_the_page_and_ctrl_c_stops_it(tmp_path):
    with run_playground(tmp_path) as playground:
        health = f"{playground.api}/api/health"
        assert get(health, Origin=playground.allowed).headers["Access-Control-Allow-Origin"] == playground.allowed
        assert "Access-Control-Allow-Origin" not in get(health, Origin=playground.refused).headers
        for origin in (playground.allowed, playground.refused):
            assert get(f"{origin}/").headers["Content-Type"].startswith("text/html")
        playground.process.send_signal(signal.SIGINT)
        assert playground.process.wait(timeout=10) == 0
    for url in (playground.api, playground.allowed, playground.refused):
        with pytest.raises(urllib.error.URLError):
            get(f"{url}/")


# In Chromium

VERDICTS_AT_THE_ALLOWED_ORIGIN = {
    "A simple GET": "allowed",
    "A JSON POST": "allowed",
    "With an Authorization header": "allowed",
    "With credentials": CREDENTIALED,
    "A header the policy does not list": "blocked",
    "The public policy's route": "allowed",
}
VERDICTS_AT_THE_REFUSED_ORIGIN = {
    **dict.fromkeys(VERDICTS_AT_THE_ALLOWED_ORIGIN, "blocked"),
    "The public policy's route": "allowed",
}
# Run in the page: each card's scenario, the verdict the browser reached, the server's, and the words shown.
CARDS = """cards => cards.map(card => [
    card.dataset.scenario, card.dataset.browser, card.dataset.server, card.querySelector(".verdict strong").textContent
])"""


@pytest.fixture(scope="module")
def chromium():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def playground(tmp_path_factory) -> Iterator[Playground]:
    with run_playground(tmp_path_factory.mktemp("playground")) as running:
        yield running


@pytest.fixture
def browser_page(chromium):
    """A page in a fresh browser context (no preflight cached by another test), and the errors it raises."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    context.close()


def verdicts(page, selector: str = "#scenarios .card") -> dict[str, str]:
    """{scenario: verdict} once the page is done, each shown in words and the same for browser and server."""
    page.wait_for_selector("main[data-state=done]")
    shown = {}
    for scenario, browser, server, words in page.eval_on_selector_all(selector, CARDS):
        assert browser == server, f"{scenario}: the browser says {browser}, the server's account {server}"
        assert words.endswith(browser), words
        shown[scenario] = browser
    return shown


@pytest.mark.browser
def test_at_the_allowed_origin_each_verdict_is_the_browser_s(browser_page, playground):
    page, errors = browser_page
    page.goto(f"{playground.allowed}/")
    assert verdicts(page) == VERDICTS_AT_THE_ALLOWED_ORIGIN
    assert errors == []
    # What docs/playground.md says this project's page shows.
    (shown,) = re.findall(r"the page shows (6 requests sent: \d allowed, \d blocked)", PLAYGROUND_DOC)
    assert page.inner_text("#status") == f"{shown}."
    # The README's picture: PLAYGROUND_SCREENSHOT=docs/playground.png pytest -m browser tests/test_playground.py
    screenshot = Path(os.environ.get("PLAYGROUND_SCREENSHOT", PROJECT / "build" / "playground.png"))
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=screenshot, full_page=True)


@pytest.mark.browser
def test_switched_to_the_refused_origin_only_the_public_route_is_allowed(browser_page, playground):
    page, errors = browser_page
    page.goto(f"{playground.allowed}/")
    page.wait_for_selector("main[data-state=done]")
    page.get_by_role("link", name=re.compile("the refused origin")).click()
    page.wait_for_url(f"{playground.refused}/")
    assert verdicts(page) == VERDICTS_AT_THE_REFUSED_ORIGIN
    assert errors == []


@pytest.mark.browser
def test_another_request_from_the_form_gets_the_browser_s_verdict(browser_page, playground):
    page, errors = browser_page
    page.goto(f"{playground.allowed}/")
    page.wait_for_selector("main[data-state=done]")
    page.get_by_label("Method").select_option("DELETE")
    page.get_by_label("Path").fill("/api/health")
    page.get_by_label("Headers the script sets").fill("Authorization: Bearer token")
    page.get_by_role("button", name="Send it from this page").click()
    page.wait_for_selector("#tried .card")
    # DELETE is listed, so the browser lets the page read the route's own answer: 405.
    assert verdicts(page, "#tried .card") == {"Your request": "allowed"}
    assert "405" in page.inner_text("#tried .card .verdict")
    assert errors == []
