"""The benchmark's baseline: Flask with the generated API's routes and nothing else (no CORS, no settings).

run.py copies this file next to the baked package, so that both are imported and served alike. The item
route reads the same table of the same database (DATABASE_URL) through the same models, with a session
per request and an engine made in each worker, as the project does; without CORS, schemas or settings.
"""

import os

from flask import Flask, abort, g, jsonify
from my_api.models import Item
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

app = Flask(__name__)
engines = {}


def session() -> Session:
    if "session" not in g:
        pid = os.getpid()
        if pid not in engines:
            engines[pid] = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, pool_size=5, max_overflow=5)
        g.session = Session(engines[pid])
    return g.session


@app.teardown_appcontext
def close_session(_error):
    if "session" in g:
        g.pop("session").close()


@app.get("/api/items/<int:item_id>")
def read_item(item_id: int):
    item = session().get(Item, item_id)
    if item is None:
        abort(404)
    return jsonify(id=item.id, name=item.name, quantity=item.quantity)


@app.get("/api/health")
def health():
    return jsonify(status="ok")
