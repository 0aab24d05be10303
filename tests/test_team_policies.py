"""A bake changed as a team changes it: docs/policies.md's tenant-table example for dynamic origins, a second
policy of its own variables with its own route, the routes a team is most likely to add (POST
/api/orders, a sign-in, pages and forms outside /api/), and the example resource, items, taken out. The
baked suite must still pass, its own test routes clashing with none of them and needing none of the
examples, and gunicorn must serve each policy as declared.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import DEPLOYED_DATABASE, assert_opt_in_tests_pass, bake, run, run_project_suite, serve_with_gunicorn

TENANT = "https://shop.tenant-one.example"
PARTNER = "https://portal.partner.example"
FRONT_END = "https://app.example.com"
STRANGER = "https://evil.example.net"
PARTNERS_ROUTE = """

from flask import Blueprint, jsonify

partners = Blueprint("partners", __name__, url_prefix="/api/partners")


@partners.get("/orders/<int:order>")
def order(order: int):
    return jsonify(order=order)


blueprints = (*blueprints, partners)
"""
# The names the routes below use, imported where api.py imports.
TEAM_IMPORTS = """from flask import Blueprint, jsonify, request, session
from werkzeug.exceptions import BadRequest, NotFound, Unauthorized
"""
TEAM_ROUTES = """

# Routes a team adds: an orders API's most natural ones, a sign-in, forms and pages outside /api/.
team = Blueprint("team", __name__)
ORDERS: dict[int, dict] = {}


def order_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("item"), str):
        raise BadRequest('Send a JSON object with "item", a string.')
    return body


def signed_in() -> None:
    if "user" not in session:
        raise Unauthorized("Sign in first.")


@team.get("/")
def home():
    return jsonify(name="orders")


@team.get("/api")
def index():
    return jsonify(orders="/api/orders")


@team.post("/api/orders")
def create_order():
    number = len(ORDERS) + 1
    ORDERS[number] = order_body()
    return jsonify(order=number), 201


@team.get("/api/orders")
def list_orders():
    return jsonify(orders=ORDERS)


@team.route("/api/orders/<int:number>", methods=["GET", "PUT", "PATCH", "DELETE"])
def order(number: int):
    if number not in ORDERS:
        raise NotFound(f"No order {number}.")
    if request.method in ("PUT", "PATCH"):
        ORDERS[number] = order_body()
    elif request.method == "DELETE":
        del ORDERS[number]
    return jsonify(order=ORDERS.get(number))


@team.route("/api/changes", methods=["GET", "POST"])
def changes():
    signed_in()
    return jsonify(changes=[])


@team.get("/api/me")
def me():
    signed_in()
    return jsonify(user=session["user"])


@team.get("/api/private/profile")
def profile():
    signed_in()
    return jsonify(user=session["user"])


@team.get("/api/client")
def client():
    return jsonify(address=request.remote_addr)


@team.get("/api/fail")
def fail():
    return jsonify(failed=False)


@team.get("/api/thing")
def thing():
    return jsonify(thing=1)


@team.post("/api/public/feedback")
def feedback():
    return jsonify(thanks=True)


@team.post("/login")
def login():
    session["user"] = order_body()["item"]
    return jsonify(signed_in=True)


@team.post("/logout")
def logout():
    session.clear()
    return jsonify(signed_in=False)


@team.post("/account/email")
def email():
    signed_in()
    return jsonify(changed=True)


@team.get("/account/profile")
def account():
    signed_in()
    return jsonify(user=session["user"])


@team.post("/auth/callback")
def callback():
    raise Unauthorized("No identity provider signed this.")


@team.get("/internal/metrics")
def metrics():
    return jsonify(requests=0)
"""


def readme_tenant_example(project: Path) -> str:
    """The policies.py docs/policies.md shows for origins that change at run time."""
    section = (project / "docs" / "policies.md").read_text().split("### Origins that change at run time", 1)[1]
    return re.search(r"```python\n# src/\w+/policies.py\n(.*?)```", section, re.DOTALL)[1]


@pytest.fixture(scope="module")
def team_project(cookies_session) -> Path:
    project = bake(cookies_session)
    policies = readme_tenant_example(project).replace(
        '    Policy("public"', '    Policy("partners", "/api/partners/"),\n    Policy("public"'
    )
    (project / "src" / "my_api" / "policies.py").write_text(policies)
    (project / "src" / "my_api" / "api" / "orders.py").write_text(TEAM_IMPORTS + TEAM_ROUTES)
    remove_the_example_resource(project)
    with (project / "src" / "my_api" / "api" / "__init__.py").open("a") as api:
        api.write(PARTNERS_ROUTE + "\nfrom . import orders\n\nblueprints = (*blueprints, orders.team)\n")
    with sqlite3.connect(project / "tenants.sqlite3") as db:
        db.execute("CREATE TABLE tenant (name TEXT, origin TEXT UNIQUE)")
        db.execute("INSERT INTO tenant VALUES ('one', ?)", (TENANT,))
    return project


def remove_the_example_resource(project: Path) -> None:
    """Take out items as docs/database.md says a team does once its own resources replace it: the route module,
    its tests and its place in api/__init__.py; then its model, and a migration made by autogenerate drops its
    table (the baked suite's test_migrations checks that models and migrations agree)."""
    api = project / "src" / "my_api" / "api"
    (api / "items.py").unlink()
    (project / "tests" / "test_items.py").unlink()
    registry = (api / "__init__.py").read_text()
    (api / "__init__.py").write_text(registry.replace(", items\n", "\n").replace("    items.blueprint,\n", ""))
    models = project / "src" / "my_api" / "models.py"
    models.write_text(re.sub(r"\n\nclass Item\(Base\):.*?(?=\n\nclass )", "", models.read_text(), flags=re.DOTALL))
    for step in (["upgrade", "head"], ["revision", "--autogenerate", "-m", "take out the example items"]):
        done = run(project, sys.executable, "-m", "flask", "--app", "my_api", "db", *step)
        assert done.returncode == 0, done.stdout + done.stderr
    (migration,) = (project / "src" / "my_api" / "migrations" / "versions").glob("*_take_out_the_example_items.py")
    assert "op.drop_table('item')" in migration.read_text().replace('"', "'")


def test_the_baked_suite_passes_with_the_teams_policies(team_project):
    result = run_project_suite(team_project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    walked = run_project_suite(team_project, "--co", "tests/test_conformance.py").stdout
    assert "GET /api/partners/orders/1" in walked
    assert "POST /api/orders" in walked


def test_the_proxy_tests_and_the_probe_session_they_replay_pass_with_the_teams_policies(team_project):
    """The docs' probe session sets APP_ENV and CORS_ORIGINS only: with the partners policy declared, its
    replay gives the deployment and the probe the team's other allowlists too, as a deployment has them."""
    assert_opt_in_tests_pass(team_project, "proxies")


def allowed_origin(url: str, origin: str) -> str | None:
    request = urllib.request.Request(url, headers={"Origin": origin})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers.get("Access-Control-Allow-Origin")


def test_gunicorn_serves_each_policy_as_declared(team_project):
    variables = {
        "APP_ENV": "production",
        "CORS_ORIGINS": FRONT_END,
        "CORS_ALLOW_CREDENTIALS": "true",
        "CORS_PARTNERS_ORIGINS": PARTNER,
        "SECRET_KEY": "a-test-secret-key-of-at-least-32-characters",
        **DEPLOYED_DATABASE,
    }
    with serve_with_gunicorn(team_project, variables) as server:
        api, partners = f"{server.url}/api/health", f"{server.url}/api/partners/orders/7"
        answers = {
            (where, origin): allowed_origin(url, origin)
            for where, url in (("api", api), ("partners", partners), ("public", f"{server.url}/api/public/status"))
            for origin in (FRONT_END, TENANT, PARTNER, STRANGER)
        }
        log = server.log()
    assert answers == {
        ("api", FRONT_END): FRONT_END,
        ("api", TENANT): TENANT,
        ("api", PARTNER): None,
        ("api", STRANGER): None,
        ("partners", FRONT_END): None,
        ("partners", TENANT): None,
        ("partners", PARTNER): PARTNER,
        ("partners", STRANGER): None,
        **{("public", origin): "*" for origin in (FRONT_END, TENANT, PARTNER, STRANGER)},
    }
    assert "CORS policy 'default' on /api/ also allows the origins tenant_origins accepts" in log
    assert "CORS policy 'public' on /api/public/ is public" in log


# Routes a team writes, each setting a CORS header of its own on its success path only: one validates its body,
# the other reads a row of a table of the team's by id (typed columns, a foreign key), which the conformance
# test must find there for the success path to run.
ORDERS_MODULE = """
import enum
from datetime import datetime

from flask import abort
from flask_openapi3 import APIBlueprint
from pydantic import BaseModel, Field
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from .. import db
from ..models import Base

blueprint = APIBlueprint("orders", __name__, url_prefix="/api/orders")


class Status(enum.Enum):
    PLACED = "placed"
    SHIPPED = "shipped"


class PlacedOrder(Base):
    __tablename__ = "placed_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    count: Mapped[int]
    status: Mapped[Status]
    placed_at: Mapped[datetime]


class Order(BaseModel):
    item: str = Field(min_length=1)
    count: int = Field(ge=1)


class OrderPath(BaseModel):
    order_id: int


@blueprint.post("")
def create_order(body: Order):
    return {"item": body.item, "count": body.count}, 201, {"Access-Control-Allow-Origin": "*"}


@blueprint.get("/<int:order_id>")
def read_order(path: OrderPath):
    order = db.session().get(PlacedOrder, path.order_id)
    if order is None:
        abort(404)
    return {"count": order.count, "status": order.status.value}, 200, {"Access-Control-Allow-Origin": "*"}
"""


# Routes a team writes, one failing with a server error, one guarded by an API key: the conformance test's
# ENDPOINT_HEADERS gives the walk the key, so that only the failing route fails it.
FAILING_ORDERS_MODULE = """
from flask import abort, request
from flask_openapi3 import APIBlueprint
from pydantic import BaseModel

blueprint = APIBlueprint("orders", __name__, url_prefix="/api/orders")


class Period(BaseModel):
    month: int = 1


@blueprint.get("")
def list_orders():
    raise RuntimeError("the orders are not there")


@blueprint.get("/summary")
def summary(query: Period):
    if request.headers.get("X-API-Key") != "sample-key":
        abort(401)
    return {"month": query.month, "orders": 0}
"""
ENDPOINT_HEADERS = "ENDPOINT_HEADERS: dict[str, dict[str, str]] = {}"


def walk_with_orders(project: Path, module: str) -> tuple[str, list[str]]:
    """The output of the baked conformance test, failing, with api/orders.py holding `module`, and the requests
    that failed it ("GET /api/orders/1")."""
    (project / "src" / "my_api" / "api" / "orders.py").write_text(module)
    with (project / "src" / "my_api" / "api" / "__init__.py").open("a") as api:
        api.write("\nfrom . import orders  # noqa: E402\n\nblueprints = (*blueprints, orders.blueprint)\n")
    result = run_project_suite(project, "tests/test_conformance.py")
    assert result.returncode == 1, result.stdout[-3000:]
    return result.stdout, sorted(re.findall(r"^FAILED \S+\[sqlite-(\w+ \S+)\]", result.stdout, re.MULTILINE))


def test_a_header_on_the_success_path_of_a_team_route_fails_the_baked_suite_naming_it(cookies):
    output, failed = walk_with_orders(bake(cookies), ORDERS_MODULE)
    assert failed == ["GET /api/orders/1", "POST /api/orders"], output[-3000:]
    for route, view in (("/api/orders", "create_order"), ("/api/orders/<int:order_id>", "read_order")):
        assert f"route {route} (view orders.{view}) set Access-Control-Allow-Origin itself" in output


def test_a_server_error_of_a_team_route_fails_the_baked_suite_naming_it_and_a_route_given_its_header_passes(cookies):
    project = bake(cookies)
    walk = project / "tests" / "test_conformance.py"
    assert ENDPOINT_HEADERS in walk.read_text()
    keyed = 'ENDPOINT_HEADERS: dict[str, dict[str, str]] = {"orders.summary": {"X-API-Key": "sample-key"}}'
    walk.write_text(walk.read_text().replace(ENDPOINT_HEADERS, keyed))
    output, failed = walk_with_orders(project, FAILING_ORDERS_MODULE)
    assert failed == ["GET /api/orders"], output[-3000:]
    assert "a server error, a bug in the route: GET /api/orders (route /api/orders, policy 'default')" in output
