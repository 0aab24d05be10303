"""The database under the team's models: an engine per process, foreign keys kept on every database, and a
write the database refuses answered as a conflict. On SQLite, and on PostgreSQL with `-m postgres`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from {{ cookiecutter.package_name }} import db

import conftest

FRONT_END = "http://localhost:3000"
# Tables of the tests' own, beside the models' and named as none of a team's would be.
TEST_TABLES = MetaData()
PARENTS = Table(
    "__tests___parent", TEST_TABLES, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True)
)
CHILDREN = Table(
    "__tests___child",
    TEST_TABLES,
    Column("id", Integer, primary_key=True),
    Column("parent_id", ForeignKey(PARENTS.c.id), nullable=False),
)
# Routes of the tests' own: one stores a parent named "taken", the other a child without its parent, a bug.
PARENT_ROUTE = f"{conftest.TEST_API}/parents"
ORPHAN_ROUTE = f"{conftest.TEST_API}/orphans"


@pytest.fixture
def app(make_database_app) -> Iterator[Flask]:
    """The app on its database with the models' tables and TEST_TABLES, PARENT_ROUTE and ORPHAN_ROUTE; each
    answer is made after a read through the request's session, as a team's after_request hook might."""
    app = make_database_app(CORS_ORIGINS=FRONT_END)

    @app.post(PARENT_ROUTE)
    def store_a_parent():
        db.session().execute(insert(PARENTS).values(name="taken"))
        db.session().commit()
        return "", 204

    @app.post(ORPHAN_ROUTE)
    def store_an_orphan():
        db.session().execute(insert(CHILDREN).values(parent_id=None))
        db.session().commit()
        return "", 204

    @app.after_request
    def read_after_the_view(response):
        db.session().execute(select(func.count()).select_from(PARENTS))
        return response

    TEST_TABLES.create_all(db.engine(app))
    yield app
    TEST_TABLES.drop_all(db.engine(app))


def test_a_row_that_another_points_to_is_kept(app):
    """SQLite checks foreign keys only when asked (db.py asks): a developer's database keeps them as PostgreSQL does."""
    with db.engine(app).begin() as connection:
        connection.execute(insert(PARENTS).values(id=1, name="parent"))
        connection.execute(insert(CHILDREN).values(parent_id=1))
    with pytest.raises(IntegrityError), db.engine(app).begin() as connection:
        connection.execute(delete(PARENTS))


def test_a_value_already_taken_is_a_json_409_with_the_policy_s_headers(app, caplog):
    client = app.test_client()
    assert client.post(PARENT_ROUTE, headers={"Origin": FRONT_END}).status_code == 204
    refused = client.post(PARENT_ROUTE, headers={"Origin": FRONT_END})
    conftest.assert_json_error(refused, 409)
    assert refused.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "The database refused a write" in caplog.text


def test_another_refusal_of_the_database_is_a_bug_in_the_view_a_json_500(app):
    conftest.assert_json_error(app.test_client().post(ORPHAN_ROUTE, headers={"Origin": FRONT_END}), 500)


def test_a_forked_worker_makes_its_own_engine_and_shares_no_connection(make_app):
    """gunicorn forks its workers: an engine (and its pooled connections) made before the fork stays the master's."""
    database = make_app(APP_ENV="testing", CORS_ORIGINS=FRONT_END).extensions[db.STATE_KEY]
    before_fork = database.engine
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: answer through the pipe, then leave without running pytest's exit handlers
        os.write(write, b"own" if database.engine is not before_fork else b"shared")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 6) == b"own"
    assert database.engine is before_fork
