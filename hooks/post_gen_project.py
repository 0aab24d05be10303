"""Remove the optional files the answers left out, write the local .env (with a SECRET_KEY of its own) and
print the next steps.

Offline, and safe to run twice: a file already removed stays removed, and an existing .env holds
the developer's own values, so it is never overwritten.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path


def unselected_paths(*, use_docker: bool, ci: str, use_pre_commit: bool) -> list[str]:
    """The optional files and folders, relative to the project, that the answers leave out."""
    paths = []
    if not use_docker:
        paths += ["Dockerfile", ".dockerignore", "deploy"]
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


def write_local_dotenv(project_dir: Path) -> bool:
    """Copy .env.example (APP_ENV=development) to .env unless one exists; True if written."""
    dotenv = project_dir / ".env"
    if dotenv.exists():
        return False
    shutil.copyfile(project_dir / ".env.example", dotenv)
    return True


def add_secret_key(dotenv: Path) -> None:
    """Give a freshly written .env a random SECRET_KEY of its own, so local sessions survive a restart."""
    with dotenv.open("a") as file:
        file.write("\n# This checkout's own, made when the project was generated; .env stays out of git.\n")
        file.write(f"SECRET_KEY={secrets.token_urlsafe(32)}\n")


def next_steps(slug: str) -> str:
    return (
        f"\nCreated {slug}/ with a development .env. Next:\n"
        f"  cd {slug}\n"
        "  python3 tasks.py serve    # the API on http://127.0.0.1:5000, open to local front ends\n"
        "  python3 tasks.py test     # its tests\n"
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
    if write_local_dotenv(Path.cwd()):
        add_secret_key(Path.cwd() / ".env")
    print(next_steps("{{ cookiecutter.project_slug }}"))
