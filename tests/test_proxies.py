"""Baked projects behind real nginx, haproxy and Varnish, checked by `flask cors probe`.

The proxy tests belong to the generated project (tests/test_proxies.py, opt-in there with
`pytest -m proxies`): they run its README's proxy configurations, and a broken variant of each, in
front of its gunicorn, and the README's probe session. The template runs them on the default bake.
Without nginx, haproxy or varnishd the project skips, and so does this test; with REQUIRE_PROXIES=1
(as in CI) the project fails instead.
"""

from __future__ import annotations

import re

import pytest

from conftest import run_project_suite


def test_default_project_passes_its_proxy_tests(default_project):
    result = run_project_suite(default_project, "-m", "proxies")
    assert result.returncode == 0, result.stdout + result.stderr
    skipped = re.search(r"^SKIPPED \[\d+\] \S+: (.*)$", result.stdout, re.MULTILINE)
    if skipped:
        pytest.skip(f"the baked project skipped its proxy tests: {skipped[1]}")
    assert re.search(r"\b\d+ passed", result.stdout), result.stdout
