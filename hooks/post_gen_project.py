"""Remove the optional files the answers left out, keep the lock of the chosen dependencies, write the local
.env (with a SECRET_KEY of its own) and print the next steps.

Offline, and safe to run twice: a file already removed stays removed, and an existing .env holds
the developer's own values, so it is never overwritten. The .env is written by the project's own
tasks.py, which writes it again in a fresh clone, where .env (git-ignored) is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

# Each lock the template holds, with the answers (beyond the defaults) whose dependencies it pins: the
# template's `tasks.py lock` makes each from a bake with those answers, and a bake keeps the one it needs.
LOCKS = {
    "uv.lock": {},
    "uv-database-none.lock": {"database": "none"},
    "uv-auth-session.lock": {"auth": "session"},
    "uv-auth-token.lock": {"auth": "token"},
}
# The files of each way to sign in, which the other answers of `auth` leave out.
SIGN_IN_FILES = {
    "session": [
        "src/{package}/auth/sessions.py",
        "src/{package}/migrations/versions/0003_user_sessions.py",
        "tests/test_sessions.py",
    ],
    "token": ["src/{package}/auth/tokens.py", "tests/test_tokens.py"],
}


def unselected_paths(
    *, use_docker: bool, ci: str, use_pre_commit: bool, database: str, auth: str, package: str
) -> list[str]:
    """The optional files and folders, relative to the project, that the answers leave out."""
    paths = []
    if database != "none":
        # The items resource is the example a team copies; without a database, the echo route is.
        paths += [f"src/{package}/api/echo.py", "tests/test_echo.py"]
    if database == "none":
        paths += [
            f"src/{package}/{name}"
            for name in ("db.py", "models.py", "migrate.py", "migrations", "tenants.py", "api/items.py")
        ]
        paths += [
            f"tests/{name}"
            for name in ("test_items.py", "test_database.py", "test_migrations.py", "test_tenants.py", "postgres.py")
        ]
        paths.append("docs/database.md")
    if auth == "none":
        paths += [f"src/{package}/{name}" for name in ("auth", "api/auth.py", "migrations/versions/0002_users.py")]
        paths += ["tests/test_auth.py", "docs/sign-in.md"]
    paths += [path.format(package=package) for mode, files in SIGN_IN_FILES.items() if mode != auth for path in files]
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


def lock_for(answers: dict[str, str]) -> str:
    """The name of the lock whose answers `answers` has: uv.lock, the defaults', when no other fits."""
    fitting = [name for name, needs in LOCKS.items() if needs and needs.items() <= answers.items()]
    return fitting[0] if fitting else "uv.lock"


def keep_lock(project_dir: Path, answers: dict[str, str]) -> None:
    """uv.lock for the chosen dependencies: the lock `answers` need in its place, and no other lock."""
    chosen = project_dir / lock_for(answers)
    if chosen.exists() and chosen.name != "uv.lock":
        chosen.replace(project_dir / "uv.lock")
    for name in LOCKS:
        if name != "uv.lock":
            (project_dir / name).unlink(missing_ok=True)


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
            database="{{ cookiecutter.database }}",
            auth="{{ cookiecutter.auth }}",
            package="{{ cookiecutter.package_name }}",
        ),
    )
    keep_lock(Path.cwd(), {"database": "{{ cookiecutter.database }}", "auth": "{{ cookiecutter.auth }}"})
    load_project_tasks(Path.cwd()).write_local_dotenv(Path.cwd())
    print(next_steps("{{ cookiecutter.project_slug }}"))
