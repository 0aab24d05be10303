"""Where log lines go and what they look like, and the two guards a line about a client needs.

Every record, the app's, Flask's, werkzeug's and gunicorn's, goes to stdout through one handler,
where containers and process managers collect it: one JSON object per line when LOG_FORMAT=json
(staging and production), a plain line when LOG_FORMAT=text. create_app() installs the handler
with `configure`; gunicorn installs the same one through `gunicorn_logconfig` (gunicorn.conf.py).

A client chooses its headers and its path, so a value from a request goes into a line through
`printable`, and a line a client can trigger at will goes through a `Throttle`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

LOG_FORMATS = ("json", "text")
# The WSGI environ key that marks a request sent to ask the app what it answers (`flask cors check`,
# `probe`, the playground): answered as any other, never logged as a refusal. A mark on the request,
# not a switch on a logger, so that a real refusal at the same moment, in another thread, is logged.
QUESTION = "cors.question"
HANDLER_NAME = __name__
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The attributes every LogRecord has; any other one came from a call's `extra` and becomes a JSON field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_QUOTES = str.maketrans({'"': '\\"', "\\": "\\\\"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the call's `extra` fields, and
    the traceback when there is one. json.dumps escapes every newline, so a record stays one line.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((name, value) for name, value in vars(record).items() if name not in _RECORD_ATTRIBUTES)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def stdout_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """The one handler every record goes through, writing `log_format` ("json" or "text") to stdout
    (or to `stream`)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.name = HANDLER_NAME
    return handler


def configure(log_format: str, stream: TextIO | None = None) -> None:
    """Send every record of INFO and above to stdout (or `stream`) in `log_format`.

    Run by each create_app(): it replaces the handler it installed before (or gunicorn's copy of
    it) instead of adding a second one, and leaves other handlers, such as pytest's, in place.
    """
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if handler.name == HANDLER_NAME]:
        root.removeHandler(handler)
    root.addHandler(stdout_handler(log_format, stream))
    root.setLevel(logging.INFO)


def gunicorn_logconfig(log_format: str) -> dict:
    """gunicorn's `logconfig_dict`: its error and access loggers hand their lines to the same handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {HANDLER_NAME: {"()": stdout_handler, "log_format": log_format}},
        "root": {"level": "INFO", "handlers": [HANDLER_NAME]},
        # No level here, so gunicorn's --log-level still applies to its error log.
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("gunicorn.error", "gunicorn.access")},
    }


def printable(value: str, limit: int = 200) -> str:
    """`value` cut to `limit` characters, with `"`, backslashes and every non-printable character
    escaped: CR and LF (which would start a forged line), ANSI sequences (which rewrite the
    operator's terminal), Unicode line separators.
    """
    cut = value[:limit].translate(_QUOTES)
    text = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in cut)
    return text if len(value) <= limit else f"{text}...(+{len(value) - limit} characters)"


class Throttle:
    """Lets through at most one event per key, and at most `max_keys` events, per `interval` seconds.

    The keys come from clients (an Origin header), so they are remembered for the current interval
    only, at most `max_keys` of them: sending a new key with every request neither floods the log
    nor grows the memory. The events held back are counted, and the count is handed to the next
    event let through, so the log still says how many lines it left out.
    """

    def __init__(self, interval: float = 60.0, max_keys: int = 100, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.max_keys = max_keys
        self.clock = clock
        self._interval_start = clock()
        self._keys: set[str] = set()
        self._suppressed = 0

    def admit(self, key: str) -> int | None:
        """None to leave this event out; otherwise the number of events left out since the last one admitted."""
        now = self.clock()
        if now - self._interval_start >= self.interval:
            self._interval_start, self._keys = now, set()
        if key in self._keys or len(self._keys) >= self.max_keys:
            self._suppressed += 1
            return None
        self._keys.add(key)
        suppressed, self._suppressed = self._suppressed, 0
        return suppressed


@dataclass
class RefusalLog:
    """One WARNING line per refused request: what was refused, the method, the path, the Origin, the
    environment, and `details` such as the Sec-Fetch-Site header, as text and as JSON fields.

    The Origin, the path and the details are the client's to choose, so they go through `printable`
    (a CR/LF would forge a line), and the lines are throttled: at most one per Origin and 100 in all
    per minute, the next line saying how many were left out. A request marked as a QUESTION is the
    app's own, asked by the `flask cors` commands: never logged.
    """

    logger: logging.Logger
    # The start of the line, before the quoted Origin: 'CORS refused origin'.
    refused: str
    environment: str
    throttle: Throttle = field(default_factory=Throttle)

    def record(self, environ: dict, **details: str) -> None:
        if environ.get(QUESTION):
            return
        origin = environ.get("HTTP_ORIGIN") or "(none)"
        suppressed = self.throttle.admit(origin) if self.logger.isEnabledFor(logging.WARNING) else None
        if suppressed is None:
            return
        shown = {name: printable(value) for name, value in details.items()}
        fields = {
            "method": printable(environ["REQUEST_METHOD"]),
            "path": printable(environ.get("PATH_INFO", "")),
            "origin": printable(origin),
            **shown,
            "environment": self.environment,
            "suppressed": suppressed,
        }
        told = "".join(f", {name.replace('_', '-').title()}: {value}" for name, value in shown.items())
        note = f" ({suppressed} more refusals since the last line were not logged)" if suppressed else ""
        self.logger.warning(
            '%s "%s": %s %s%s, APP_ENV=%s%s',
            self.refused,
            fields["origin"],
            fields["method"],
            fields["path"],
            told,
            self.environment,
            note,
            extra=fields,
        )
