"""The app's class: flask-openapi3's Flask, with every request served through the CORS layer first.

flask-openapi3 checks each route's requests against its pydantic models and describes the routes in the
OpenAPI document. ServedThroughLayer makes the app's `__call__` run ProxyFix (for the trusted proxies) and
the CORS layer before `app.wsgi_app`, whatever is assigned to it later: a middleware a team wraps around it
runs inside the layer, never around it (cors/layer.py).
"""

from flask_openapi3 import OpenAPI

from .cors.layer import ServedThroughLayer


class App(ServedThroughLayer, OpenAPI):
    """The API: served through the CORS layer, described by its OpenAPI document."""
