"""The API with one route that changes state, served by gunicorn for the browser tests of cross-origin writes.

POST /api/changes records a change and the session cookie it came with; GET /api/changes lists them.
gunicorn runs it with one worker (WEB_CONCURRENCY=1): the list is then the server's whole state.
"""

from flask import jsonify, request

from {{ cookiecutter.package_name }} import create_app

app = create_app()
changes: list[str | None] = []


@app.post("/api/changes")
def change():
    changes.append(request.cookies.get("session"))
    return jsonify(changes=changes)


@app.get("/api/changes")
def list_changes():
    return jsonify(changes=changes)
