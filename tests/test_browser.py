"""Baked projects in a real Chromium against gunicorn, for the answers a browser can tell apart.

The browser test belongs to the generated project (tests/test_browser.py, opt-in there with
`pytest -m browser`): it serves the baked API with gunicorn and its own gunicorn.conf.py on
loopback and calls it from pages at real origins; its docstring explains why the browser's verdict
is the one a user gets. The template runs it with this environment's gunicorn, playwright and
Chromium, on the default bake and on one whose answers change what a browser sees: credentials on
by default, and an allowlist with a wildcard entry and a port. Without playwright or Chromium the
project skips, and so does this test; with REQUIRE_BROWSER=1 (as in CI) the project fails instead.
"""

from __future__ import annotations

import re

import pytest

from conftest import bake, run_project_suite

BROWSER_VISIBLE_ANSWERS = {
    "allow_credentials": True,
    "production_origins": "https://*.pr.example.org, https://admin.example.org:8443",
}


@pytest.mark.parametrize("answers", [{}, BROWSER_VISIBLE_ANSWERS], ids=["defaults", "credentials-wildcard-port"])
def test_baked_project_passes_its_browser_tests(cookies, answers):
    project = bake(cookies, **answers)
    result = run_project_suite(project, "-m", "browser")
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = re.search(r"^SKIPPED \[\d+\] \S+: (.*)$", result.stdout, re.MULTILINE)
    if skipped:
        pytest.skip(f"the baked project skipped its browser tests: {skipped[1]}")
    assert re.search(r"\b\d+ passed", result.stdout), result.stdout
