"""The benchmark's baseline: Flask with the generated API's routes and nothing else (no CORS, no settings).

run.py copies this file next to the baked package, so that both are imported and served alike.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/api/health")
def health():
    return jsonify(status="ok")


@app.post("/api/echo")
def echo():
    return jsonify(request.get_json())
