"""Every error as a JSON body, never an HTML page or a traceback."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError, UnprocessableEntity


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(Exception, _unexpected_error)


def validation_error_response(error: ValidationError) -> Response:
    """A request that breaks its route's schema: 422, the usual error shape, and `fields`, one message per
    field ("body" for a body that is not an object at all), so a front end can show each beside its input."""
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        fields.setdefault(".".join(str(part) for part in problem["loc"]) or "body", problem["msg"])
    detail = "; ".join(f"{name}: {message}" for name, message in fields.items())
    response = jsonify(
        error={"status": 422, "title": UnprocessableEntity().name, "detail": detail or str(error), "fields": fields}
    )
    response.status_code = 422
    return response


def http_error_response(error: HTTPException) -> Response:
    """`error` in the usual shape: {"error": {"status", "title", "detail"}}."""
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
    return http_error_response(InternalServerError())
