"""A project created with cruft from one commit of the template takes in the next with `cruft update`.

Offline: the template is a local git repository, made from this checkout's files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

# Commits made here must not depend on the machine's git configuration.
GIT_ENVIRONMENT = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Template tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}


def git(directory: Path, *arguments: str) -> str:
    result = subprocess.run(["git", *arguments], cwd=directory, env=GIT_ENVIRONMENT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cruft(directory: Path, *arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cruft", *arguments], cwd=directory, env=GIT_ENVIRONMENT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def commit_all(directory: Path, message: str) -> None:
    git(directory, "add", "--all")
    git(directory, "commit", "--quiet", "--message", message)


def template_repository(destination: Path) -> Path:
    """This checkout's files, committed or not (ignored ones left out), as a new git repository."""
    for name in git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0"):
        if name and (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    git(destination, "init", "--quiet", "--initial-branch=main")
    commit_all(destination, "The template")
    return destination


def test_cruft_update_brings_a_template_change_into_a_project_and_keeps_its_own(tmp_path):
    template = template_repository(tmp_path / "template")
    answers = json.dumps({"use_docker": False, "ci": "none"})
    cruft(tmp_path, "create", "--no-input", "--output-dir", "projects", "--extra-context", answers, str(template))
    project = tmp_path / "projects" / "my-api"
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Created from the template")

    # The team changes its project; the template gains a README line and a file.
    api = project / "src" / "my_api" / "api" / "__init__.py"
    api.write_text(api.read_text() + "\n# Our own routes follow.\n")
    commit_all(project, "Our change")
    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line the template added.\n")
    (template / "{{cookiecutter.project_slug}}" / "CHANGELOG.md").write_text("# {{ cookiecutter.project_name }}\n")
    commit_all(template, "A template change")

    cruft(project, "update", "--skip-apply-ask")
    assert (project / "README.md").read_text().endswith("\nA line the template added.\n")
    assert (project / "CHANGELOG.md").read_text() == "# My API\n"
    assert api.read_text().endswith("\n# Our own routes follow.\n")
    # The answers given at creation still hold: the post-generation hook left the Docker and CI files out again.
    assert not (project / "Dockerfile").exists()
    assert not (project / ".github").exists()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == git(template, "rev-parse", "HEAD").strip()
    cruft(project, "check")
