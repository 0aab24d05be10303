"""`flask cors show`, `check` and `probe`: the commands, their options and what they print.

`show` prints the policies in force (report.py). `check` asks the app itself what a browser at an
origin would get, and the fix when it would block (advice.py). `probe` sends the same browser
requests to a deployment as well, and names each difference (probe.py). The browser's rules are in
browser.py; nothing is decided here.

`check` exits with 0 when a browser would let the page read the response, 1 when it would block
it (or when the write it sends would be refused as a cross-origin write), and 2 for a usage or
configuration error, so a deploy pipeline can run it as a smoke test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from . import layer
from . import probe as probing
from .advice import in_process, judge
from .browser import BrowserRequest, format_exchange, script_headers
from .origins import OriginError, normalise_origin
from .policy import METHODS, policy_for
from .report import policy_report

cors_commands = AppGroup("cors", help="The CORS policy in force, and what a browser at an origin would get.")


def _browser_origin(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """ORIGIN as a browser sends it (lowercase, no default port, no trailing slash), or a usage error."""
    if value == "null":
        return value
    try:
        origin = normalise_origin(value, environment="development")
    except OriginError as error:
        raise click.BadParameter(str(error)) from None
    if "*" in origin:
        raise click.BadParameter("a browser sends one origin, never a wildcard")
    return origin


def _browser_origins(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    return [_browser_origin(ctx, param, value) for value in values]


def _script_headers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """The --header options as {name: value}; a header only the browser may set is a usage error."""
    try:
        return script_headers(values)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def page_request_options(command: Callable) -> Callable:
    """The options of `check` and `probe` that say what the page's script asks fetch() for."""
    options = [
        click.option("--path", default="/api/health", show_default=True, help="The path the page calls."),
        click.option("--method", default="GET", show_default=True, type=click.Choice(METHODS)),
        click.option(
            "--header",
            "headers",
            multiple=True,
            callback=_script_headers,
            metavar="NAME[:VALUE]",
            help="A header the page's script sets (repeat for more). Content-Type alone means application/json.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cors_commands.command("check")
@click.argument("origin", callback=_browser_origin)
@page_request_options
@click.option(
    "--credentials",
    is_flag=True,
    help="The page calls with credentials: 'include' (the user's cookies, TLS client certificate, browser-kept "
    "HTTP authentication). An Authorization header the script sets itself is a --header.",
)
@click.pass_context
def check(ctx: click.Context, origin: str, path: str, method: str, headers: dict[str, str], credentials: bool):
    """What a browser at ORIGIN would get.

    Sends the app the preflight (when a browser would send one) and the request, reads the answers as
    the browser does, and says how to fix a block. Exit status: 0 allowed, 1 blocked (by CORS, or a
    cross-origin write refused), 2 usage error.
    """
    if not path.startswith("/"):
        raise click.BadParameter("a path starts with /", param_hint="--path")
    verdict = judge(current_app, BrowserRequest(origin, method, path, headers, credentials))
    policy = verdict.policy
    click.echo(f"Policy: {policy.name!r} ({policy.prefix})\n" if policy else f"Policy: none covers {path}\n")
    for exchange in verdict.exchanges:
        click.echo(format_exchange(exchange) + "\n")
    click.echo("\n".join(verdict.conclusion()))
    if verdict.blocked or verdict.write_refused:
        ctx.exit(1)


@cors_commands.command("probe")
@click.argument("url")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    callback=_browser_origins,
    help="A front end's origin (repeat for more). Another origin the policy allows and an unlisted one are added.",
)
@page_request_options
@click.option("--credentials", is_flag=True, help="The page calls with credentials: 'include'.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for a deploy pipeline.")
@click.pass_context
def probe(
    ctx: click.Context,
    url: str,
    origins: list[str],
    path: str,
    method: str,
    headers: dict[str, str],
    credentials: bool,
    as_json: bool,
):
    """Whether the deployment at URL answers browsers as this app does.

    Sends URL, over HTTP, what browsers at the origins would send, and the same requests to this app,
    configured by this command's environment: run it with the deployment's APP_ENV and CORS_*
    variables. Each difference is named with its likely cause and fix (cors/probe.py). Exit status:
    0 the same answers, 1 a difference, 2 a usage error or a deployment that cannot be reached.
    """
    if not path.startswith("/"):
        raise click.BadParameter("a path starts with /", param_hint="--path")
    state: layer.CorsState = current_app.extensions[layer.STATE_KEY]
    policy = policy_for(state.policies, path)
    # What the page asks for; run_probe sends it from each origin.
    request = BrowserRequest("", method, probing.with_unique_query(path), headers, credentials)
    try:
        deployment = probing.over_http(url)
        start = time.monotonic()
        app = in_process(current_app.test_client(), probing.JSON_BODY)
        results, differences = probing.run_probe(deployment, app, probing.probe_origins(policy, origins), request)
        seconds = time.monotonic() - start
    except probing.ProbeError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    samesite = current_app.extensions["settings"].session_cookie_samesite
    caveats = probing.deployment_caveats(policy, results, url, samesite, preflighted=request.preflighted)
    if as_json:
        click.echo(json.dumps(probing.report(url, request, results, differences, seconds, caveats), indent=2))
    else:
        click.echo(f"Policy: {policy.name!r} ({policy.prefix})" if policy else f"Policy: none covers {path}")
        origins_sent = f"{len(results)} origin{'' if len(results) == 1 else 's'}"
        click.echo(f"{method} {path} from {origins_sent}, to {url} and to the app itself\n")
        click.echo(probing.format_report(results, differences, caveats))
    ctx.exit(1 if differences else 0)


@cors_commands.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
def show(as_json: bool):
    """The CORS policies in force.

    For each policy (policies.py): its prefix, each setting with its value and where the value
    came from, and the routes it decides for.
    """
    report = policy_report(current_app)
    click.echo(json.dumps(report, indent=2) if as_json else format_policies(report))


def format_policies(report: dict) -> str:
    """Per policy: a line saying what it is, a table of its settings (origins one per line), its routes."""
    lines = [f"APP_ENV  {report['APP_ENV']['value']}  {report['APP_ENV']['source']}"]
    for policy in report["policies"]:
        lines += ["", f"Policy {policy['name']!r} on {policy['prefix']}"]
        if policy["public"]:
            lines.append("  public: every origin may read it (Access-Control-Allow-Origin: *), never with credentials")
        if policy["dynamic_origins"]:
            lines.append(f"  dynamic origins: {policy['dynamic_origins']}, asked about origins not listed below")
        rows = [("setting", "value", "from")]
        for name, setting in policy["settings"].items():
            value = setting["value"]
            shown = value if name.endswith("_ORIGINS") else [_text(value)]
            rows += [(name, shown[0], setting["source"]), *(("", line, "") for line in shown[1:])]
        widths = [max(len(row[column]) for row in rows) for column in (0, 1)]
        lines += [f"  {name:<{widths[0]}}  {value:<{widths[1]}}  {source}".rstrip() for name, value, source in rows]
        lines.append("  Routes:")
        lines += [f"    {' '.join(route['methods']):<7} {route['path']}" for route in policy["routes"]] or ["    none"]
    protection = report["cross_origin_writes"]
    exempt = protection["CROSS_SITE_WRITE_EXEMPT_PATHS"]
    lines += [
        "",
        f"Cross-origin writes: refused (403) for {protection['refused']}; a public policy allows none",
        f"  CROSS_SITE_WRITE_EXEMPT_PATHS  {_text(exempt['value'])}  {exempt['source']}",
    ]
    return "\n".join(lines)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)
