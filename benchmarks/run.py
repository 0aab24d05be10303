"""What the generated project's CORS policy costs, against Flask with the same routes and no CORS.

    python3 tasks.py bench [--rounds 9] [--duration 2]    (or .venv/bin/python benchmarks/run.py ...)

It bakes the default project into a temporary folder, puts bare_app.py (the baseline) next to its
package, and measures:

- end to end: each app served by gunicorn with the project's gunicorn.conf.py (production, 2 sync
  workers) on loopback, loaded by wrk with CONNECTIONS connections. Every case gets --duration
  seconds in turn, round after round, each right after as long a run of bare Flask; the table gives
  each case's median requests per second and the median of its ratios to the bare run before it.
  The stored item is read from a throwaway PostgreSQL server (the project's tests/postgres.py), by
  the project and by bare Flask's same route on the same database.
- in process: one WSGI call of the app object, no server and no network: the best of REPEATS rounds
  of CALLS calls, far less noisy.
- start-up: importing the module gunicorn serves, create_app() included, in fresh interpreters.
- the generated test suite's run time, as the project's README runs it (`python3 tasks.py test`).

It prints a Markdown table, with each goal next to the figure it is about; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import TEMPLATE_DIR, load_module, run, serve_with_gunicorn  # noqa: E402

postgres = load_module("postgres", TEMPLATE_DIR / "tests" / "postgres.py")

PACKAGE = "my_api"  # the default bake's
CONNECTIONS = 16
SIZES = (1, 10, 100, 1000)
CALLS, REPEATS = 2000, 7
STARTS = 7
SUITE_RUNS = 3
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def origins(size: int) -> list[str]:
    return [f"https://app-{index}.example.com" for index in range(size)]


# The benchmark's PostgreSQL server, once started: production requires one.
DATABASE: dict[str, str] = {}


def production(size: int) -> dict[str, str]:
    """The variables of a production API whose allowlist has `size` origins."""
    return {"APP_ENV": "production", "CORS_ORIGINS": ",".join(origins(size)), **DATABASE}


# In process, apps with other policies.py declarations than the bake's: a single policy, ten, and one
# whose origins also come from a dynamic_origins function (a tenant table).
ONE_POLICY, TEN_POLICIES, DYNAMIC_POLICY = "1 policy", "10 policies", "dynamic origins"
TENANT = "https://shop.tenant.example"


@dataclass(frozen=True)
class Case:
    app: str | int  # "bare", the size of the allowlist the baked app is given, or one of the policy apps
    method: str
    path: str
    headers: dict[str, str]
    # Send a different Origin with every call, as a stream of strangers does: nothing is remembered then.
    new_origin_each_call: bool = False
    # The case measured right before this one, end to end, for its ratio.
    baseline: str = "bare Flask GET"


def allowed_get(size: int) -> Case:
    """A GET from the last origin of an allowlist of `size`."""
    return Case(size, "GET", "/api/health", {"Origin": origins(size)[-1]})


BARE, ONE, REFUSED, STRANGERS, PREFLIGHTED = (
    "bare Flask GET",
    "allowed GET, 1 origin",
    "refused GET",
    "refused GET, a new Origin each time",
    "preflight",
)
THOUSAND = f"allowed GET, {SIZES[-1]:,} origins"
BARE_ITEM, ITEM = "bare Flask GET of a stored item", "allowed GET of a stored item"
STORED_ITEM = "/api/items/1"
SINGLE, TEN, REMEMBERED = (
    f"allowed GET, {ONE_POLICY}",
    f"allowed GET, {TEN_POLICIES}",
    "allowed GET, a remembered dynamic origin",
)
CASES = {
    BARE: Case("bare", "GET", "/api/health", {"Origin": origins(1)[0]}),
    ONE: allowed_get(1),
    REFUSED: Case(1, "GET", "/api/health", {"Origin": "https://evil.example.com"}),
    PREFLIGHTED: Case(1, "OPTIONS", "/api/items", {"Origin": origins(1)[0], **PREFLIGHT}),
    **{f"allowed GET, {size:,} origins": allowed_get(size) for size in SIZES[1:]},
    BARE_ITEM: Case("bare", "GET", STORED_ITEM, {"Origin": origins(1)[0]}),
    ITEM: Case(1, "GET", STORED_ITEM, {"Origin": origins(1)[0]}, baseline=BARE_ITEM),
}
BASELINES = {BARE, BARE_ITEM}
# In process, also the one case wrk cannot send: an Origin never seen before, on every request.
IN_PROCESS = {
    **{name: CASES[name] for name in (BARE, ONE, REFUSED)},
    STRANGERS: Case(1, "GET", "/api/health", {"Origin": "https://evil.example.com"}, new_origin_each_call=True),
    **{name: CASES[name] for name in (PREFLIGHTED, THOUSAND)},
    SINGLE: Case(ONE_POLICY, "GET", "/api/health", {"Origin": origins(1)[0]}),
    TEN: Case(TEN_POLICIES, "GET", "/api/health", {"Origin": origins(1)[0]}),
    REMEMBERED: Case(DYNAMIC_POLICY, "GET", "/api/health", {"Origin": TENANT}),
}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bake(folder: Path) -> Path:
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(folder), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True)
    project = folder / "my-api"
    shutil.copy(Path(__file__).with_name("bare_app.py"), project / "src")
    # Bytecode ahead of time, as pip writes it for an installed package: start-up is then not compile time.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(project / "src")], check=True)
    return project


def store_an_item(project: Path) -> None:
    """The migrations, from empty, then the item STORED_ITEM reads, through the project's own API."""
    migrate = [sys.executable, "-m", "flask", "--app", PACKAGE, "db", "upgrade", "head"]
    run(project, *migrate, env=production(1), check=True)
    create = (
        f"from {PACKAGE} import create_app\n"
        f"from {PACKAGE}.settings import load_settings\n"
        "client = create_app(load_settings(dotenv_path=None)).test_client()\n"
        "assert client.post('/api/items', json={'name': 'Teapot', 'quantity': 3}).status_code == 201"
    )
    run(project, sys.executable, "-c", create, env=production(1), check=True)


def wrk(url: str, script: Path, seconds: int) -> float:
    """Requests per second wrk gets from `url`; an error response or a socket error stops the benchmark."""
    command = ["wrk", "--threads", "1", "--connections", str(CONNECTIONS), "--duration", f"{seconds}s"]
    output = subprocess.run([*command, "--script", str(script), url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failures:\n{output}")
    return float(re.search(r"Requests/sec:\s*([\d.]+)", output)[1])


def wrk_script(case: Case, path: Path) -> Path:
    """The Lua script that makes wrk send `case`'s method and headers."""
    lines = [f'wrk.method = "{case.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in case.headers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def end_to_end(project: Path, rounds: int, seconds: int, folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Each case's median requests per second, and the median of its ratios to bare Flask measured just before it.

    The machine's speed drifts by more than what is measured here (other virtual machines on the
    same host, where the processes land), so every case is paired with a bare Flask run right
    before it, and the ratio of the two is what each round contributes. Each round starts its own
    gunicorn processes and begins with another case, so that no case always comes first.
    """
    names = [name for name in CASES if name not in BASELINES]
    scripts = {name: wrk_script(CASES[name], folder / f"case-{index}.lua") for index, name in enumerate(CASES)}
    rates: dict[str, list[float]] = {name: [] for name in CASES}
    ratios: dict[str, list[float]] = {name: [] for name in CASES}
    for round_number in range(rounds):
        progress(f"End to end, round {round_number + 1} of {rounds}: gunicorn for bare Flask and 1 to 1,000 origins")
        with contextlib.ExitStack() as servers:
            urls = {"bare": servers.enter_context(serve_with_gunicorn(project, production(1), "bare_app:app")).url}
            urls |= {size: servers.enter_context(serve_with_gunicorn(project, production(size))).url for size in SIZES}
            targets = {name: urls[case.app] + case.path for name, case in CASES.items()}
            for name in CASES:  # warm-up, not counted
                wrk(targets[name], scripts[name], 1)
            turn = round_number % len(names)
            for name in names[turn:] + names[:turn]:
                baseline = CASES[name].baseline
                bare = wrk(targets[baseline], scripts[baseline], seconds)
                rate = wrk(targets[name], scripts[name], seconds)
                rates[baseline].append(bare)
                rates[name].append(rate)
                ratios[name].append(rate / bare)
    for baseline in BASELINES:
        ratios[baseline] = [1.0]
    return (
        {name: statistics.median(values) for name, values in rates.items()},
        {name: statistics.median(values) for name, values in ratios.items()},
    )


def wsgi_call(app: Callable, case: Case) -> Callable[[], None]:
    """One request through `app` as a WSGI server makes it: its own environ, the body read, then closed."""
    environ = EnvironBuilder(path=case.path, method=case.method, headers=case.headers).get_environ()
    numbers = itertools.count()

    def call() -> None:
        request = dict(environ)
        if case.new_origin_each_call:
            request["HTTP_ORIGIN"] = f"https://stranger-{next(numbers)}.example.net"
        body = app(request, lambda status, headers, exc_info=None: None)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()

    return call


def in_process(project: Path) -> dict[str, float]:
    """Microseconds per WSGI call of each IN_PROCESS case: the best of REPEATS rounds of CALLS calls."""
    progress("In process")
    sys.path.insert(0, str(project / "src"))
    from bare_app import app as bare_app
    from my_api import create_app
    from my_api.cors import Policy
    from my_api.settings import Settings

    def tenant_origins(origin: str) -> bool:
        return origin == TENANT

    others = [Policy(f"area{index}", f"/api/area{index}/") for index in range(9)]
    declarations = {
        ONE_POLICY: (Policy("default", "/api/"),),
        TEN_POLICIES: (*others, Policy("default", "/api/")),
        DYNAMIC_POLICY: (Policy("default", "/api/", dynamic_origins=tenant_origins),),
    }
    variables = {name: {} for name in declarations}
    variables[TEN_POLICIES] = {policy.variable("ORIGINS"): origins(1)[0] for policy in others}

    # The apps log to stdout; here to a buffer (the one refusal line the throttle lets through).
    with contextlib.redirect_stdout(io.StringIO()):
        apps = {"bare": bare_app} | {size: create_app(Settings.from_environ(production(size))) for size in (1, 1000)}
        for name, declared in declarations.items():
            settings = Settings.from_environ({**production(1), **variables[name]}, declarations=declared)
            apps[name] = create_app(settings)
        calls = {name: wsgi_call(apps[case.app], case) for name, case in IN_PROCESS.items()}
        best = dict.fromkeys(calls, math.inf)
        for _ in range(REPEATS):
            for name, call in calls.items():
                best[name] = min(best[name], timeit.timeit(call, number=CALLS) / CALLS)
    return {name: seconds * 1e6 for name, seconds in best.items()}


IMPORT = "import time; start = time.perf_counter(); import {}; print(time.perf_counter() - start)"


def start_up(project: Path) -> dict[str, float]:
    """Milliseconds to import the module gunicorn serves, each time in a new interpreter: the best of STARTS."""
    progress("Start-up")
    modules = {"bare": "bare_app", "ours": f"{PACKAGE}.wsgi"}
    best = dict.fromkeys(modules, math.inf)
    for _ in range(STARTS):
        for name, module in modules.items():
            result = run(project, sys.executable, "-c", IMPORT.format(module), env=production(1), check=True)
            best[name] = min(best[name], float(result.stdout.split()[-1]) * 1000)
    return best


def suite_seconds(project: Path) -> float:
    """Wall-clock seconds of the generated test suite as its README runs it, `python3 tasks.py test`: the best
    of SUITE_RUNS, after a first run that installs the project's .venv from its uv.lock."""
    progress("Generated test suite")
    best = math.inf
    for number in range(SUITE_RUNS + 1):
        start = time.perf_counter()
        result = run(project, sys.executable, "tasks.py", "test", "-q")
        if number:
            best = min(best, time.perf_counter() - start)
        if result.returncode:
            raise RuntimeError(f"the generated tests failed:\n{result.stdout}{result.stderr}")
    return best


def report(
    rates: dict[str, float], ratios: dict[str, float], micros: dict[str, float], starts: dict[str, float], suite: float
) -> str:
    """Two Markdown tables: the figures, each next to bare Flask's, then each goal met or missed."""
    lines = [
        "| request | end to end, requests/s | x bare Flask | in process, µs per call | x bare Flask |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in {**rates, **micros}:
        served = f"{rates[name]:,.0f} | {ratios[name]:.2f}" if name in rates else " | "
        called = f"{micros[name]:.1f} | {micros[name] / micros[BARE]:.2f}" if name in micros else " | "
        lines.append(f"| {name} | {served} | {called} |")

    added = {name: micros[name] - micros[BARE] for name in (ONE, REFUSED, STRANGERS)}
    start_up_ratio = starts["ours"] / starts["bare"]
    goals = [
        (
            "end to end: allowed GET ≥ 0.93x bare Flask",
            f"{ratios[ONE]:.2f}x",
            ratios[ONE] >= 0.93,
        ),
        (
            "end to end: refused GET ≥ 0.93x bare Flask",
            f"{ratios[REFUSED]:.2f}x",
            ratios[REFUSED] >= 0.93,
        ),
        (
            "end to end: GET of a stored item ≥ 0.95x bare Flask's same route and database",
            f"{ratios[ITEM]:.2f}x",
            ratios[ITEM] >= 0.95,
        ),
        (
            "end to end: 1,000 origins ≥ 0.97x 1 origin",
            f"{ratios[THOUSAND] / ratios[ONE]:.2f}x",
            ratios[THOUSAND] >= 0.97 * ratios[ONE],
        ),
        (
            "in process: CORS adds ≤ 40 µs to a bare Flask GET",
            f"allowed {added[ONE]:+.1f} µs, refused {added[REFUSED]:+.1f} µs, new Origins {added[STRANGERS]:+.1f} µs",
            max(added.values()) <= 40,
        ),
        (
            "in process: a preflight costs ≤ a bare Flask GET",
            f"{micros[PREFLIGHTED] / micros[BARE]:.2f}x",
            micros[PREFLIGHTED] <= micros[BARE],
        ),
        (
            "in process: 1,000 origins ≤ 1.05x 1 origin",
            f"{micros[THOUSAND] / micros[ONE]:.2f}x",
            micros[THOUSAND] <= 1.05 * micros[ONE],
        ),
        (
            "in process: 10 policies ≤ 1.05x 1 policy",
            f"{micros[TEN] / micros[SINGLE]:.2f}x",
            micros[TEN] <= 1.05 * micros[SINGLE],
        ),
        (
            "in process: a remembered dynamic origin adds ≤ 10 µs to a listed one",
            f"{micros[REMEMBERED] - micros[SINGLE]:+.1f} µs",
            micros[REMEMBERED] - micros[SINGLE] <= 10,
        ),
        (
            "import + create_app() ≤ 1.2x bare Flask",
            f"{start_up_ratio:.2f}x ({starts['ours']:.0f} ms, bare {starts['bare']:.0f} ms)",
            start_up_ratio <= 1.2,
        ),
        ("the generated test suite runs in under 3 s", f"{suite:.1f} s", suite < 3),
    ]
    lines += ["", "| goal | measured | |", "| --- | --- | --- |"]
    lines += [f"| {goal} | {measured} | {'met' if met else '**missed**'} |" for goal, measured, met in goals]
    return "\n".join(lines)


def setup(rounds: int, seconds: int) -> str:
    """What the figures were measured with and on."""
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[1]
    packages = ", ".join(f"{name} {version(name)}" for name in ("flask", "flask-cors", "gunicorn"))
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{packages}, wrk {wrk_version}.\n"
        f"End to end: gunicorn with 2 sync workers, wrk with {CONNECTIONS} connections on 1 thread; "
        f"{rounds} interleaved rounds of {seconds} s per request, each after {seconds} s of bare Flask; medians.\n"
        f"In process: the best of {REPEATS} rounds of {CALLS} WSGI calls. Start-up: the best of {STARTS} "
        f"fresh interpreters. Test suite: the best of {SUITE_RUNS} runs."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="end-to-end rounds (default 9)")
    parser.add_argument("--duration", type=int, default=2, help="seconds per wrk run (default 2)")
    arguments = parser.parse_args()
    if not shutil.which("wrk"):
        progress("wrk, the load generator, is missing: apt-get install wrk (Debian, Ubuntu), or brew install wrk")
        return 2
    binaries = postgres.find_binaries()
    if binaries is None:
        progress(f"PostgreSQL is missing (nothing under {postgres.BINARIES}): apt-get install postgresql")
        return 2
    with tempfile.TemporaryDirectory() as folder, postgres.postgres_server(binaries) as database_url:
        project = bake(Path(folder))
        DATABASE["DATABASE_URL"] = database_url
        store_an_item(project)
        rates, ratios = end_to_end(project, arguments.rounds, arguments.duration, Path(folder))
        micros = in_process(project)
        starts = start_up(project)
        suite = suite_seconds(project)
    print(setup(arguments.rounds, arguments.duration), report(rates, ratios, micros, starts, suite), sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
