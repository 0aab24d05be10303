"""Every route the app has, the team's included, answers as the policy that covers it says.

This test walks `app.url_map`: a route added to api.py (or any blueprint) is covered without a test
of its own. For each route and method under a policy it sends what a browser sends, from an allowed
origin, a refused one, without an Origin, and as a preflight, and compares the answer with the
policy's settings. A route that sets an Access-Control-* header itself fails here, named: in testing
the CORS layer answers it with a 500 that says which route set which header.

A route that declares request models (flask-openapi3: a `body`, `query` or `path` argument typed with a
pydantic model) is sent a body built from its model, the model's first example if it has one, so that its
success path runs: it must answer below 400 to the allowed origin and without an Origin, and a header
set there fails, named. It is also sent a body with every field wrong: a 422 naming each field, with
the policy's headers. {% if cookiecutter.database == "postgresql" %}Each request meets a database with two rows in the table of each model
(sample_rows()): the first, which the sample path arguments name, is the one a route reads, changes or
deletes by id, in a table of the team's too; the rows of other tables point to the second.
{% endif %}Other routes are sent no body, as a browser's bare request.

Whatever a route is sent, it must answer below 500: a 400, 401 or 404 to a bare request is an answer, a
500 a bug in the view.

A route with path arguments gets sample values; where none of SAMPLES fits its converter, add the
route's endpoint to ENDPOINT_SAMPLES. A route that needs a header of its own (a token, an API key) gets it
from ENDPOINT_HEADERS, with every request the walk sends it but the preflight, which a browser sends
without credentials.
"""

from __future__ import annotations

{% if cookiecutter.database == "postgresql" -%}
import enum
{% endif -%}
import inspect
import typing
import uuid
from collections.abc import Iterator
{%- if cookiecutter.database == "postgresql" %}
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
{%- endif %}
from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel, ValidationError
{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy import Column
from sqlalchemy import inspect as inspect_model
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
{%- endif %}
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from {{ cookiecutter.package_name }} import create_app{% if cookiecutter.database == "postgresql" %}, db{% endif %}
{%- if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.auth import passwords
from {{ cookiecutter.package_name }}.auth.models import User
{%- endif %}
from {{ cookiecutter.package_name }}.cors.policy import CorsPolicy, policy_for
from {{ cookiecutter.package_name }}.cors.report import policy_report
{%- if cookiecutter.database == "postgresql" %}
from {{ cookiecutter.package_name }}.models import Base
{%- endif %}
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import Settings

import conftest

ALLOWED = conftest.ALLOWED_ORIGINS[0]
REFUSED = "https://refused.example.net"
# Tried in turn for each path argument, until the built path matches the route again.
SAMPLES = (1, "sample", uuid.UUID(int=1), 1.5)
# {endpoint: {argument: value}} for routes whose converters take none of SAMPLES.
ENDPOINT_SAMPLES: dict[str, dict[str, object]] = {}
# {endpoint: {header: value}} for routes that need a header to reach their success path: {"reports.summary":
# {"X-API-Key": "sample-key"}}. It wins over the sample user's credentials, and the walk's Origin over it.
ENDPOINT_HEADERS: dict[str, dict[str, str]] = {}
# The arguments through which flask-openapi3 hands a view its validated request.
REQUEST_MODEL_ARGUMENTS = ("path", "query", "body")
{%- if cookiecutter.database == "postgresql" %}

# Each table gets two rows. The first, which the sample path arguments name (SAMPLES: 1, "sample"...), no row
# points to, so that a DELETE of it succeeds; the rows of other tables point to the second.
NAMED_ROW, POINTED_TO_ROW = 1, 2


def typed_sample(kind: type, row: int) -> object:
    """The value of a column of Python type `kind` in sample row `row` (1 or 2), SAMPLES' own in row 1; None
    for a type without a sample."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        members = list(kind)
        return members[(row - 1) % len(members)]
    samples = {
        int: row,
        str: "sample" if row == NAMED_ROW else f"sample-{row}",
        uuid.UUID: uuid.UUID(int=row),
        float: row + 0.5,
        Decimal: Decimal(row),
        bool: row == NAMED_ROW,
        bytes: f"sample-{row}".encode(),
        datetime: datetime(2026, 1, row, tzinfo=UTC),
        date: date(2026, 1, row),
        time: time(0, row),
        timedelta: timedelta(minutes=row),
        dict: {},
        list: [],
    }
    return samples.get(kind)


def fixed_rows() -> dict[str, tuple[Base, ...]]:
    """{table: its rows} for the tables whose rows must be given ones, not samples{% if cookiecutter.auth != "none" %}: the account each request signs
    in with, and another{% else %}. A one-to-one table, say, whose
    two sample rows point to the first two rows of the other table, may have a single row here, pointing to
    POINTED_TO_ROW there, so that a DELETE of the first there succeeds{% endif %}."""
{%- if cookiecutter.auth != "none" %}
    return {
        "user": tuple(
            User(email=email, password_hash=passwords.hash_password(conftest.PASSWORD))
            for email in (conftest.EMAIL, f"other-{conftest.EMAIL}")
        )
    }
{%- else %}
    return {}
{%- endif %}


def column_sample(column: Column, row: int) -> object:
    """typed_sample() for `column`'s Python type (a TypeDecorator's own, else the type it stores), cut to the
    column's length."""
    kind = None
    for column_type in (column.type, getattr(column.type, "impl_instance", None)):
        try:
            kind = column_type.python_type
        except (AttributeError, NotImplementedError):
            continue
        if kind is not object:
            break
    value = typed_sample(kind, row)
    if value is None:
        pytest.fail(f"no sample value for column {column} ({column.type}): give its table rows in fixed_rows()")
    length = getattr(column.type, "length", None)
    return value[-length:] if isinstance(value, str) and length else value


def sample_row(model: type[Base], row: int) -> Base:
    """Row `row` of `model`, with a sample value in each column the database does not fill by itself: not the
    numbered primary key, no other column with a default, nothing where NULL is allowed. A foreign key gets the
    key of POINTED_TO_ROW in the table it points to, unless it must differ from row to row (it is unique, or
    part of the primary key): then that of the same row there (fixed_rows() may do otherwise)."""
    values = {}
    for attribute in inspect_model(model).column_attrs:
        column = attribute.columns[0]
        if column is column.table.autoincrement_column or column.nullable:
            continue
        if not column.primary_key and (column.default is not None or column.server_default is not None):
            continue
        distinct = column.primary_key or column.unique
        target = POINTED_TO_ROW if column.foreign_keys and not distinct else row
        values[attribute.key] = column_sample(column, target)
    return model(**values)


def sample_rows() -> list[Base]:
    """Two rows in the table of each model, in an order that puts a row before those pointing to it. Integer ids
    are made by the database, 1 then 2 in a table reset_database() has emptied (ids given here would leave
    PostgreSQL's sequence behind, and the next insert would collide). A table without a model, one linking two
    others, stays empty."""
    models = {mapper.local_table: mapper.class_ for mapper in Base.registry.mappers}
    fixed = fixed_rows()
    rows = []
    for table in Base.metadata.sorted_tables:
        if table in models:
            rows += fixed.get(table.name) or [sample_row(models[table], row) for row in (NAMED_ROW, POINTED_TO_ROW)]
    return rows


def reset_database(app: Flask) -> None:
    """The tables emptied, then given sample_rows(): a DELETE sent before must not change what the next request
    finds. Emptied, not made again, so that the types they use (a PostgreSQL enum) stay the ones the connections
    know; ids start at 1 again, as PostgreSQL's sequences restart and SQLite numbers after the largest id there."""
    engine = db.engine(app)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            quote = connection.dialect.identifier_preparer.format_table
            tables = ", ".join(quote(table) for table in Base.metadata.sorted_tables)
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    with Session(engine) as session:
        for row in sample_rows():
            session.add(row)
            try:
                session.flush()
            except SQLAlchemyError as error:
                pytest.fail(f"table {row.__tablename__} refused a sample row ({error}): give its rows in fixed_rows()")
        session.commit()
{%- endif %}


def conformance_app({% if cookiecutter.database == "postgresql" %}database_url: str = conftest.TEST_DATABASE_URL{% endif %}) -> Flask:
    """The app in testing, every policy given the production origins and credentials where it can have them."""
    variables = {"APP_ENV": "testing", "SECRET_KEY": conftest.SECRET_KEY, "API_DOCS": "true"}
{%- if cookiecutter.database == "postgresql" %}
    variables["DATABASE_URL"] = database_url
{%- endif %}
    for declaration in POLICIES:
        if not declaration.public:
            variables[declaration.variable("ORIGINS")] = conftest.PRODUCTION_CORS_ORIGINS
            variables[declaration.variable("ALLOW_CREDENTIALS")] = "true"
    return create_app(Settings.from_environ(variables))


def sample_path(app: Flask, rule: Rule, method: str) -> str:
    """A path that `rule` answers for `method`, with sample values for its arguments."""
    adapter = app.url_map.bind("localhost")
    for sample in SAMPLES:
        values = ENDPOINT_SAMPLES.get(rule.endpoint) or dict.fromkeys(rule.arguments, sample)
        path = adapter.build(rule.endpoint, values, method=method)
        try:
            if adapter.match(path, method=method)[0] == rule.endpoint:
                return path
        except HTTPException:
            continue
    pytest.fail(f"no sample value fits route {rule.rule}: add its endpoint {rule.endpoint!r} to ENDPOINT_SAMPLES")


def request_models(app: Flask, endpoint: str) -> dict[str, type[BaseModel]]:
    """{argument: model} of the pydantic models the route's view declares, as flask-openapi3 reads them."""
    view = inspect.unwrap(app.view_functions[endpoint])
    hints = typing.get_type_hints(view) if inspect.isfunction(view) else {}
    return {name: hints[name] for name in REQUEST_MODEL_ARGUMENTS if name in hints}


def sample_value(schema: dict[str, Any], definitions: dict[str, Any]) -> Any:
    """A value that JSON `schema` accepts, in the simplest form: its example, its default, or the least
    its type and bounds allow."""
    if "$ref" in schema:
        return sample_value(definitions[schema["$ref"].rsplit("/", 1)[1]], definitions)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "default" in schema:
        return schema["default"]
    if "anyOf" in schema:
        return sample_value(schema["anyOf"][0], definitions)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: sample_value(properties[name], definitions) for name in schema.get("required", [])}
    if kind == "array":
        return [sample_value(schema.get("items", {}), definitions)] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    return {"string": "s" * max(1, schema.get("minLength", 1)), "boolean": True, "null": None}.get(kind)


def valid_body(model: type[BaseModel], route: str) -> Any:
    """A body `model` accepts, built from its JSON schema; the model's own first example wins."""
    schema = model.model_json_schema()
    body = sample_value(schema, schema.get("$defs", {}))
    try:
        model.model_validate(body)
    except ValidationError as error:
        pytest.fail(f"no valid body could be built for route {route} ({error}): give {model.__name__} an example")
    return body


def wrong_body(model: type[BaseModel]) -> dict[str, list]:
    """A body with a list for each field the model declares, which no scalar or object field accepts."""
    return {name: [[]] for name in model.model_json_schema().get("properties", {})}


def covered_requests() -> Iterator[tuple[str, str, str]]:
    """(method, path, route) for every method of every route that a policy covers."""
    app = conformance_app()
    policies = app.extensions["settings"].policies
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        if policy_for(policies, rule.rule) is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, sample_path(app, rule, method), rule.rule


COVERED = list(covered_requests())


def expected_simple(policy: CorsPolicy, origin: str) -> dict[str, str]:
    """The Access-Control-* headers `policy` gives a request that is not a preflight from an origin it allows."""
    expected = {"Access-Control-Allow-Origin": "*" if policy.public else origin}
    if policy.allow_credentials:
        expected["Access-Control-Allow-Credentials"] = "true"
    if policy.expose_headers:
        expected["Access-Control-Expose-Headers"] = ", ".join(policy.expose_headers)
    return expected


{% if cookiecutter.database == "postgresql" -%}
@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """On SQLite in memory; with `pytest -m postgres`, on a real PostgreSQL server too: the models' tables made
    for the walk, and dropped after it."""
    database_url = conftest.TEST_DATABASE_URL if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    app = conformance_app(database_url)
    Base.metadata.create_all(db.engine(app))
    yield app
    Base.metadata.drop_all(db.engine(app))
{%- else -%}
@pytest.fixture(scope="module")
def app() -> Flask:
    return conformance_app()
{%- endif %}


def test_every_route_under_a_policy_is_walked():
    """Each route `flask cors show` lists under a policy, and some: an empty walk would prove nothing."""
    listed = {route["path"] for policy in policy_report(conformance_app())["policies"] for route in policy["routes"]}
    assert listed and {route for _, _, route in COVERED} == listed


@pytest.mark.parametrize(("method", "path", "route"), COVERED, ids=[f"{m} {p}" for m, p, _ in COVERED])
def test_every_covered_route_answers_as_its_policy_says(app, method, path, route):
    policy = policy_for(app.extensions["settings"].policies, path)
    client = app.test_client()
    endpoint = app.url_map.bind("localhost").match(path, method=method)[0]
    models = request_models(app, endpoint)
    body = {"json": valid_body(models["body"], route)} if "body" in models else {}

    def send(headers: dict[str, str], **content):
{%- if cookiecutter.database == "postgresql" %}
        reset_database(app)
{%- endif %}
        headers = {**ENDPOINT_HEADERS.get(endpoint, {}), **headers}
{%- if cookiecutter.auth != "none" %}
        # As the sample user, signed in: a route that needs one reaches its success path too.
        headers = {**conftest.credentials_of(conftest.login(client)), **headers}
{%- endif %}
        response = client.open(path, method=method, headers=headers, **content)
        where = f"{method} {path} (route {route}, policy {policy.name!r}), answered {response.status}"
        context = f"{where}: {response.get_data(as_text=True)[:400]}"
        assert response.status_code < 500, f"a server error, a bug in the route: {context}"
        return response, context

    allowed, context = send({"Origin": ALLOWED}, **body)
    assert conftest.cors_headers(allowed) == expected_simple(policy, ALLOWED), context
    assert "origin" in conftest.vary(allowed), context
    if models:
        assert allowed.status_code < 400, f"the success path was not reached: {context}"

    refused, context = send({"Origin": REFUSED}, **body)
    expected = expected_simple(policy, REFUSED) if policy.public else {}
    assert conftest.cors_headers(refused) == expected, context
    assert "origin" in conftest.vary(refused), context

    without_origin, context = send({}, **body)
    assert conftest.cors_headers(without_origin) == {}, context
    assert "origin" in conftest.vary(without_origin), context
    if models:
        assert without_origin.status_code < 400, f"the success path was not reached: {context}"

    if "body" in models:
        wrong, context = send({"Origin": ALLOWED}, json=wrong_body(models["body"]))
        assert wrong.status_code == 422, context
        assert set(wrong.json["error"]["fields"]) == set(wrong_body(models["body"])), context
        assert conftest.cors_headers(wrong) == expected_simple(policy, ALLOWED), context

    asked = {"Origin": ALLOWED, "Access-Control-Request-Method": method}
    preflight = client.options(path, headers=asked)
    methods = {item.strip() for item in preflight.headers.get("Access-Control-Allow-Methods", "").split(",")}
    context = f"preflight of {method} {path} (route {route}, policy {policy.name!r}), answered {preflight.status}"
    assert preflight.status_code == 204, context
    assert preflight.headers["Access-Control-Allow-Origin"] == ("*" if policy.public else ALLOWED), context
    assert (method in methods) == (method in policy.allow_methods), f"{context}: {methods}"
