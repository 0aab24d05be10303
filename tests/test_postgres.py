"""The default bake's `pytest -m postgres`: its migrations and routes on a throwaway PostgreSQL server."""

from __future__ import annotations

from conftest import assert_opt_in_tests_pass


def test_the_default_bake_passes_its_postgres_tests(default_project):
    assert_opt_in_tests_pass(default_project, "postgres")
