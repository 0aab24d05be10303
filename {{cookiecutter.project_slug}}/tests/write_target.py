"""The API with one route that changes state, served by gunicorn for the browser tests of cross-origin writes.

POST TEST_API/changes records a change and the session cookie it came with; GET TEST_API/changes lists them.
gunicorn runs it with one worker (WEB_CONCURRENCY=1): the list is then the server's whole state.
"""

from flask import jsonify, request

from {{ cookiecutter.package_name }} import create_app

from conftest import TEST_API

app = create_app()
changes: list[str | None] = []


@app.post(f"{TEST_API}/changes")
def change():
    changes.append(request.cookies.get("session"))
    return jsonify(changes=changes)


@app.get(f"{TEST_API}/changes")
def list_changes():
    return jsonify(changes=changes)
