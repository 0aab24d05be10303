"""Refuse answers that would bake a broken or unsafe project, before cookiecutter writes a file.

cookiecutter.json loads AnswersCheck, a Jinja extension, and its last entry, `__answers_checked`,
renders every answer through the extension's `refused_answers` filter once all are known. A refusal
raises click's ClickException: cookiecutter (and cruft) stop with one error naming every bad answer,
and every bad entry of a list, without a traceback and before the project folder exists. A pre_gen
hook could only exit non-zero, which cookiecutter reports with a traceback of its own.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import click
from jinja2 import Environment
from jinja2.ext import Extension

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Top-level names the project imports, or that pytest and Python's tooling treat specially.
TAKEN_NAMES = frozenset({"flask", "flask_cors", "werkzeug", "click", "jinja2", "dotenv", "gunicorn", "test", "tests"})
# The generated project's own origin rules, in the unrendered template folder: the check refuses exactly
# what the app would refuse. They use two libraries, idna and publicsuffixlist, each only for the entries
# that need it; cookiecutter brings idna (through requests), not always the other. Where one is missing the
# check says so and leaves that answer to the app, which checks it at start-up with the versions its
# uv.lock pins.
TEMPLATE_DIR = Path(__file__).resolve().parent.parent
ORIGINS_MODULE_GLOB = "*cookiecutter.project_slug*/src/*/cors/origins.py"


def slug_problem(slug: str) -> str | None:
    if not SLUG.fullmatch(slug):
        suggestion = "-".join(re.findall(r"[a-z0-9]+", slug.lower())) or "my-api"
        return (
            f"project_slug {slug!r} must be lowercase letters and digits, words joined by single "
            f"hyphens: for example {suggestion!r}"
        )
    return None


def package_problem(name: str) -> str | None:
    if not name.isidentifier() or not name.isascii():
        return f"package_name {name!r} is not a Python identifier: use lowercase letters, digits and underscores"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword: choose another name, such as {name + '_api'!r}"
    if name in TAKEN_NAMES or name in sys.stdlib_module_names:
        return f"package_name {name!r} would shadow the module {name!r}: choose another name, such as {name + '_api'!r}"
    if name != name.lower():
        return f"package_name {name!r} should be lowercase (PEP 8): {name.lower()!r}"
    return None


def origins_problems(value: str, origins: ModuleType) -> list[str]:
    """What the generated app would say about `value` as its production allowlist: one line for each entry it
    refuses (the app stops at the first), or for the list as a whole (empty, say)."""
    try:
        origins.parse_allowlist(value, environment="production")
    except origins.OriginError as error:
        refused = []
        for entry in (entry for entry in origins.SEPARATORS.split(value) if entry):
            try:
                origins.parse_allowlist(entry, environment="production")
            except origins.OriginError as entry_error:
                refused.append(f"production_origins: {entry_error}")
        return refused or [f"production_origins: {error}"]
    return []


def load_origins_module(template_dir: Path) -> ModuleType:
    (path,) = template_dir.glob(ORIGINS_MODULE_GLOB)
    spec = importlib.util.spec_from_file_location("template_origins", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def sign_in_problem(auth: str, database: str) -> str | None:
    """Accounts live in the database: a way to sign in needs one."""
    if auth != "none" and database == "none":
        return f"auth: {auth!r} keeps its accounts in the database: answer database=postgresql, or auth=none"
    return None


def problems(answers: Mapping[str, str], template_dir: Path = TEMPLATE_DIR) -> list[str]:
    """Every refused answer, so one run tells the user all they have to change."""
    found = [
        slug_problem(answers["project_slug"]),
        package_problem(answers["package_name"]),
        sign_in_problem(answers["auth"], answers["database"]),
    ]
    try:
        found += origins_problems(answers["production_origins"], load_origins_module(template_dir))
    except ModuleNotFoundError as missing:
        click.echo(
            f"Warning: production_origins not checked here: it needs the {missing.name} package, which the Python "
            f"running cookiecutter lacks (pip install {missing.name}); the app checks it when it starts",
            err=True,
        )
    return [problem for problem in found if problem]


def refused_answers(answers: Mapping[str, str]) -> str:
    """The filter cookiecutter.json's `__answers_checked` calls with the answers: "" when all are good."""
    found = problems(answers)
    if found:
        raise click.ClickException(
            "these answers would bake a broken project, so nothing was written:\n"
            + "\n".join(f"  {problem}" for problem in found)
        )
    return ""


class AnswersCheck(Extension):
    """The Jinja extension cookiecutter.json's `_extensions` names: it adds the `refused_answers` filter."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["refused_answers"] = refused_answers
