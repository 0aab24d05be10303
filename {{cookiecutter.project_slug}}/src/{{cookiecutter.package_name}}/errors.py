"""Every error as a JSON body, never an HTML page or a traceback."""

from __future__ import annotations

from flask import Flask, current_app, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _http_error(error: HTTPException):
    response = jsonify(error={"status": error.code, "title": error.name, "detail": error.description})
    response.status_code = error.code
    # Keep headers the error defines, such as Allow on a 405.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unexpected_error(error: Exception):
    """Log the traceback for the operator; the client learns only that the server failed."""
    current_app.logger.exception("Unhandled exception", exc_info=error)
    return _http_error(InternalServerError())
