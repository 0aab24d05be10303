"""Baked projects behind real nginx, haproxy and Varnish, checked by `flask cors probe`.

The proxy tests belong to the generated project (tests/test_proxies.py, opt-in there with
`pytest -m proxies`): they run its README's proxy configurations, and a broken variant of each, in
front of its gunicorn, and the README's probe session. The template runs them on the default bake.
Without nginx, haproxy or varnishd the project skips, and so does this test; with REQUIRE_PROXIES=1
(as in CI) the project fails instead.
"""

from __future__ import annotations

from conftest import assert_opt_in_tests_pass


def test_default_project_passes_its_proxy_tests(default_project):
    assert_opt_in_tests_pass(default_project, "proxies")
