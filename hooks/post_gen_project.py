"""Remove the optional files the answers left out, write the local .env (with a SECRET_KEY of its own) and
print the next steps.

Offline, and safe to run twice: a file already removed stays removed, and an existing .env holds
the developer's own values, so it is never overwritten. The .env is written by the project's own
tasks.py, which writes it again in a fresh clone, where .env (git-ignored) is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType


def unselected_paths(*, use_docker: bool, ci: str, use_pre_commit: bool) -> list[str]:
    """The optional files and folders, relative to the project, that the answers leave out."""
    paths = []
    if not use_docker:
        paths += ["Dockerfile", ".dockerignore", "deploy", "docs/docker.md"]
    if ci != "github":
        paths.append(".github")
    if not use_pre_commit:
        paths.append(".pre-commit-config.yaml")
    return paths


def remove_paths(project_dir: Path, paths: list[str]) -> None:
    """Delete each file or folder in `paths`; one that is already gone is left as it is."""
    for name in paths:
        path = project_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def load_project_tasks(project_dir: Path) -> ModuleType:
    """The generated project's tasks.py, loaded from its file: a script, not an installed module."""
    spec = importlib.util.spec_from_file_location("project_tasks", project_dir / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def next_steps(slug: str) -> str:
    return (
        f"\nCreated {slug}/ with a development .env. Next:\n"
        f"  cd {slug}\n"
        "  python3 tasks.py serve         # the API on http://127.0.0.1:5000, open to local front ends\n"
        "  python3 tasks.py playground    # a page where a browser allows and blocks calls to it\n"
        "  python3 tasks.py test          # its tests\n"
    )


if __name__ == "__main__":
    remove_paths(
        Path.cwd(),
        unselected_paths(
            use_docker="{{ cookiecutter.use_docker }}" == "True",
            ci="{{ cookiecutter.ci }}",
            use_pre_commit="{{ cookiecutter.use_pre_commit }}" == "True",
        ),
    )
    load_project_tasks(Path.cwd()).write_local_dotenv(Path.cwd())
    print(next_steps("{{ cookiecutter.project_slug }}"))
