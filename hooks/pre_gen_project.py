"""Refuse answers that would bake a broken or unsafe project, before cookiecutter writes a file.

A refusal names every bad answer, and every bad entry of a list, then exits non-zero; cookiecutter
then removes the project folder it created, so nothing half-written is left behind. (cookiecutter
reports a hook's non-zero exit with a traceback of its own, which a hook cannot turn off: the last
line printed here says so.) Jinja appears only in the string literals at the bottom.
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import os
import re
import sys
from pathlib import Path
from types import ModuleType

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Top-level names the project imports, or that pytest and Python's tooling treat specially.
TAKEN_NAMES = frozenset({"flask", "flask_cors", "werkzeug", "click", "jinja2", "dotenv", "gunicorn", "test", "tests"})
# The generated project's own origin rules, found in the unrendered template folder: the hook
# refuses exactly what the app would refuse.
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


def find_template_dir(repo_dir: str) -> Path | None:
    """The template's folder, from cookiecutter's `_repo_dir`.

    cookiecutter passes the location as it was given, possibly relative to the directory it was
    started from (the shell's PWD), while the hook runs inside the new project folder. cruft gives
    no location at all: then None, and the generated app still refuses the allowlist at start-up.
    """
    if not repo_dir:
        return None
    path = Path(repo_dir)
    if not path.is_absolute():
        path = Path(os.environ.get("PWD", ".")) / path
    return path if any(path.glob(ORIGINS_MODULE_GLOB)) else None


def problems(answers: dict[str, str], template_dir: Path | None) -> list[str]:
    """Every refused answer, so one run tells the user all they have to change."""
    found = [slug_problem(answers["project_slug"]), package_problem(answers["package_name"])]
    if template_dir is not None:
        found += origins_problems(answers["production_origins"], load_origins_module(template_dir))
    return [problem for problem in found if problem]


def main(answers: dict[str, str], repo_dir: str) -> int:
    template_dir = find_template_dir(repo_dir)
    if template_dir is None:
        print("WARNING: production_origins not checked here; the app checks it when it starts", file=sys.stderr)
    found = problems(answers, template_dir)
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    if found:
        print(
            f"Nothing was written: answer again with {'this' if len(found) == 1 else 'these'} fixed. (cookiecutter "
            "follows with a traceback of its own, which only says that this check refused the answers.)",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    # The answers arrive as JSON in raw single-quoted strings (tojson escapes every ' in them), so that
    # no quote or backslash in an answer can break this file; the formatter would switch the quotes.
    # fmt: off
    sys.exit(
        main(
            {
                "project_slug": json.loads(r'{{ cookiecutter.project_slug | tojson }}'),
                "package_name": json.loads(r'{{ cookiecutter.package_name | tojson }}'),
                "production_origins": json.loads(r'{{ cookiecutter.production_origins | tojson }}'),
            },
            json.loads(r'{{ cookiecutter.get("_repo_dir", "") | tojson }}'),
        )
    )
    # fmt: on
