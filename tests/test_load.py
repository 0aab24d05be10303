"""The default bake under gunicorn in production, loaded: each response carries its own request's CORS headers.

CONNECTIONS threads send requests over loopback, one connection each at a time (gunicorn's sync
workers close every connection), until DURATION seconds or MAX_REQUESTS requests, whichever comes
first: allowed and refused GETs, allowed and refused preflights. Each origin comes round every
DISTINCT_ORIGINS requests (a wildcard entry allows any label), so both the first decision about an
origin and the remembered one are loaded, while the requests in flight together nearly always carry
different origins: a header carried over from one to another would not match. Throughput is
printed (`pytest -s` or `-rP` shows it), never asserted: it depends on the machine.
"""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from conftest import DEPLOYED_DATABASE, serve_with_gunicorn

CONNECTIONS = 64
DURATION = 10.0
MAX_REQUESTS = 50_000
# Origins come round again after this many requests: the CORS layer decides each once, then reuses its answer.
DISTINCT_ORIGINS = 400

SETTINGS = {"APP_ENV": "production", "CORS_ORIGINS": "https://*.preview.example.com", **DEPLOYED_DATABASE}
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
# What an allowed preflight gets besides its origin, from the default CORS_ALLOW_* and CORS_MAX_AGE.
PREFLIGHT_ANSWER = {
    "access-control-allow-methods": "DELETE, GET, HEAD, PATCH, POST, PUT",
    "access-control-allow-headers": "content-type",
    "access-control-max-age": "600",
}


def planned(number: int) -> tuple[str, str, dict[str, str], int, list[tuple[str, str]]]:
    """Request `number`: method, path and headers, then the status and CORS headers it must get."""
    allowed, preflight = number % 2 == 0, number % 4 >= 2
    origin = f"https://pr-{number % DISTINCT_ORIGINS}.preview.example.{'com' if allowed else 'org'}"
    cors = {"access-control-allow-origin": origin} if allowed else {}
    if not preflight:
        return "GET", "/api/health", {"Origin": origin}, 200, sorted(cors.items())
    if allowed:
        cors |= PREFLIGHT_ANSWER
    return "OPTIONS", "/api/items", {"Origin": origin, **PREFLIGHT}, 204, sorted(cors.items())


def send(port: int, numbers: range, deadline: float) -> tuple[int, list[str]]:
    """Send the requests `numbers` one after the other until `deadline`; return how many, and what went wrong."""
    sent, problems = 0, []
    for number in numbers:
        if time.monotonic() > deadline:
            break
        method, path, headers, status, cors = planned(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
        except OSError as error:
            problems.append(f"{method} from {headers['Origin']}: {error!r}")
            continue
        finally:
            connection.close()
        sent += 1
        received = [(name.lower(), value) for name, value in response.getheaders()]
        # A list, not a dict: a header sent twice is a fault too.
        got = sorted(header for header in received if header[0].startswith("access-control-"))
        vary = response.getheader("Vary")
        if (response.status, got, vary) != (status, cors, "Origin"):
            problems.append(f"{method} from {headers['Origin']}: {response.status}, {got}, Vary: {vary}")
    return sent, problems


def test_concurrent_requests_each_get_exactly_their_own_cors_headers(default_project):
    with serve_with_gunicorn(default_project, SETTINGS) as server:
        port = urlsplit(server.url).port
        start = time.monotonic()
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            # Thread `first` sends requests first, first + CONNECTIONS, ...: each number once.
            futures = [
                pool.submit(send, port, range(first, MAX_REQUESTS, CONNECTIONS), start + DURATION)
                for first in range(CONNECTIONS)
            ]
            results = [future.result() for future in futures]
        elapsed = time.monotonic() - start
    sent = sum(count for count, _ in results)
    problems = [problem for _, found in results for problem in found]
    print(f"\n{sent} requests in {elapsed:.1f} s over {CONNECTIONS} connections: {sent / elapsed:.0f} per second")
    assert not problems, f"{len(problems)} of {sent} requests went wrong, the first ones:\n" + "\n".join(problems[:10])
    assert sent >= CONNECTIONS
