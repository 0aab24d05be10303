"""The generated package has no import circle, in the default bake and in every row of the answer matrix.

The graph is read from the code's own import statements (ast), every one of them: at module level, in
a function, or under `if TYPE_CHECKING:`, since a type needed only for annotations still says which
module stands above which. `from . import x` is an edge to the module x when x is one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from test_options import MATRIX, bake_row, row_id


def module_name(package_dir: Path, path: Path) -> str:
    parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Each module of the package with the package's modules it imports."""
    files = {module_name(package_dir, path): path for path in sorted(package_dir.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    # Relative to the module's own package: one level up per dot after the first.
                    anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                for alias in node.names:
                    imported.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base)
        graph[module] = {name for name in imported if name in files and name != module}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that import one another, as the modules in order, the first
    again at the end; none for a graph that only goes down."""
    circles, done = [], set()
    for start in sorted(graph):
        if start in done:
            continue
        # The shortest path from `start` back to itself, if there is one.
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop(0)
            if start in graph[path[-1]]:
                circles.append([*path, start])
                done.update(path)
                break
            for following in sorted(graph[path[-1]] - seen):
                seen.add(following)
                paths.append([*path, following])
    return circles


def assert_no_import_circle(package_dir: Path) -> None:
    circles = import_circles(import_graph(package_dir))
    assert not circles, "import circles in the generated package:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_a_circle_is_named_module_by_module(tmp_path):
    package = tmp_path / "shop"
    (package / "cors").mkdir(parents=True)
    (package / "__init__.py").write_text("from .cors.layer import init_app\n")
    (package / "settings.py").write_text("from . import policies\n")
    (package / "policies.py").write_text("from .cors import Policy\n")
    (package / "cors" / "__init__.py").write_text("from .layer import init_app\nfrom .policy import Policy\n")
    (package / "cors" / "policy.py").write_text("import re\n")
    (package / "cors" / "layer.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..settings import Settings\n"
    )
    with pytest.raises(AssertionError) as failure:
        assert_no_import_circle(package)
    assert "shop.cors -> shop.cors.layer -> shop.settings -> shop.policies -> shop.cors" in str(failure.value)


def test_imports_name_modules_as_python_resolves_them(tmp_path):
    package = tmp_path / "shop"
    (package / "cors").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "logs.py").write_text("")
    (package / "cors" / "__init__.py").write_text("from .cli import commands\n")
    cli = "from .. import logs\nfrom . import probe\n\ndef run():\n    from ..logs import x\n"
    (package / "cors" / "cli.py").write_text(cli)
    (package / "cors" / "probe.py").write_text("import shop.logs\n")
    assert import_graph(package) == {
        "shop": set(),
        "shop.logs": set(),
        "shop.cors": {"shop.cors.cli"},
        "shop.cors.cli": {"shop.logs", "shop.cors.probe"},
        "shop.cors.probe": {"shop.logs"},
    }


@pytest.mark.parametrize("answers", [pytest.param(answers, id=row_id(answers)) for answers in MATRIX])
def test_the_generated_package_has_no_import_circle(cookies, default_project, answers):
    project = bake_row(cookies, default_project, answers)
    (package_dir,) = (project / "src").iterdir()
    assert len(import_graph(package_dir)) > 10
    assert_no_import_circle(package_dir)


def test_cli_holds_the_commands_and_the_model_lives_in_its_own_rooms(default_project):
    (package_dir,) = (default_project / "src").iterdir()
    cors = package_dir / "cors"
    graph = import_graph(package_dir)
    cli = f"{package_dir.name}.cors.cli"
    assert not [module for module, imported in graph.items() if cli in imported and module != package_dir.name]

    def defined(module: str) -> set[str]:
        tree = ast.parse((cors / f"{module}.py").read_text())
        return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}

    assert {"BrowserRequest", "Exchange", "cors_check", "preflight_check", "simulate"} <= defined("browser")
    assert {"Verdict", "judge", "diagnose", "suggest_fix", "write_verdict"} <= defined("advice")
    assert "policy_report" in defined("report")
    commands = {"check", "probe", "show"}
    assert commands <= defined("cli")
    # Besides the commands: their options' callbacks and the formatting of what they print, no class.
    assert not {name for name in defined("cli") - commands if not name.startswith(("_", "format_", "page_request"))}
