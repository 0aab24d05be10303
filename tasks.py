"""The template's commands, for a machine with nothing but Python:

    python3 tasks.py demo     bake the default project into build/demo and serve it locally
    python3 tasks.py test     run every test of the template (further arguments go to pytest)
    python3 tasks.py bench    measure what the generated CORS policy costs (benchmarks/run.py; needs wrk)
    python3 tasks.py lock     after a change to dependencies: the generated project's uv.lock and the root's
                              requirements-dev.txt again, keeping every version still allowed
                              (`lock --upgrade`: the newest of each; `lock --upgrade-package NAME`: of one)

Each creates .venv on first use and installs requirements-dev.txt into it, hashes checked. The
virtual-environment bootstrap is the generated project's own tasks.py, loaded from the template
folder, so the two never drift apart.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TEMPLATE_DIR = ROOT / "{{cookiecutter.project_slug}}"
REQUIREMENTS = ROOT / "requirements-dev.txt"
DEMO_DIR = ROOT / "build" / "demo"
# The lock is made for the default answers: the first python_version is the oldest, so the lock holds
# wheels for every answer. Baking renders back these two lines for the project's own answers.
LOCK_PLACEHOLDERS = {
    "project_slug": ('name = "{}"', 'name = "{{ cookiecutter.project_slug }}"'),
    "python_version": ('requires-python = ">={}"', 'requires-python = ">={{ cookiecutter.python_version }}"'),
}


def load_module(name: str, path: Path):
    """The Python file at `path`, a script rather than an installed module, as module `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_project_tasks():
    return load_module("project_tasks", TEMPLATE_DIR / "tasks.py")


def lock(tool, arguments: list[str]) -> None:
    """Lock the template's pyproject.toml into each of the locks the post-generation hook chooses from (its
    LOCKS), by locking a bake with the lock's answers
    (which starts from the current lock, so uv keeps what still fits) and writing the result back with
    the answer-dependent lines turned into Jinja. Then pin requirements-dev.in the same way. `tool(name)`:
    a program of the root's .venv."""
    uv = [str(tool("uv"))]
    defaults = json.loads((ROOT / "cookiecutter.json").read_text())
    for name, bake_answers in load_module("post_gen_project", ROOT / "hooks" / "post_gen_project.py").LOCKS.items():
        with tempfile.TemporaryDirectory() as output_dir:
            extra = [f"{answer}={value}" for answer, value in bake_answers.items()]
            bake = [tool("cookiecutter"), "--no-input", "--output-dir", output_dir, str(ROOT), *extra]
            subprocess.run(bake, check=True, stdout=subprocess.DEVNULL)
            (project,) = Path(output_dir).iterdir()
            subprocess.run(
                [*uv, "lock", "--project", str(project), "--python", str(tool("python")), *arguments], check=True
            )
            text = (project / "uv.lock").read_text()
        answers = {"project_slug": project.name, "python_version": defaults["python_version"][0]}
        if any(tag in text for tag in ("{{", "{%", "{#")):
            raise SystemExit(f"{name} holds Jinja syntax: it would not bake")
        for answer, (line, placeholder) in LOCK_PLACEHOLDERS.items():
            if text.count(line.format(answers[answer]) + "\n") != 1:
                raise SystemExit(f"{name} has no single {answer} line to put the answer's placeholder in")
            text = text.replace(line.format(answers[answer]) + "\n", placeholder + "\n")
        (TEMPLATE_DIR / name).write_text(text)
    compile_ = [
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--generate-hashes",
        "--python-version",
        answers["python_version"],
    ]
    subprocess.run(
        [*uv, *compile_, *arguments, "--output-file", str(REQUIREMENTS), str(REQUIREMENTS.with_suffix(".in"))],
        check=True,
    )


def main(argv: list[str]) -> int:
    command, arguments = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("demo", "test", "bench", "lock"):
        print(__doc__)
        return 2
    project_tasks = load_project_tasks()
    install = project_tasks.pip_install("--require-hashes", "--requirement", str(REQUIREMENTS))
    venv_dir = project_tasks.ensure_venv(ROOT / ".venv", [REQUIREMENTS], install)
    python = str(project_tasks.venv_bin(venv_dir, "python"))
    if command == "test":
        return subprocess.run([python, "-m", "pytest", *arguments], cwd=ROOT).returncode
    if command == "bench":
        return subprocess.run([python, ROOT / "benchmarks" / "run.py", *arguments], cwd=ROOT).returncode
    if command == "lock":
        lock(functools.partial(project_tasks.venv_bin, venv_dir), arguments)
        return 0
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    bake = [python, "-m", "cookiecutter", "--no-input", "--output-dir", str(DEMO_DIR), str(ROOT)]
    subprocess.run(bake, check=True)
    (project,) = DEMO_DIR.iterdir()
    return subprocess.run([sys.executable, "tasks.py", "serve", *arguments], cwd=project).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
