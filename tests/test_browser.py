"""Baked projects in a real Chromium against gunicorn, for the answers a browser can tell apart.

The browser test belongs to the generated project (tests/test_browser.py, opt-in there with
`pytest -m browser`): it serves the baked API with gunicorn and its own gunicorn.conf.py on
loopback and calls it from pages at real origins; its docstring explains why the browser's verdict
is the one a user gets. The template runs it with this environment's gunicorn, playwright and
Chromium, on the default bake, on one whose answers change what a browser sees (credentials on
by default, and an allowlist with a wildcard entry and a port), and on each way of signing in.
Without playwright or Chromium the project skips, and so does this test; with REQUIRE_BROWSER=1 (as
in CI) the project fails instead.
"""

from __future__ import annotations

import pytest

from conftest import assert_opt_in_tests_pass, bake

BROWSER_VISIBLE_ANSWERS = {
    "allow_credentials": True,
    "production_origins": "https://*.pr.example.org, https://admin.example.org:8443",
}


@pytest.mark.parametrize(
    "answers",
    [{}, BROWSER_VISIBLE_ANSWERS, {"auth": "session"}, {"auth": "token"}],
    ids=["defaults", "credentials-wildcard-port", "session-sign-in", "token-sign-in"],
)
def test_baked_project_passes_its_browser_tests(cookies, answers):
    project = bake(cookies, **answers)
    assert_opt_in_tests_pass(project, "browser")
