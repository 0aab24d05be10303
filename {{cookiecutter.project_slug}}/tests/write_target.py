"""The API with the tests' own routes, some of which change state: what gunicorn serves in the browser and
proxy tests, and the target of the tests of cross-origin writes in process.

`build(settings)` is the API with:

- the tests' own routes (conftest.add_test_routes);
- POST TEST_API/changes (conftest), which records a change and the session cookie it came with; GET
  TEST_API/changes lists every change recorded;
- a policy of the tests' own, TEST_POLICY, on a prefix under /api/ that no route or policy of the team's
  uses (`own_prefix`), reading CORS_<NAME>_ORIGINS like any other; its route, `<prefix>change`, takes
  every method and records each call made to it. Beside the default policy, it shows which policy judges
  a request whose path a server, a proxy or a client has spelt another way.

gunicorn serves `write_target:serve()` (`under_gunicorn`); the tests that read the list run one worker
(WEB_CONCURRENCY=1), whose list is then the server's whole state.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.api import blueprints
from {{ cookiecutter.package_name }}.cors import Policy
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import Settings

from conftest import TEST_API, add_test_routes
from servers import Gunicorn, serve_with_gunicorn

TEST_POLICY = "tests_own"
# Its allowlist: CORS_TESTS_OWN_ORIGINS.
TEST_ORIGINS = Policy(TEST_POLICY, "/").variable("ORIGINS")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def own_prefix(declarations: tuple[Policy, ...] = POLICIES) -> str:
    """A prefix under /api/ that no route of the team's blueprints answers and no declared policy covers exactly."""
    routes = Flask(__name__)
    for blueprint in blueprints:
        routes.register_blueprint(blueprint)
    adapter = routes.url_map.bind("localhost")
    taken = {declaration.prefix for declaration in declarations}
    for number in range(100):
        prefix = f"/api/tests-own-{number}/"
        try:
            adapter.match(f"{prefix}change", method="POST")
        except NotFound:
            if prefix not in taken:
                return prefix
        except HTTPException:  # a redirect or a 405: a route is there
            continue
    raise RuntimeError("every /api/tests-own-<n>/ path is taken by the team's routes")


def declarations(base: tuple[Policy, ...] = POLICIES) -> tuple[Policy, ...]:
    """`base`, the team's policies, and TEST_POLICY on own_prefix()."""
    return (*base, Policy(TEST_POLICY, own_prefix(base)))


def build(settings: Settings) -> tuple[Flask, list[str | None]]:
    """The app of `settings` (read with `declarations()`), with the routes above; also the list they record to."""
    app = add_test_routes(create_app(settings))
    changes: list[str | None] = []
    prefix = settings.policy(TEST_POLICY).prefix

    def change():
        changes.append(request.cookies.get("session"))
        return jsonify(changes=changes)

    def test_change():
        changes.append(f"{request.method} {request.path}")
        return jsonify(changes=changes)

    app.add_url_rule(f"{TEST_API}/changes", "change", change, methods=["POST"])
    app.add_url_rule(f"{TEST_API}/changes", "list_changes", lambda: jsonify(changes=changes))
    app.add_url_rule(f"{prefix}change", "test_change", test_change, methods=ALL_METHODS)
    return app, changes


def serve() -> Flask:
    """What gunicorn serves: build() from the environment, as production reads it."""
    return build(Settings.from_environ(os.environ, declarations=declarations()))[0]


def under_gunicorn(
    project: Path, settings: dict[str, str], tls: tuple[Path, Path] | None = None
) -> AbstractContextManager[Gunicorn]:
    """serve_with_gunicorn: serve() from the `project` folder, configured by `settings`."""
    tests = {"PYTHONPATH": os.pathsep.join([str(project / "src"), str(project / "tests")])}
    return serve_with_gunicorn(project, {**settings, **tests}, "write_target:serve()", tls)
